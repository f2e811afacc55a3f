"""Photos and PDFs sent with an intake: type by content, metadata stripped, sealed."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from haven.audit.models import AuditEntry
from haven.cases import files
from haven.cases.models import Attachment, Case, CaseRecord, RecordKind
from haven.intake import attachments
from haven.vault import open_sealed
from tests.conftest import Persona

from .conftest import SUMMONS_ANSWERS, Visitor, codename_in

pytestmark = pytest.mark.django_db


def photo_with_location() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0132] = "2026:11:01 10:00:00"  # time taken
    exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _to_confirm(visitor: Visitor) -> None:
    visitor.start("summons")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)


def test_a_photo_is_cleaned_and_sealed(alice: Persona, visitor: Visitor) -> None:
    raw = photo_with_location()
    assert b"PhoneMaker" in raw and Image.open(io.BytesIO(raw)).getexif()
    _to_confirm(visitor)
    done = visitor.post_files(visitor.url("confirm/"), {
        "send": "1", "files": SimpleUploadedFile("паспорт Иванов.jpg", raw, "image/jpeg")})
    assert done.status_code == 200, done.content.decode()[:1500]
    codename_in(done)
    record = CaseRecord.objects.get(kind=RecordKind.ATTACHMENT)
    meta = json.loads(alice.case_vault(record.case).decrypt_text(bytes(record.body)))
    assert meta["name"] == "паспорт Иванов.jpg" and meta["type"] == "image/jpeg"
    stored = files.read(Attachment.objects.get(record=record).storage_name)
    assert b"PhoneMaker" not in stored and b"\xff\xd8" not in stored[:8]  # ciphertext on disk
    clear = open_sealed(alice.case_vault(record.case).private_key, stored)
    assert len(clear) == meta["size"]
    cleaned = Image.open(io.BytesIO(clear))
    assert cleaned.size == (64, 48) and not cleaned.getexif() and b"PhoneMaker" not in clear
    entry = AuditEntry.objects.get(case_id=record.case_id, action="case.attachment")
    assert entry.detail == {"record": record.pk, "channel": "web"}  # audited like Telegram's


def test_files_are_judged_by_content_not_name(alice: Persona, visitor: Visitor) -> None:
    _to_confirm(visitor)
    fake = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\necho hello\n", "image/jpeg")
    refused = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": fake})
    assert refused.status_code == 400
    assert "не фото (JPEG, PNG) и не PDF" in refused.content.decode()
    assert not Case.objects.exists()
    pdf = SimpleUploadedFile("scan.txt", b"%PDF-1.4\n%...\n", "text/plain")
    done = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": pdf})
    assert done.status_code == 200
    meta = json.loads(alice.case_vault(CaseRecord.objects.get(kind="attachment").case).decrypt_text(bytes(CaseRecord.objects.get(kind="attachment").body)))
    assert (meta["name"], meta["type"]) == ("scan.pdf", "application/pdf")


def test_too_many_or_too_large_files_are_refused(visitor: Visitor) -> None:
    _to_confirm(visitor)
    many = [SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4", "application/pdf") for i in range(3)]
    refused = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": many})
    assert refused.status_code == 400 and "Можно приложить не больше файлов" in refused.content.decode()
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (attachments.MAX_BYTES + 10), "application/pdf")
    refused = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": big})
    assert refused.status_code == 400 and "больше 10 МБ" in refused.content.decode()
    assert not Case.objects.exists()


def test_a_broken_image_is_refused() -> None:
    with pytest.raises(attachments.AttachmentRefused):
        attachments.clean("x.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    png = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(png, format="PNG", pnginfo=None)
    assert attachments.clean("../../etc/x.png", png.getvalue()).name == "x.png"


def test_the_safe_name_keeps_nothing_dangerous() -> None:
    assert attachments.safe_name("..\\..\\a<b>.exe", attachments.PDF) == "a_b.pdf"
    assert attachments.safe_name("", attachments.JPEG) == "document.jpg"


def test_the_form_warns_that_a_pdf_may_carry_a_name_and_suggests_a_photo(visitor: Visitor) -> None:
    _to_confirm(visitor)
    page = visitor.get(visitor.url("confirm/?lang=en")).content.decode()
    help_text = page.split('id="files-help">', 1)[1].split("</p>", 1)[0]
    assert "a PDF may carry your name or other hidden details (its author" in help_text
    assert "send a photo of the document instead" in help_text
