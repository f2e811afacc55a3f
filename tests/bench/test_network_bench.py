"""The pure helpers of bench/network.py."""

from __future__ import annotations

from bench.network import METRICS, pdf, summary
from haven.intake.attachments import clean


def test_the_filler_pdf_has_the_size_asked_and_passes_the_intake_checks() -> None:
    data = pdf(300_000)
    assert len(data) == 300_000 and data.startswith(b"%PDF-1.4") and data.endswith(b"%EOF\n")
    cleaned = clean("scan.pdf", data)
    assert (cleaned.type, len(cleaned.data)) == ("application/pdf", 300_000)
    assert pdf(300_000) != data  # random: nothing on the way can compress it


def test_the_measurements_are_registered_and_summarised() -> None:
    assert "referral_s" in METRICS
    assert summary([1.23456, 2.5]) == {"runs": [1.235, 2.5], "max": 2.5}
