"""A caseworker in chromium: opens a photo sent through the web form and one sent to the
bot (the fake Telegram), and exports a case file (PDF read back, archive opened with the
passphrase typed on the page)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pyzipper
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from haven.cases import actions
from haven.cases.models import Case, CaseRecord, RecordKind
from haven.intake import attachments
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona, make_case, make_org
from tests.pdf_text import pdf_text
from tests.telegram.conftest import TOKEN, bot, fake, pump, quick_chats  # noqa: F401 (fixtures)
from tests.telegram.test_media_and_clear import _jpeg_with_gps, _linked_phone

from .conftest import NewContext
from .test_intake_browser import EN, _next
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRONG = "violet tractor humming under seven lanterns"


def _photo(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, format="JPEG")
    return out.getvalue()


def _sees_the_photo(page: Page, case: Case, name: str) -> None:
    """On the case page the preview loads; following it shows the photo as an image."""
    page.goto(f"/desk/cases/{case.number}/")
    preview = page.get_by_role("img", name=f"Preview of {name}")
    expect(preview).to_be_visible()
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    with page.expect_response(lambda r: "/view/" in r.url) as shown:
        preview.click()
    response = shown.value
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert page.evaluate("document.images.length && document.images[0].naturalWidth") > 0


def test_a_caseworker_opens_a_photo_sent_through_the_web_form(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    requester = new_context().new_page()
    requester.goto("/o/first/")
    requester.get_by_role("link", name=EN["topic"]).click()
    requester.get_by_role("button", name=EN["start"]).click()
    requester.get_by_label(EN["kind"]).check()
    _next(requester, EN)
    requester.get_by_label(EN["posted"]).fill("2026-11-01")
    _next(requester, EN)
    _next(requester, EN)
    requester.get_by_label(EN["purpose"]).check()
    _next(requester, EN)
    requester.get_by_label(EN["abroad"], exact=True).check()
    _next(requester, EN)
    requester.get_by_label(EN["situation"]).fill("The summons is in the photo.")
    _next(requester, EN)
    photo = tmp_path / "summons.jpg"
    photo.write_bytes(_photo((200, 40, 40)))
    requester.locator("#files").set_input_files(str(photo))
    requester.get_by_role("button", name=EN["send"]).click()
    expect(requester.get_by_role("heading", level=1)).to_have_text(EN["done"])
    case = Case.objects.get(organization=alice.org)
    assert CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).count() == 1

    desk = new_context().new_page()
    desk.goto("/login/")
    _log_in(desk, alice)
    _sees_the_photo(desk, case, "summons.jpg")


def test_a_caseworker_opens_a_photo_sent_to_the_bot(
    new_context: NewContext, live_server: LiveServer, alice: Persona, bot: Bot,  # noqa: F811
    fake: FakeTelegram,  # noqa: F811
) -> None:
    _phone, case = _linked_phone(alice, bot, fake, 8152)
    fake.user_file(TOKEN, 8152, _jpeg_with_gps(), kind="document", name="povestka.jpg")
    pump()
    assert CaseRecord.objects.filter(case=case, kind=RecordKind.ATTACHMENT).count() == 1
    desk = new_context().new_page()
    desk.goto("/login/")
    _log_in(desk, alice)
    _sees_the_photo(desk, case, "povestka.jpg")


def test_a_caseworker_exports_a_case_file_and_an_encrypted_archive(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    case = make_case(alice, "Повестка пришла на адрес регистрации")
    vault = alice.vault()
    actions.add_note(alice.member, vault, case, "For the court: the summons was not signed")
    actions.add_note(alice.member, vault, case, "Internal: call back on Monday")
    for index in range(3):
        actions.add_attachment(case, name=f"page-{index + 1}.jpg", kind=attachments.JPEG,
                               data=_photo((40 * index, 90, 160)), channel="web")
    page = new_context(phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto(f"/desk/cases/{case.number}/")
    page.get_by_role("link", name="Export a case file for court (PDF or encrypted archive)").click()
    page.wait_for_url(f"**/desk/cases/{case.number}/export/")  # measure the export page, not the case
    assert _overflow(page) <= 0  # the export page fits a phone
    page.get_by_label("For the court", exact=False).check()
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download the case file (PDF)").click()
    text = pdf_text(Path(pdf_download.value.path()).read_bytes())
    assert "Повестка пришла на адрес регистрации" in text
    assert "For the court: the summons was not signed" in text
    assert "call back on Monday" not in text
    assert "page-3.jpg" in text

    page.get_by_label("Passphrase for the archive").fill("summons2026")
    page.get_by_role("button", name="Download the encrypted archive").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 12 characters")
    page.get_by_label("Passphrase for the archive").fill(STRONG)
    with page.expect_download() as zip_download:
        page.get_by_role("button", name="Download the encrypted archive").click()
    archive = pyzipper.AESZipFile(zip_download.value.path())
    archive.setpassword(STRONG.encode())
    assert archive.namelist() == [f"case-{case.number}.pdf", "files/01.jpg", "files/02.jpg",
                                  "files/03.jpg"]
    assert archive.read("files/02.jpg") == _photo((40, 90, 160))
    assert "Повестка пришла" in pdf_text(archive.read(f"case-{case.number}.pdf"))
