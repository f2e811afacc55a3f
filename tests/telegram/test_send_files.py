"""A caseworker sends a file to a Telegram requester: through the page, the outbox and a
spooled copy, to the fake Bot API over real HTTP (sendDocument, multipart)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from haven import outbox
from haven.cases.models import Case, CaseRecord, Delivery, RecordKind
from haven.outbox import spool
from haven.outbox.models import Outbox
from haven.telegram import tasks
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, TrackedMessage
from tests.conftest import Persona
from tests.intake import hostile_images as hostile
from tests.intake.test_pdf_scripts import PLAIN, pdf_with

from .conftest import TOKEN, pump, telegram_case
from .test_media_and_clear import _linked_phone

TEMPLATE = PLAIN.replace(b"%%EOF", b"% application template\n" + b"% padding\n" * 20_000 + b"%%EOF")


def spooled() -> list[str]:
    return [name for row in Outbox.objects.all()
            for name in spool.names_in(outbox.open_payload(bytes(row.payload)))]


def _send(client: Client, case: Case, data: bytes, name: str = "заявление.pdf",
          text: str = "Заполните заявление и пришлите фото") -> object:
    return client.post(f"/desk/cases/{case.number}/reply-with-file/",
                       {"text": text, "file": SimpleUploadedFile(name, data, "application/pdf")})


def test_a_template_reaches_a_telegram_requester_as_a_document(
        alice: Persona, alice_client: Client, bot: Bot, fake: FakeTelegram,
        django_capture_on_commit_callbacks: Any) -> None:
    fake.open_chat(TOKEN, 8301)
    case = telegram_case(alice, bot, 8301)
    response = _send(alice_client, case, TEMPLATE)
    assert response.status_code == 302  # type: ignore[attr-defined]
    [name] = spooled()
    assert TEMPLATE not in (spool.folder() / name).read_bytes()  # encrypted on disk
    row = Outbox.objects.get()
    assert len(bytes(row.payload)) < 2000 < len(TEMPLATE)  # the row names the spool, not the file
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction commits nothing
        pump()
    text, document = fake.sent_to(TOKEN, 8301)
    assert "Заполните заявление" in text["text"]
    assert document["document"]["file_name"] == "заявление.pdf"
    assert fake.files[document["document"]["file_id"]] == TEMPLATE
    assert not Outbox.objects.exists() and not (spool.folder() / name).exists()
    reply = CaseRecord.objects.get(case=case, kind=RecordKind.OUTBOUND)
    assert reply.delivery == Delivery.SENT
    assert TrackedMessage.objects.count() == 2  # /clear removes the document too
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "заявление.pdf" in page and "sent to the requester" in page


def test_nothing_is_lost_if_the_worker_dies_between_spool_and_send(
        alice: Persona, bot: Bot, fake: FakeTelegram, django_capture_on_commit_callbacks: Any) -> None:
    from haven.cases import actions
    from haven.intake.attachments import clean

    fake.open_chat(TOKEN, 8302)
    case = telegram_case(alice, bot, 8302)
    actions.reply(alice.member, alice.vault(), case, "Чек-лист", file=clean("checklist.pdf", TEMPLATE))
    [name] = spooled()
    claimed = outbox.claim()  # a worker claims the row ... and is killed before sending
    assert [r.pk for r in claimed] == [Outbox.objects.get().pk]
    assert tasks.send_round() == 0  # leased: nobody else sends it yet
    Outbox.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # the lease ran out
    fake.fail("sendDocument", 0)  # and the next try loses its connection
    tasks.send_round()
    assert (spool.folder() / name).exists() and Outbox.objects.get().attempts == 1
    Outbox.objects.update(next_attempt=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        pump()
    documents = [m for m in fake.sent_to(TOKEN, 8302) if m.get("document")]
    assert len(documents) == 1 and fake.files[documents[0]["document"]["file_id"]] == TEMPLATE
    assert not Outbox.objects.exists() and not (spool.folder() / name).exists()


def test_a_blocked_requester_fails_the_reply_and_the_spool_is_removed(
        alice: Persona, bot: Bot, fake: FakeTelegram, django_capture_on_commit_callbacks: Any) -> None:
    from haven.cases import actions
    from haven.intake.attachments import clean

    fake.open_chat(TOKEN, 8303)
    case = telegram_case(alice, bot, 8303)
    fake.bots[TOKEN].chats[8303].blocked = True
    record = actions.reply(alice.member, alice.vault(), case, "", file=clean("list.pdf", TEMPLATE))
    [name] = spooled()
    with django_capture_on_commit_callbacks(execute=True):
        pump()
    record.refresh_from_db()
    assert record.delivery == Delivery.FAILED and not (spool.folder() / name).exists()


@pytest.mark.parametrize(("name", "data", "words"), [
    ("форма.pdf", pdf_with(b"/OpenAction << /S /JavaScript /JS (x) >>"), "contains scripts"),
    ("форма.pdf", b"PK\x03\x04 really a docx", "save the document as PDF"),
    ("схема.png", hostile.png_of_size(6320, 6320), "at most 24 megapixels"),
])
def test_a_bad_file_is_refused_on_the_case_page_and_nothing_is_stored(
        alice: Persona, alice_client: Client, bot: Bot, fake: FakeTelegram,
        name: str, data: bytes, words: str) -> None:
    case = telegram_case(alice, bot, 8304)
    records = CaseRecord.objects.count()
    response = _send(alice_client, case, data, name=name)
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400 and words in page  # type: ignore[attr-defined]
    assert "Заполните заявление и пришлите фото" in page  # the typed text is given back
    assert CaseRecord.objects.count() == records and not Outbox.objects.exists()


def test_an_oversized_file_is_refused_with_what_to_send_instead(
        alice: Persona, alice_client: Client, bot: Bot) -> None:
    case = telegram_case(alice, bot, 8305)
    response = _send(alice_client, case, b"%PDF-1.4 " + b"0" * (10 * 1024 * 1024 + 10), name="big.pdf")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "is larger than 10 MB. Send a smaller file" in response.content.decode()  # type: ignore[attr-defined]
    assert not Outbox.objects.exists()


def test_another_organizations_member_gets_404_and_nothing_is_sent(
        alice: Persona, charlie_client: Client, bot: Bot) -> None:
    case = telegram_case(alice, bot, 8306)
    assert _send(charlie_client, case, TEMPLATE).status_code == 404  # type: ignore[attr-defined]
    assert not Outbox.objects.exists()
    assert not CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).exists()


def test_a_scripted_pdf_sent_to_the_bot_is_refused_too(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone, case = _linked_phone(alice, bot, fake, 8307)
    fake.user_file(TOKEN, 8307, pdf_with(b"/OpenAction << /S /Launch /F (x.exe) >>"), name="form.pdf",
                   mime="application/pdf")
    pump()
    assert "Файл «form.pdf» содержит скрипты" in phone.last()
    assert not CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).exists()


def test_the_reply_with_a_file_keeps_its_csrf_check(alice: Persona, alice_client: Client, bot: Bot) -> None:
    case = telegram_case(alice, bot, 8308)
    alice_client.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    assert _send(alice_client, case, TEMPLATE).status_code == 403  # type: ignore[attr-defined]
    assert not Outbox.objects.exists() and not spooled()
