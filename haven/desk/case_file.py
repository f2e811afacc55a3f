"""A case file for court: one PDF of the case, and an AES-encrypted ZIP with the originals.

Everything here works on records and files the cases actions already decrypted (and
audited) for the member's request; nothing is written to disk. The archive's passphrase
is the member's: at least ``MIN_PASSPHRASE`` characters and a zxcvbn score of 3 of 4,
the same rule as account passwords, because the archive leaves Haven (a USB stick, an
e-mail to a lawyer) and only the passphrase protects it there.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import pyzipper
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn

from haven.cases import categories
from haven.cases.files import OpenedFile
from haven.cases.models import Case, RecordKind
from haven.core.errors import Refusal
from haven.core.pdf import FAMILY, new_document

from . import file_serving

MIN_PASSPHRASE = 12
MIN_SCORE = 3
THREAD = (RecordKind.INBOUND, RecordKind.OUTBOUND)


class WeakPassphrase(Refusal):
    """The archive's passphrase is too short or too easy to guess."""


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase(_("The passphrase must be at least %(n)d characters long. Use four "
                               "or five unrelated words; nothing was exported.")
                             % {"n": MIN_PASSPHRASE})
    if zxcvbn(passphrase[:100])["score"] < MIN_SCORE:
        raise WeakPassphrase(_("This passphrase is too easy to guess. Add more unrelated words; "
                               "nothing was exported."))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _answers(body: Any) -> list[tuple[str, str]]:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [(str(item.get("question", "")), _text(item.get("answer", "")))
                for item in body["items"] if isinstance(item, dict)]
    if isinstance(body, dict):
        return [(str(key), _text(value)) for key, value in body.items()]
    return [("", _text(body))]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class _Writer:
    def __init__(self, case: Case, author: str) -> None:
        self.pdf = new_document(_("Case file #%(n)d") % {"n": case.number}, author=author)
        self.pdf.add_page()

    def heading(self, text: str, size: int = 14) -> None:
        self.pdf.set_font(FAMILY, "B", size)
        self.pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FAMILY, "", 11)

    def line(self, text: str, *, bold: bool = False) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", 11)
        self.pdf.multi_cell(0, 6, text or " ", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FAMILY, "", 11)

    def gap(self) -> None:
        self.pdf.ln(3)


def case_pdf(case: Case, *, summary: str, author: str, records: list[dict[str, Any]],
             notes: set[int], deadlines: list[dict[str, Any]], opened: list[OpenedFile],
             names: dict[int, str]) -> bytes:
    """The case file: facts, answers, thread, the chosen notes, deadlines, files and images."""
    w = _Writer(case, author)
    w.heading(_("Case file #%(n)d") % {"n": case.number}, 16)
    w.line(summary)
    w.gap()
    for label, value in ((_("Category"), categories.get(case.category).name),
                         (_("Status"), case.get_status_display()),
                         (_("Channel"), case.get_channel_display()),
                         (_("Received"), _when(case.created)),
                         (_("First reply"), _when(case.first_reply_at)),
                         (_("Closed"), _when(case.closed_at)),
                         (_("Exported"), _when(timezone.now()))):
        w.line(f"{label}: {value}")
    for item in records:
        if item["record"].kind == RecordKind.ANSWERS:
            w.gap()
            w.heading(_("Answers to the questionnaire"))
            for question, answer in _answers(item["body"]):
                if question:
                    w.line(question, bold=True)
                w.line(answer)
    w.gap()
    w.heading(_("Thread"))
    for item in records:
        rec = item["record"]
        if rec.kind in THREAD:
            who = (_("Requester") if rec.kind == RecordKind.INBOUND
                   else names.get(rec.author_id or 0, _("Caseworker")))
            w.line(f"{_when(rec.created)} — {who}", bold=True)
            w.line(str(item["body"]))
    chosen = [item for item in records
              if item["record"].kind == RecordKind.NOTE and item["record"].pk in notes]
    if chosen:
        w.gap()
        w.heading(_("Notes"))
        for item in chosen:
            rec = item["record"]
            w.line(f"{_when(rec.created)} — {names.get(rec.author_id or 0, '—')}", bold=True)
            w.line(str(item["body"]))
    if deadlines:
        w.gap()
        w.heading(_("Deadlines"))
        for row in deadlines:
            d = row["deadline"]
            state = (_("done %(when)s") % {"when": _when(d.done_at)}) if d.done_at else _("open")
            w.line(f"{_when(d.due)} — {row['reason']} ({state})")
    if opened:
        w.gap()
        w.heading(_("Attachments"))
        for index, one in enumerate(opened, 1):
            w.line(f"{index:02d}. {file_serving.safe_filename(one.name)} "
                   f"({one.type or '—'}, {formats.number_format(len(one.data))} B)")
        for index, one in enumerate(opened, 1):
            shown = file_serving.shown_image(one.data)
            if shown is None:
                continue
            w.pdf.add_page()
            w.heading(f"{index:02d}. {file_serving.safe_filename(one.name)}", 12)
            w.pdf.image(io.BytesIO(shown[0]), w=w.pdf.epw, keep_aspect_ratio=True,
                        h=w.pdf.eph - 20)
    return bytes(w.pdf.output())


def archive(pdf: bytes, opened: Iterable[OpenedFile], passphrase: str,
            number: int) -> Iterator[bytes]:
    """An AES-256 ZIP (WinZip AES, which 7-Zip and WinZip open) of the case file and the
    original files as received, yielded as each file is added (no second copy in memory).
    WinZip AES leaves names readable, so a file is named by its number and extension only
    (``files/01.jpg``); the PDF's list gives the names."""
    sink = file_serving.Sink()
    with pyzipper.AESZipFile(sink, "w", compression=pyzipper.ZIP_STORED,
                             encryption=pyzipper.WZ_AES) as zipped:
        zipped.setpassword(passphrase.encode())
        zipped.setencryption(pyzipper.WZ_AES, nbits=256)
        zipped.writestr(f"case-{number}.pdf", pdf)
        yield sink.take()
        for index, item in enumerate(opened, 1):
            ext = os.path.splitext(file_serving.safe_filename(item.name))[1]
            zipped.writestr(f"files/{index:02d}{ext}", item.data)
            yield sink.take()
    yield sink.take()
