"""A photo sent to the bot opens on the desk like a photo from the web form."""

from __future__ import annotations

import io

from django.test import Client
from PIL import Image

from haven.audit.models import AuditEntry
from haven.cases.models import CaseRecord, RecordKind
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona

from .conftest import TOKEN, pump
from .test_media_and_clear import _jpeg_with_gps, _linked_phone


def test_a_telegram_photo_opens_on_the_desk_without_its_exif(
        alice: Persona, alice_client: Client, bot: Bot, fake: FakeTelegram) -> None:
    _phone, case = _linked_phone(alice, bot, fake, 8151)
    fake.user_file(TOKEN, 8151, _jpeg_with_gps(), kind="document", name="povestka.jpg")
    pump()
    record = CaseRecord.objects.get(case=case, kind=RecordKind.ATTACHMENT)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert f"/desk/cases/{case.number}/files/{record.pk}/thumbnail/" in page
    response = alice_client.get(f"/desk/cases/{case.number}/files/{record.pk}/view/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(response.content))
    assert shown.size == (40, 30) and not shown.getexif() and b"SpyCam" not in response.content
    assert AuditEntry.objects.filter(case_id=case.pk, action="case.file_opened").count() == 1
