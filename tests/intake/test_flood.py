"""M-5: a flood of fake requests cannot bury real ones.

Beyond the organization's hourly limit new cases are held out of the queues,
the requester sees the same confirmation, and a coordinator releases or
discards them on /desk/held/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.cases.models import Case, Reminder
from haven.intake import flood
from tests.conftest import Persona, add_member, log_in

from .conftest import Visitor, codename_in, complete

pytestmark = pytest.mark.django_db


def _without_secrets(response: object) -> str:
    """The page with its codename and one-time form values taken out."""
    page = response.content.decode().replace(codename_in(response), "")  # type: ignore[attr-defined]
    return re.sub(r'value="[^"]{20,}"|nonce="[^"]*"', "", page)


def test_the_default_limit_is_far_above_a_real_surge(alice: Persona) -> None:
    assert flood.hourly_limit(alice.org) >= 3 * 1000


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=5, HAVEN_INTAKE_HOURLY_LIMITS=["first=2"])
def test_an_organization_can_have_its_own_limit(alice: Persona, charlie: Persona) -> None:
    assert flood.hourly_limit(alice.org) == 2
    assert flood.hourly_limit(charlie.org) == 5


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_beyond_the_limit_web_requests_are_held_and_the_requester_sees_the_same_page(
    alice: Persona, alice_client: Client
) -> None:
    first = complete(Visitor(alice.org.slug))
    second = complete(Visitor(alice.org.slug))
    assert codename_in(first) and codename_in(second)  # both get a codename and the same page
    assert _without_secrets(first) == _without_secrets(second)
    real, held = Case.objects.order_by("number")
    assert (real.held, held.held) == (False, True)
    queue = alice_client.get("/desk/?queue=new").content.decode()
    assert f"/desk/cases/{real.number}/" in queue
    assert f"/desk/cases/{held.number}/" not in queue
    assert "/desk/held/" in queue  # the coordinator is told
    assert AuditEntry.objects.get(case_id=held.pk, action="case.created").detail["held"] is True


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_the_limit_counts_only_the_last_hour(alice: Persona) -> None:
    complete(Visitor(alice.org.slug))
    Case.objects.update(created=timezone.now() - timedelta(minutes=61))
    complete(Visitor(alice.org.slug))
    assert not Case.objects.filter(held=True).exists()


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_a_held_flood_raises_no_duplicate_reminders(alice: Persona) -> None:
    phone = [("kind", "electronic"), ("posted_on", "2026-11-02"), ("report_date", ""),
             ("purpose", "medical"), ("abroad", "no"), ("situation", "Повестка")]
    complete(Visitor(alice.org.slug), phone)
    complete(Visitor(alice.org.slug), phone)
    assert not Reminder.objects.filter(case__held=True).exists()


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_a_coordinator_releases_chosen_held_requests_into_the_queues(alice: Persona) -> None:
    for _ in range(3):
        complete(Visitor(alice.org.slug))
    dana = log_in(Client(), add_member(alice, "dana", Role.COORDINATOR))
    page = dana.get("/desk/held/").content.decode()
    held = list(Case.objects.filter(held=True).order_by("number"))
    assert len(held) == 2 and all(f"/desk/cases/{c.number}/" in page for c in held)
    dana.post("/desk/held/release/", {"which": "selected", "case": [str(held[0].number)]})
    assert list(Case.objects.filter(held=True)) == [held[1]]
    assert f"/desk/cases/{held[0].number}/" in dana.get("/desk/?queue=new").content.decode()
    assert AuditEntry.objects.filter(action="case.released", case_id=held[0].pk).count() == 1
    dana.post("/desk/held/release/", {"which": "all"})
    assert not Case.objects.filter(held=True).exists()


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_discard_all_deletes_every_held_request_and_keeps_the_real_one(
    alice: Persona, alice_client: Client
) -> None:
    for _ in range(3):
        complete(Visitor(alice.org.slug))
    unconfirmed = alice_client.post("/desk/held/discard/", {}, follow=True)
    assert "Tick the box" in unconfirmed.content.decode() and Case.objects.count() == 3
    alice_client.post("/desk/held/discard/", {"confirm": "1"})
    assert Case.objects.count() == 1 and not Case.objects.get().held
    assert AuditEntry.objects.filter(action="case.discarded").count() == 2


def test_caseworkers_cannot_see_or_release_held_requests(bob: Persona, bob_client: Client) -> None:
    assert bob_client.get("/desk/held/").status_code == 404
    assert bob_client.post("/desk/held/release/", {"which": "all"}).status_code == 404
    assert bob_client.post("/desk/held/discard/", {"confirm": "1"}).status_code == 404
