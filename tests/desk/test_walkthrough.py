"""Defects from the user walk-through (issue 12), each seen on the rendered page."""

from __future__ import annotations

from django.test import Client

from haven.cases.models import Reminder
from tests.conftest import Persona, make_case


def test_reminders_without_a_member_show_to_everyone_in_the_organization(
    alice: Persona, bob: Persona, bob_client: Client, charlie_client: Client
) -> None:
    case = make_case(alice, "first request")
    twin = make_case(alice, "same person again")
    Reminder.objects.create(organization=alice.org, case=twin, kind="possible_duplicate",
                            detail={"other": case.number})
    Reminder.objects.create(organization=alice.org, case=case, kind="delivery_failed",
                            detail={"error": "requester-gone"})
    Reminder.objects.create(organization=alice.org, case=case, kind="telegram_blocked")
    Reminder.objects.create(organization=alice.org, case=case, member=alice.member,
                            kind="deadline", detail={"hours": 24})
    page = bob_client.get("/desk/").content.decode()
    assert f"may duplicate case #{case.number}" in page
    assert "a reply could not be delivered" in page
    assert "the requester blocked the Telegram bot" in page
    assert "a deadline is due within 24 hours" not in page  # alice's own reminder
    assert "may duplicate" not in charlie_client.get("/desk/").content.decode()
