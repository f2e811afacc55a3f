from __future__ import annotations

import io
import json

from PIL import Image

from haven.audit.models import AuditEntry
from haven.cases import files
from haven.cases.models import Case, CaseRecord, RecordKind
from haven.telegram import chats
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, TrackedMessage
from tests.conftest import Persona
from tests.intake import hostile_images as hostile

from .conftest import TOKEN, Phone, pump, telegram_case


def _linked_phone(alice: Persona, bot: Bot, fake: FakeTelegram, chat_id: int) -> tuple[Phone, Case]:
    phone = Phone(fake, chat_id)
    phone.send("/start")
    phone.press("l:ru")
    case = telegram_case(alice, bot, chat_id)
    handle = chats.open_chat(bot, chat_id)
    handle.state.case = case.pk
    chats.save(handle)
    return phone, case


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Maker"  # Make
    exif[0x8825] = {2: (55.0, 45.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_fetched_stripped_of_exif_encrypted_and_attached(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone, case = _linked_phone(alice, bot, fake, 8101)
    original = _jpeg_with_gps()
    assert b"SpyCam" in original
    fake.user_file(TOKEN, 8101, original, kind="document", name="povestka.jpg", caption="Вот повестка")
    pump()
    record = CaseRecord.objects.get(case=case, kind=RecordKind.ATTACHMENT)
    meta = json.loads(alice.case_vault(record.case).decrypt_text(bytes(record.body)))
    stored = files.read(record.file.storage_name)
    assert b"SpyCam" not in stored  # ciphertext on disk
    clear = alice.case_vault(record.case).decrypt(stored)
    assert clear.startswith(b"\xff\xd8") and b"SpyCam" not in clear and b"Exif" not in clear
    assert meta["type"] == "image/jpeg" and "povestka" in meta["name"]
    assert "povestka" in phone.last()
    assert case.records.filter(kind=RecordKind.INBOUND).count() == 2  # first message + caption
    entry = AuditEntry.objects.get(case_id=case.pk, action="case.attachment")
    assert entry.detail == {"record": record.pk, "channel": "telegram"}


def test_a_file_over_20_mb_points_to_the_web_form(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone, case = _linked_phone(alice, bot, fake, 8102)
    fake.user_file(TOKEN, 8102, b"%PDF-1.4 tiny", name="big.pdf", mime="application/pdf",
                   size=25 * 1024 * 1024)
    pump()
    assert "/o/first/" in phone.last() and "20 МБ" in phone.last()
    assert not CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).exists()


def test_files_before_a_request_get_a_helpful_answer(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8103)
    phone.send("/start")
    fake.user_file(TOKEN, 8103, _jpeg_with_gps(), kind="photo")
    pump()
    assert "сначала отправьте обращение" in phone.bot_texts()[-1]
    assert not CaseRecord.objects.filter(kind=RecordKind.ATTACHMENT).exists()


def test_clear_this_chat_deletes_what_telegram_allows_and_says_what_it_could_not(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8104)
    phone.send("/start")
    phone.press("l:ru")
    phone.send("привет")
    before = len(phone.screen())
    assert before >= 5
    fake.age(TOKEN, 8104, 3600)  # still inside the 48-hour window
    phone.send("/clear")
    screen = phone.screen()
    assert len(screen) == 1 and "48 часов" in screen[0]
    assert TrackedMessage.objects.count() == 1  # only the notice, until the next /clear


def test_clear_cannot_remove_messages_past_48_hours(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8105)
    phone.send("/start")
    fake.age(TOKEN, 8105, 49 * 3600)
    phone.send("/clear")
    assert len(phone.screen()) == 3  # the old /start and its answer stay, with the notice


def test_erase_burns_the_request_after_a_confirmation(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone, case = _linked_phone(alice, bot, fake, 8106)
    phone.send("/erase")
    phone.press("e:", label="")
    case.refresh_from_db()
    assert case.erased and not case.summary
    assert not CaseRecord.objects.filter(case=case).exists()
    assert "обращение удалено" in "\n".join(phone.bot_texts()[-2:])


def test_location_and_contacts_are_removed_from_the_chat(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8107)
    phone.send("/start")
    fake.user_message(TOKEN, 8107, location={"latitude": 55.7, "longitude": 37.6})
    pump()
    assert not any(m.get("location") for m in fake.visible(TOKEN, 8107))
    assert "геопозицию" in phone.last()


def test_a_broken_or_oversized_image_is_refused_in_the_chat_and_not_attached(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    """Penetration test F1 and F5 through the bot: the same cleaning as the web form."""
    phone, case = _linked_phone(alice, bot, fake, 8120)
    fake.user_file(TOKEN, 8120, hostile.png_with_a_broken_chunk(), name="scan.png", mime="image/png")
    pump()
    assert "Файл «scan.png» не удалось прочитать как изображение" in phone.last()
    fake.user_file(TOKEN, 8120, hostile.png_of_size(6320, 6320), name="bomb.png", mime="image/png")
    pump()
    assert "Файл «bomb.png» слишком большой: не больше 24 Мп." in phone.last()
    assert not CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).exists()


def test_a_photo_from_the_bot_keeps_no_comment_or_colour_profile(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    """Security review L-1 through the bot: the image is rebuilt from its pixels."""
    _phone, case = _linked_phone(alice, bot, fake, 8121)
    fake.user_file(TOKEN, 8121, hostile.jpeg_with_everything(), name="povestka.jpg")
    pump()
    record = CaseRecord.objects.get(case=case, kind=RecordKind.ATTACHMENT)
    clear = alice.case_vault(record.case).decrypt(files.read(record.file.storage_name))
    assert clear.startswith(b"\xff\xd8") and [s for s in hostile.SECRETS if s in clear] == []
