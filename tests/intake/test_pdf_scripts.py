"""PDFs that can act when opened are refused on every channel; ordinary PDFs pass."""

from __future__ import annotations

import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from haven.cases.models import Case
from haven.intake import attachments
from tests.conftest import Persona

from .conftest import SUMMONS_ANSWERS, Visitor

PLAIN = (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] >> >> endobj\n"
         b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def pdf_with(dictionary: bytes, *, packed: bool = False) -> bytes:
    """A small PDF whose catalog opens ``dictionary``; ``packed``: inside a Flate object stream."""
    if not packed:
        return b"%PDF-1.7\n1 0 obj << /Type /Catalog " + dictionary + b" >> endobj\n%%EOF\n"
    body = zlib.compress(b"3 0 << " + dictionary + b" >>")
    return (b"%PDF-1.7\n4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
            + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream\nendobj\n%%EOF\n")


@pytest.mark.parametrize("dictionary", [
    b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
    b"/OpenAction << /S /#4A#61vaScript /#4A#53 (app.alert(1)) >>",  # the same, #-escaped
    b"/OpenAction << /S /Launch /F (cmd.exe) >>",
    b"/Names << /EmbeddedFiles << /Names [(a.exe) 5 0 R] >> >>",
    b"/AcroForm << /XFA 6 0 R >>",
    b"/AA << /O << /S /SubmitForm /F (https://example.org) >> >>",
])
@pytest.mark.parametrize("packed", [False, True])
def test_a_pdf_that_can_act_is_refused_with_what_to_send_instead(dictionary: bytes, packed: bool) -> None:
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean("template.pdf", pdf_with(dictionary, packed=packed))
    assert "“template.pdf” contains scripts" in str(refused.value)
    assert "send photos of the pages" in str(refused.value)


def test_an_ordinary_pdf_and_a_fillable_form_are_kept_as_sent() -> None:
    assert attachments.clean("form.pdf", PLAIN).data == PLAIN
    assert attachments.clean("links.pdf", pdf_with(b"/OpenAction [3 0 R /Fit]")).type == attachments.PDF


def test_an_encrypted_pdf_is_refused_because_it_cannot_be_checked() -> None:
    with pytest.raises(attachments.AttachmentRefused, match="encrypted or password-protected"):
        attachments.clean("locked.pdf", PLAIN.replace(b"trailer <<", b"trailer << /Encrypt 9 0 R"))


def test_a_pdf_stream_that_unpacks_to_a_bomb_is_refused_without_unpacking_it_all() -> None:
    bomb = zlib.compress(b"\0" * (attachments.MAX_BYTES * 8), 9)  # 80 MB of zeros in ~80 KB
    data = b"%PDF-1.7\n1 0 obj << /Length 1 >>\nstream\n" + bomb + b"\nendstream\nendobj\n"
    with pytest.raises(attachments.AttachmentRefused, match="unpacks to far more"):
        attachments.clean("bomb.pdf", data)


def test_a_file_that_is_not_what_its_name_says_is_told_what_to_send(alice: Persona) -> None:
    with translation.override("en"), pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean("template.pdf", b"PK\x03\x04 a docx really")
    assert "Send a photo of the paper, or save the document as PDF." in str(refused.value)


@pytest.mark.django_db
def test_the_web_intake_refuses_a_scripted_pdf_and_stores_nothing(alice: Persona, visitor: Visitor) -> None:
    visitor.start("summons")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    scripted = SimpleUploadedFile("повестка.pdf", pdf_with(b"/OpenAction << /S /JavaScript /JS (x) >>"),
                                  "application/pdf")
    refused = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": scripted})
    assert refused.status_code == 400
    assert "Файл «повестка.pdf» содержит скрипты" in refused.content.decode()
    assert not Case.objects.exists()
