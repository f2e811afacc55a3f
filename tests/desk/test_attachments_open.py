"""A member opens a case's attachments: images in the browser, other files downloaded,
all of them as one ZIP; decrypted per request, never cached, every opening audited."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from PIL import Image

from haven.accounts import rights
from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.cases import actions
from haven.cases.models import Attachment, Case, Channel
from haven.intake import attachments
from tests.conftest import Persona, add_member, log_in, make_case
from tests.intake.test_attachments import photo_with_location

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"


def attach(case: Case, name: str, data: bytes, kind: str, channel: str = "web") -> Attachment:
    return actions.add_attachment(case, name=name, kind=kind, data=data, channel=channel)


def url(case: Case, attachment: Attachment, how: str) -> str:
    return f"/desk/cases/{case.number}/files/{attachment.record_id}/{how}/"


def assert_guarded(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in headers["Cache-Control"]


def openings(case: Case) -> list[dict[str, object]]:
    return [e.detail for e in AuditEntry.objects.filter(case_id=case.pk, action="case.file_opened")
            .order_by("seq")]


def test_an_image_opens_in_the_browser_re_encoded_without_its_exif(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    raw = photo_with_location()  # stored as is: an image that never went through intake's cleaning
    photo = attach(case, "summons.jpg", raw, attachments.JPEG)
    response = alice_client.get(url(case, photo, "view"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert_guarded(response)
    shown = Image.open(io.BytesIO(response.content))
    shown.load()
    assert shown.format == "JPEG" and shown.size == (64, 48)
    assert not shown.getexif() and b"PhoneMaker" not in response.content
    entry = AuditEntry.objects.get(case_id=case.pk, action="case.file_opened")
    assert entry.actor_id == alice.member.pk
    assert entry.detail == {"record": photo.record_id, "how": "view"}


def test_an_image_cleaned_at_intake_is_shown_as_stored(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    clean = attachments.clean("photo.jpg", photo_with_location())
    photo = attach(case, clean.name, clean.data, clean.type)
    response = alice_client.get(url(case, photo, "view"))
    assert response.status_code == 200 and response.content == clean.data


def test_the_preview_is_a_small_jpeg_without_metadata(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    big = io.BytesIO()
    Image.new("RGB", (1600, 1200), (10, 120, 200)).save(big, format="PNG")
    photo = attach(case, "scan.png", big.getvalue(), attachments.PNG)
    response = alice_client.get(url(case, photo, "thumbnail"))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert_guarded(response)
    small = Image.open(io.BytesIO(response.content))
    assert small.format == "JPEG" and max(small.size) <= 320 and not small.getexif()
    assert openings(case) == [{"record": photo.record_id, "how": "thumbnail"}]


def test_a_pdf_is_downloaded_never_rendered(alice: Persona, bob: Persona) -> None:
    client = log_in(Client(), bob)  # a caseworker may read the case too
    case = make_case(alice)
    pdf = attach(case, "решение комиссии.pdf", PDF, attachments.PDF)
    for how in ("view", "download"):
        response = client.get(url(case, pdf, how))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")
        assert "filename*=utf-8''%D1%80%D0%B5%D1%88" in response["Content-Disposition"]
        assert_guarded(response)
        assert response.content == PDF
    assert client.get(url(case, pdf, "thumbnail")).status_code == 404
    assert [d["how"] for d in openings(case)] == ["view", "download", "thumbnail"]
    assert AuditEntry.objects.filter(case_id=case.pk, actor_id=bob.member.pk,
                                     action="case.file_opened").count() == 3


def test_a_file_that_only_claims_to_be_an_image_is_downloaded(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    page = b"<html><script>alert(1)</script></html>"
    fake = attach(case, "photo.png", page, attachments.PNG)
    response = alice_client.get(url(case, fake, "view"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert_guarded(response)
    assert alice_client.get(url(case, fake, "thumbnail")).status_code == 404


def test_all_files_come_as_one_zip_with_clean_names(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    attach(case, "../../etc/passwd.jpg", attachments.clean("x.jpg", photo_with_location()).data,
           attachments.JPEG)
    attach(case, 'a\\b"\r\nc.pdf', PDF, attachments.PDF)
    response = alice_client.get(f"/desk/cases/{case.number}/files/all.zip")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith("attachment")
    assert_guarded(response)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["01-passwd.jpg", "02-b_c.pdf"]
    assert archive.read("02-b_c.pdf") == PDF
    assert not Image.open(io.BytesIO(archive.read("01-passwd.jpg"))).getexif()
    entry = AuditEntry.objects.get(case_id=case.pk, action="case.files_archived")
    assert entry.detail == {"count": 2} and entry.actor_id == alice.member.pk


def test_the_case_page_shows_previews_and_links(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    photo = attach(case, "summons.jpg", attachments.clean("s.jpg", photo_with_location()).data,
                   attachments.JPEG)
    pdf = attach(case, "contract.pdf", PDF, attachments.PDF)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert f'src="{url(case, photo, "thumbnail")}"' in page
    assert f'href="{url(case, photo, "view")}"' in page
    assert f'href="{url(case, pdf, "download")}"' in page
    assert url(case, pdf, "thumbnail") not in page
    assert f"/desk/cases/{case.number}/files/all.zip" in page
    assert openings(case) == []  # rendering the page opens no file; the browser asks for previews


def test_a_case_without_files_offers_no_archive(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    assert "files/all.zip" not in alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert alice_client.get(f"/desk/cases/{case.number}/files/all.zip").status_code == 404


def test_a_telegram_photo_opens_like_a_web_photo(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice, channel=Channel.TELEGRAM)
    clean = attachments.clean("photo.jpg", photo_with_location())
    photo = attach(case, clean.name, clean.data, clean.type, channel="telegram")
    response = alice_client.get(url(case, photo, "view"))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert openings(case) == [{"record": photo.record_id, "how": "view"}]


def test_another_organization_gets_404_and_opens_nothing(
    alice: Persona, charlie: Persona, charlie_client: Client
) -> None:
    make_case(alice)
    case = make_case(alice, text="with a photo")  # number 2: charlie's organization has no #2
    photo = attach(case, "summons.jpg", photo_with_location(), attachments.JPEG)
    theirs = make_case(charlie)
    for how in ("view", "thumbnail", "download"):
        assert charlie_client.get(url(case, photo, how)).status_code == 404
        assert charlie_client.get(url(theirs, photo, how)).status_code == 404  # own case, our file
    assert charlie_client.get(f"/desk/cases/{case.number}/files/all.zip").status_code == 404
    assert not AuditEntry.objects.filter(action__in=["case.file_opened",
                                                     "case.files_archived"]).exists()


def test_a_file_of_another_case_or_an_unknown_way_is_404(alice: Persona, alice_client: Client) -> None:
    case, other = make_case(alice), make_case(alice, text="another")
    photo = attach(case, "summons.jpg", photo_with_location(), attachments.JPEG)
    assert alice_client.get(url(other, photo, "view")).status_code == 404
    assert alice_client.get(url(case, photo, "render")).status_code == 404
    first_record = case.records.order_by("pk").first()
    assert first_record is not None and first_record.pk != photo.record_id
    assert alice_client.get(f"/desk/cases/{case.number}/files/{first_record.pk}/view/").status_code == 404
    assert openings(case) == []


def test_a_member_without_the_right_to_read_cases_gets_404(
    alice: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = add_member(alice, "vera", Role.VIEWER)
    client = log_in(Client(), viewer)
    case = make_case(alice)
    photo = attach(case, "summons.jpg", photo_with_location(), attachments.JPEG)
    assert client.get(url(case, photo, "view")).status_code == 200  # viewers read cases today
    monkeypatch.setitem(rights.RIGHTS, Role.VIEWER, frozenset())
    for how in ("view", "thumbnail", "download"):
        assert client.get(url(case, photo, how)).status_code == 404
    assert client.get(f"/desk/cases/{case.number}/files/all.zip").status_code == 404
    assert len(openings(case)) == 1


def _jpeg_with_comment_and_profile() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (5, 5, 5)).save(out, format="JPEG", comment=b"Ivanov phone",
                                               icc_profile=b"SpyPhone profile" * 8)
    return out.getvalue()


def _png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Ivanov")
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (5, 5, 5)).save(out, format="PNG", pnginfo=info,
                                               icc_profile=b"SpyPhone profile" * 8)
    return out.getvalue()


@pytest.mark.parametrize(("raw", "kind"), [(_jpeg_with_comment_and_profile(), attachments.JPEG),
                                           (_png_with_text(), attachments.PNG)])
def test_comments_profiles_and_text_chunks_never_reach_the_browser(
    alice: Persona, alice_client: Client, raw: bytes, kind: str
) -> None:
    assert {"icc_profile"} <= set(Image.open(io.BytesIO(raw)).info)
    case = make_case(alice)
    photo = attach(case, "photo", raw, kind)
    for how in ("view", "thumbnail"):
        shown = alice_client.get(url(case, photo, how)).content
        assert _metadata(shown) == set()
        assert Image.open(io.BytesIO(shown)).size[0] == 30
    # ...and intake's own cleaning drops them before the file is stored.
    cleaned = attachments.clean(f"photo.{attachments.EXTENSIONS[kind]}", raw).data
    assert _metadata(cleaned) == set()


def _metadata(data: bytes) -> set[str]:
    found = set(Image.open(io.BytesIO(data)).info) & {"comment", "icc_profile", "Author", "exif"}
    return found | ({"text"} if b"Ivanov" in data or b"SpyPhone" in data else set())
