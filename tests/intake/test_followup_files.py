"""Files in the web follow-up: the desk sends a template the requester downloads with their
codename; the requester adds files the caseworker sees on the case."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haven import outbox
from haven.cases import files
from haven.cases.models import Attachment, Case, CaseRecord
from haven.intake.models import RequesterFile, RequesterMessage
from haven.outbox import spool
from haven.outbox.models import Outbox
from tests.conftest import Persona

from .conftest import Visitor, codename_in, complete
from .test_attachments import photo_with_location
from .test_pdf_scripts import PLAIN, pdf_with

pytestmark = pytest.mark.django_db
TEMPLATE = PLAIN.replace(b"%%EOF", b"% checklist for the commission\n%%EOF")


@pytest.fixture
def sent(alice: Persona, visitor: Visitor) -> tuple[Case, str]:
    code = codename_in(complete(visitor))
    return Case.objects.get(organization=alice.org), code


def _thread(visitor: Visitor, code: str, status: int = 200, **data: Any) -> str:
    response = visitor.post_files(visitor.url("follow-up/"), {"codename": code, **data})
    assert response.status_code == status, response.content.decode()[:1500]
    return response.content.decode()


def _send_template(alice_client: Client, case: Case, capture: Any) -> None:
    response = alice_client.post(f"/desk/cases/{case.number}/reply-with-file/", {
        "text": "Вот чек-лист для комиссии.",
        "file": SimpleUploadedFile("чек-лист.pdf", TEMPLATE, "application/pdf")})
    assert response.status_code == 302
    [name] = [n for row in Outbox.objects.all()
              for n in spool.names_in(outbox.open_payload(bytes(row.payload)))]
    with capture(execute=True):
        assert outbox.run_once().sent == 1
    assert not (spool.folder() / name).exists() and not Outbox.objects.exists()


def test_a_web_requester_downloads_the_template_with_their_codename(
        alice_client: Client, visitor: Visitor, sent: tuple[Case, str],
        django_capture_on_commit_callbacks: Any) -> None:
    case, code = sent
    _send_template(alice_client, case, django_capture_on_commit_callbacks)
    page = _thread(visitor, code)
    assert "Вот чек-лист для комиссии." in page and "Скачать чек-лист.pdf" in page
    file_id = re.search(r'name="file" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    download = visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "download",
                                                       "file": file_id})
    assert download.status_code == 200 and download.content == TEMPLATE
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Cache-Control"].startswith("no-store")
    stored = RequesterFile.objects.get()
    assert TEMPLATE not in files.read(stored.storage_name)  # sealed to the requester
    wrong = visitor.post(visitor.url("follow-up/"), {"codename": "wrong words here", "action": "download",
                                                    "file": file_id})
    assert wrong.status_code == 400 and wrong.content != TEMPLATE


def test_another_requesters_file_is_not_theirs_to_download(
        alice: Persona, alice_client: Client, visitor: Visitor, sent: tuple[Case, str],
        django_capture_on_commit_callbacks: Any) -> None:
    case, _code = sent
    _send_template(alice_client, case, django_capture_on_commit_callbacks)
    other = Visitor(alice.org.slug)
    other_code = codename_in(complete(other))
    response = other.post(other.url("follow-up/"), {"codename": other_code, "action": "download",
                                                    "file": str(RequesterFile.objects.get().pk)})
    assert response.status_code == 404 and response.content != TEMPLATE


def test_a_requester_adds_files_and_the_caseworker_sees_them_cleaned(
        alice: Persona, alice_client: Client, visitor: Visitor, sent: tuple[Case, str]) -> None:
    case, code = sent
    page = _thread(visitor, code)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    page = _thread(visitor, code, action="send", token=token, message="Вот решение комиссии", files=[
        SimpleUploadedFile("решение.jpg", photo_with_location(), "image/jpeg"),
        SimpleUploadedFile("справка.pdf", TEMPLATE, "application/pdf")])
    assert "Ваше сообщение отправлено." in page
    assert "Файл: решение.jpg" in page and "Файл: справка.pdf" in page  # no download: theirs
    names = {json.loads(alice.case_vault(case).decrypt_text(bytes(a.record.body)))["name"]
             for a in Attachment.objects.filter(record__case=case).select_related("record")}
    assert names == {"решение.jpg", "справка.pdf"}
    desk = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "решение.jpg" in desk and "справка.pdf" in desk and "Вот решение комиссии" in desk
    opened = [files.open_file(alice.case_vault(case), a) for a in Attachment.objects.filter(record__case=case)]
    jpeg = next(o for o in opened if o.name == "решение.jpg")
    assert b"PhoneMaker" not in jpeg.data  # cleaned like intake's files


def test_a_file_alone_is_a_message(alice: Persona, visitor: Visitor, sent: tuple[Case, str]) -> None:
    case, code = sent
    page = _thread(visitor, code, action="send", token="t1", message="",
                   files=SimpleUploadedFile("скан.pdf", TEMPLATE, "application/pdf"))
    assert "Ваше сообщение отправлено." in page and "Файл: скан.pdf" in page
    assert Attachment.objects.filter(record__case=case).count() == 1


@pytest.mark.parametrize(("upload", "words"), [
    (SimpleUploadedFile("форма.pdf", pdf_with(b"/OpenAction << /S /JavaScript /JS (x) >>")),
     "Файл «форма.pdf» содержит скрипты"),
    (SimpleUploadedFile("фото.jpg", b"#!/bin/sh\necho hi\n"), "Пришлите фото бумаги"),
    ([SimpleUploadedFile(f"{n}.pdf", TEMPLATE) for n in range(4)], "не больше 3 файлов"),
    (SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"0" * (10 * 1024 * 1024 + 10)), "больше 10 МБ"),
])
def test_a_bad_file_in_the_follow_up_is_refused_and_nothing_is_stored(
        visitor: Visitor, sent: tuple[Case, str], upload: Any, words: str) -> None:
    case, code = sent
    before = (RequesterMessage.objects.count(), CaseRecord.objects.filter(case=case).count())
    page = _thread(visitor, code, status=400, action="send", token="t2", message="Вот файл",
                   files=upload)
    assert words in page and "Ничего не отправлено." in page
    assert "Вот файл" in page  # the text is given back
    assert (RequesterMessage.objects.count(), CaseRecord.objects.filter(case=case).count()) == before


def test_erasing_the_request_removes_the_files_sent_to_it(
        alice_client: Client, visitor: Visitor, sent: tuple[Case, str],
        django_capture_on_commit_callbacks: Any) -> None:
    case, code = sent
    _send_template(alice_client, case, django_capture_on_commit_callbacks)
    stored = RequesterFile.objects.get().storage_name
    _thread(visitor, code, action="erase_confirmed")
    assert not RequesterFile.objects.exists()
    with pytest.raises(FileNotFoundError):
        files.read(stored)
