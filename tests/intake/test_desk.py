"""What members do with intake: settings, the fraud flag, possible duplicates."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.cases.models import Case, Reminder
from haven.intake.models import CaseFingerprint, IntakeSettings
from tests.conftest import Persona, add_member, log_in

from .conftest import Visitor, complete

pytestmark = pytest.mark.django_db

MONEY = [("purpose", ["tickets", "documents"]), ("currency", "eur"), ("amount", "1 200"),
         ("known", "no"), ("phone", "+7 (900) 123-45-67"), ("situation", "Нужно купить билеты")]


def test_an_admin_chooses_topics_and_words(alice: Persona, alice_client: Client) -> None:
    page = alice_client.get("/intake/settings/")
    assert page.status_code == 200
    saved = alice_client.post("/intake/settings/", {
        "enabled": ["acs", "summons"], "description_ru": "Мы — сеть юристов.",
        "description_uk": "", "description_en": "We are lawyers.",
        "retention_ru": "Обращения хранятся 90 дней.", "retention_uk": "", "retention_en": "",
    })
    assert saved.status_code == 302
    row = IntakeSettings.objects.get(organization=alice.org)
    assert row.enabled == ["acs", "summons"]
    assert AuditEntry.objects.filter(action="intake.settings").count() == 1
    visitor = Visitor(alice.org.slug)
    start = visitor.get(visitor.url("?lang=ru")).content.decode()
    assert "Мы — сеть юристов." in start
    assert "?topic=acs" in start and "?topic=money" not in start
    assert visitor.get(visitor.url("consent/?topic=money")).status_code == 302
    assert "Обращения хранятся 90 дней." in visitor.get(visitor.url("consent/?topic=acs")).content.decode()


def test_only_admins_see_the_settings(bob: Persona, bob_client: Client, charlie_client: Client) -> None:
    assert bob_client.get("/intake/settings/").status_code == 404
    assert Client().get("/intake/settings/").status_code == 302  # to the login page


def test_a_coordinator_marks_suspected_fraud(alice: Persona, visitor: Visitor) -> None:
    complete(visitor)
    case = Case.objects.get()
    dana = add_member(alice, "dana", Role.COORDINATOR)
    client = log_in(Client(), dana)
    marked = client.post(f"/intake/cases/{case.number}/fraud/",
                         {"suspected": "1", "next": f"/desk/cases/{case.number}/"})
    assert marked.status_code == 302 and marked.headers["Location"] == f"/desk/cases/{case.number}/"
    case.refresh_from_db()
    assert case.fraud_suspected
    entry = AuditEntry.objects.get(action="case.fraud")
    assert (entry.actor_id, entry.case_id, entry.detail) == (dana.member.pk, case.pk, {"suspected": True})
    cleared = client.post(f"/intake/cases/{case.number}/fraud/", {"suspected": "0", "next": "https://evil.example/"})
    assert cleared.headers["Location"] == "/desk/"
    case.refresh_from_db()
    assert not case.fraud_suspected


def test_caseworkers_and_other_organizations_cannot_mark_fraud(
    alice: Persona, bob_client: Client, charlie_client: Client, visitor: Visitor
) -> None:
    complete(visitor)
    case = Case.objects.get()
    # 404 like a missing case (pentest F11: it was 403 for an existing case, 404 for a missing one)
    assert bob_client.post(f"/intake/cases/{case.number}/fraud/", {"suspected": "1"}).status_code == 404
    assert bob_client.post("/intake/cases/999/fraud/", {"suspected": "1"}).status_code == 404
    assert charlie_client.post(f"/intake/cases/{case.number}/fraud/", {"suspected": "1"}).status_code == 404
    assert charlie_client.post("/intake/cases/999/fraud/", {"suspected": "1"}).status_code == 404
    case.refresh_from_db()
    assert not case.fraud_suspected


def test_the_same_phone_number_flags_a_possible_duplicate_when_a_member_looks(
    alice: Persona, alice_client: Client, charlie: Persona, charlie_client: Client,
) -> None:
    complete(Visitor(alice.org.slug), MONEY, "money")
    again = [(k, "8 900 123 45 67" if k == "phone" else v) for k, v in MONEY]
    complete(Visitor(alice.org.slug), again, "money")
    complete(Visitor(charlie.org.slug), MONEY, "money")  # another organization: not a duplicate
    # Intake has no member key: nothing is hashed or compared yet.
    assert not Reminder.objects.exists()
    assert set(CaseFingerprint.objects.values_list("hash", flat=True)) == {""}
    first, second = Case.objects.filter(organization=alice.org).order_by("number")
    page = alice_client.get("/desk/").content.decode()
    reminder = Reminder.objects.get(kind="possible_duplicate")
    assert (reminder.case, reminder.detail) == (second, {"other": first.number})
    assert f"may duplicate case #{first.number}" in page
    charlie_client.get("/desk/")
    assert Reminder.objects.count() == 1
    rows = CaseFingerprint.objects.all()
    assert all(r.sealed is None and r.hash for r in rows)  # the sealed copies are wiped
    ours = {r.hash for r in rows if r.organization_id == alice.org.pk}
    theirs = {r.hash for r in rows if r.organization_id == charlie.org.pk}
    assert len(ours) == 1 and len(theirs) == 1 and ours != theirs  # no link across organizations


def test_a_closed_case_is_not_a_duplicate(alice: Persona) -> None:
    from haven.cases import actions
    from haven.cases.models import Status

    complete(Visitor(alice.org.slug), MONEY, "money")
    first = Case.objects.get()
    actions.set_status(alice.member, first, Status.CLOSED, first.version)
    complete(Visitor(alice.org.slug), MONEY, "money")
    log_in(Client(), alice).get("/desk/")
    assert not Reminder.objects.filter(kind="possible_duplicate").exists()
