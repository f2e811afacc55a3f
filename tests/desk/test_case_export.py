"""A caseworker exports a case file for court: a PDF, an AES archive under a passphrase
they type (a weak one refused), and a coordinator the list of cases as CSV without
content; every export audited, never cached, another organization gets 404."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import pyzipper
from django.test import Client
from django.utils import timezone
from PIL import Image

from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.cases import actions
from haven.cases.models import Case
from haven.intake import attachments
from tests.conftest import Persona, add_member, log_in, make_case
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.django_db

STRONG = "violet tractor humming under seven lanterns"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def full_case(persona: Persona) -> tuple[Case, int, int]:
    case = make_case(persona, "Повестка в военкомат на 12 марта")
    vault = persona.vault()
    actions.reply(persona.member, vault, case, "Не ходите один, мы поможем")
    chosen = actions.add_note(persona.member, vault, case, "Chosen note for the court").pk
    left = actions.add_note(persona.member, vault, case, "Private guess, not for court").pk
    actions.add_deadline(persona.member, vault, case, timezone.now() + timedelta(days=10),
                         "Appeal to the district court")
    actions.add_attachment(case, name="повестка.jpg", kind=attachments.JPEG, data=photo(),
                           channel="web")
    actions.add_attachment(case, name="claim.pdf", kind=attachments.PDF,
                           data=b"%PDF-1.4\n%%EOF\n", channel="web")
    return case, chosen, left


def exports(case: Case) -> list[dict[str, object]]:
    return [e.detail for e in AuditEntry.objects.filter(case_id=case.pk, action="case.exported")]


def test_the_pdf_holds_answers_thread_chosen_notes_and_files(
    alice: Persona, alice_client: Client, channel: object
) -> None:
    case, chosen, _left = full_case(alice)
    page = alice_client.get(f"/desk/cases/{case.number}/")
    assert f"/desk/cases/{case.number}/export/" in page.content.decode()
    form = alice_client.get(f"/desk/cases/{case.number}/export/")
    assert "Chosen note for the court" in form.content.decode()
    response = alice_client.post(f"/desk/cases/{case.number}/export/",
                                 {"what": "pdf", "notes": [str(chosen)]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert "Повестка в военкомат на 12 марта" in text
    assert "Не ходите один, мы поможем" in text
    assert "Chosen note for the court" in text
    assert "Private guess" not in text
    assert "Appeal to the district court" in text
    assert "повестка.jpg" in text and "claim.pdf" in text
    assert response.content.count(b"/Subtype /Image") == 1  # the photo, not the PDF
    assert exports(case) == [{"what": "pdf", "notes": 1, "files": 2}]


def test_a_caseworker_may_export(alice: Persona, bob_client: Client, channel: object) -> None:
    case, _chosen, _left = full_case(alice)
    response = bob_client.post(f"/desk/cases/{case.number}/export/", {"what": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Chosen note" not in pdf_text(response.content)  # no note ticked


def test_the_archive_opens_with_the_passphrase_and_holds_the_originals(
    alice: Persona, alice_client: Client, channel: object
) -> None:
    case, _chosen, _left = full_case(alice)
    response = alice_client.post(f"/desk/cases/{case.number}/export/",
                                 {"what": "archive", "passphrase": STRONG})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    archive = pyzipper.AESZipFile(io.BytesIO(content))
    names = archive.namelist()
    assert names == [f"case-{case.number}.pdf", "files/01.jpg", "files/02.pdf"]
    assert "повестка".encode() not in content  # names are readable in a WinZip AES zip
    with pytest.raises(RuntimeError):
        archive.read(names[2])  # no passphrase, no file
    archive.setpassword(STRONG.encode())
    assert archive.read(names[1]) == photo()
    assert archive.read(names[2]) == b"%PDF-1.4\n%%EOF\n"
    assert "Не ходите один" in pdf_text(archive.read(names[0]))
    assert exports(case) == [{"what": "archive", "notes": 0, "files": 2}]


@pytest.mark.parametrize("weak", ["short", "password1234", "aaaaaaaaaaaaaaaa"])
def test_a_weak_passphrase_is_refused_and_nothing_is_exported(
    alice: Persona, alice_client: Client, channel: object, weak: str
) -> None:
    case, _chosen, _left = full_case(alice)
    response = alice_client.post(f"/desk/cases/{case.number}/export/",
                                 {"what": "archive", "passphrase": weak})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "nothing was exported" in response.content.decode()
    assert exports(case) == []


def test_another_organization_and_a_viewer_get_404(
    alice: Persona, charlie_client: Client, channel: object
) -> None:
    case, _chosen, _left = full_case(alice)
    viewer = log_in(Client(), add_member(alice, "vera", Role.VIEWER))
    for client in (charlie_client, viewer):
        assert client.get(f"/desk/cases/{case.number}/export/").status_code == 404
        assert client.post(f"/desk/cases/{case.number}/export/",
                           {"what": "pdf"}).status_code == 404
    assert viewer.get("/desk/cases.csv").status_code == 404
    assert exports(case) == []


def test_the_csv_has_metadata_and_no_content(
    alice: Persona, alice_client: Client, bob_client: Client, charlie: Persona, channel: object
) -> None:
    case, _chosen, _left = full_case(alice)
    make_case(charlie, "Other organization's case")
    assert bob_client.get("/desk/cases.csv").status_code == 404  # a caseworker: no report
    response = alice_client.get("/desk/cases.csv")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == ["number", "category", "status", "priority", "channel", "created",
                             "first_reply", "closed"]
    assert [r["number"] for r in rows] == [str(case.number)]
    assert rows[0]["category"] == "summons" and rows[0]["channel"] == "web"
    assert rows[0]["first_reply"]  # the reply above
    for word in ("Повестка", "Не ходите", "note", "повестка.jpg", "Other"):
        assert word not in body
    entry = AuditEntry.objects.filter(organization_id=alice.org.pk, action="case.exported").get()
    assert entry.detail == {"what": "csv", "count": 1} and entry.case_id is None
