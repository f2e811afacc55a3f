"""Hostile input on the desk (penetration test F2-F4): a 404 or a refusal in words, never a 500.

Each request is made with a client that turns a server error into a 500 page
instead of raising, so the status code is what a member (or a scanner) sees.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from haven.audit.models import AuditEntry
from haven.cases import actions, rules
from haven.cases.models import Deadline, Reminder
from tests.conftest import Persona, log_in, make_case

HUGE = "99999999999999999999999"  # past SQLite's and PostgreSQL's 64-bit integers
DATE_RULES = [r.id for r in rules.all_rules().values() if r.input_type == "date"]
NOT_IDS = ["abc", "²", "-1", "1.5", HUGE, "0"]


@pytest.fixture
def member_client(alice: Persona) -> Client:
    return log_in(Client(raise_request_exception=False), alice)


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_deadline_id_that_is_not_a_number_is_not_found_and_changes_nothing(
    alice: Persona, member_client: Client, value: str
) -> None:
    case = make_case(alice)
    deadline = actions.add_deadline(alice.member, alice.vault(), case,
                                    datetime(2027, 4, 1, tzinfo=UTC), "appeal")
    before = AuditEntry.objects.count()
    response = member_client.post(f"/desk/cases/{case.number}/deadline-state/",
                                  {"deadline": value, "do": "done"})
    assert response.status_code == 404
    deadline.refresh_from_db()
    assert deadline.done_at is None
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("rule", DATE_RULES)
@pytest.mark.parametrize("value", ["9999-12-31", "9999-11-30", "0001-01-01"])
def test_a_date_far_from_now_is_refused_in_words_by_the_rule_form(
    alice: Persona, member_client: Client, rule: str, value: str
) -> None:
    case = make_case(alice)
    response = member_client.post(f"/desk/cases/{case.number}/deadline/propose/",
                                  {"rule": rule, "value": value, "confirm": "yes"})
    assert response.status_code == 400
    assert "This rule needs a date like 2027-03-15." in response.content.decode()
    assert not Deadline.objects.exists()


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_a_typed_deadline_far_from_now_is_refused_in_words(
    alice: Persona, member_client: Client, value: str
) -> None:
    case = make_case(alice)
    response = member_client.post(f"/desk/cases/{case.number}/deadline/",
                                  {"due": value, "reason": "appeal"})
    assert response.status_code == 400  # the case page again, the form given back
    page = response.content.decode()
    assert "Give the date (YYYY-MM-DD) and the reason of the deadline." in page
    assert 'name="reason" value="appeal"' in page and f'value="{value}"' in page
    assert not Deadline.objects.exists()


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_queue_filter_by_an_impossible_member_shows_the_queue(
    alice: Persona, member_client: Client, value: str
) -> None:
    make_case(alice, "a case for the queue")
    response = member_client.get("/desk/", {"queue": "all", "assignee": value})
    assert response.status_code == 200
    assert "a case for the queue" in response.content.decode()  # the filter was ignored


@pytest.mark.parametrize("value", NOT_IDS)
def test_an_impossible_ready_reply_leaves_the_reply_box_empty(
    alice: Persona, member_client: Client, value: str
) -> None:
    case = make_case(alice)
    response = member_client.get(f"/desk/cases/{case.number}/", {"use_reply": value})
    assert response.status_code == 200


def test_a_case_number_too_large_for_the_database_is_not_found(member_client: Client) -> None:
    assert member_client.get(f"/desk/cases/{HUGE}/").status_code == 404
    assert member_client.post(f"/desk/reminders/{HUGE}/dismiss/").status_code == 404


@pytest.mark.parametrize("target", ["queue", "javascript:alert(1)", "https://evil.example/",
                                    "//evil.example/x", "/\\evil.example", "desk/", "mailto:a@b"])
def test_dismissing_with_a_next_that_is_not_a_path_here_goes_back_to_the_queue(
    alice: Persona, member_client: Client, target: str
) -> None:
    reminder = Reminder.objects.create(organization=alice.org, case=make_case(alice),
                                       kind="telegram_blocked")
    response = member_client.post(f"/desk/reminders/{reminder.pk}/dismiss/", {"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    reminder.refresh_from_db()
    assert reminder.dismissed


def test_another_organizations_reminder_is_not_found_and_stays(
    alice: Persona, charlie: Persona
) -> None:
    reminder = Reminder.objects.create(organization=alice.org, case=make_case(alice),
                                       kind="telegram_blocked")
    client = log_in(Client(raise_request_exception=False), charlie)
    response = client.post(f"/desk/reminders/{reminder.pk}/dismiss/", {"next": "/desk/"})
    assert response.status_code == 404
    reminder.refresh_from_db()
    assert not reminder.dismissed
    assert not AuditEntry.objects.filter(action="reminder.dismissed").exists()


def test_dismissing_an_own_reminder_twice_goes_back_both_times(
    alice: Persona, member_client: Client
) -> None:
    reminder = Reminder.objects.create(organization=alice.org, case=make_case(alice),
                                       kind="telegram_blocked")
    for _ in range(2):  # a double click: the second post finds it already gone
        response = member_client.post(f"/desk/reminders/{reminder.pk}/dismiss/")
        assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    assert AuditEntry.objects.filter(action="reminder.dismissed").count() == 1
