"""Bulk work from a queue: one action over the ticked cases, each case refused or changed on its own."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.cases import actions, bulk
from haven.cases.models import Case, CaseRecord, RecordKind, Status
from tests.cases.test_teams import _setup
from tests.conftest import Persona, add_member, log_in, make_case

TEXTS = ("A summons came", "My son is in hospital", "We need to leave Kharkiv")


def _cases(persona: Persona, n: int = 3) -> list[Case]:
    return [make_case(persona, f"{TEXTS[i % len(TEXTS)]} {i}") for i in range(n)]


def _post(client: Client, cases: list[Case], back: str = "queue=open&page=1",
          **fields: Any) -> Any:
    data: dict[str, Any] = {"back": back, "case": [str(c.number) for c in cases]}
    data.update({f"version-{c.number}": str(c.version) for c in cases})
    data.update(fields)
    return client.post("/desk/bulk/", data)


def _message(client: Client, response: Any) -> str:
    page = client.get(response["Location"]).content.decode()
    found = re.search(r'<ul class="messages" role="status"><li class="[a-z ]*">(.*?)</li>', page,
                      re.S)
    assert found, page[:3000]
    return found.group(1).replace("&#x27;", "'").replace("&quot;", '"')


def _entries(case: Case, action: str) -> int:
    return AuditEntry.objects.filter(case_id=case.pk, action=action).count()


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def _tags(persona: Persona, case: Case) -> list[str]:
    case = _fresh(case)
    if not case.tags:
        return []
    return list(json.loads(persona.case_vault(case).decrypt_text(bytes(case.tags))))


def test_assigning_to_me_changes_each_case_with_one_audit_entry_each(
    alice: Persona, bob: Persona, bob_client: Client
) -> None:
    cases = _cases(alice, 3)
    response = _post(bob_client, cases, back="queue=open&category=summons&page=2",
                     action="assign_me")
    assert response.status_code == 302
    assert response["Location"] == "/desk/?queue=open&category=summons&page=2"
    assert _message(bob_client, response) == "3 cases changed."
    for case in cases:
        assert _fresh(case).assignee_id == bob.member.pk
        assert _entries(case, "case.assigned") == 1


def test_a_coordinator_assigns_to_a_member_then_unassigns(
    alice: Persona, bob: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 2)
    response = _post(alice_client, cases, action="assign", assignee=str(bob.member.pk))
    assert _message(alice_client, response) == "2 cases changed."
    assert [_fresh(c).assignee_id for c in cases] == [bob.member.pk] * 2
    response = _post(alice_client, [_fresh(c) for c in cases], action="unassign")
    assert _message(alice_client, response) == "2 cases changed."
    assert [_fresh(c).assignee_id for c in cases] == [None, None]
    assert all(_entries(c, "case.assigned") == 2 for c in cases)


def test_a_caseworker_cannot_assign_another_member_and_is_told_per_case(
    alice: Persona, bob: Persona, bob_client: Client
) -> None:
    cases = _cases(alice, 2)
    response = _post(bob_client, cases, action="assign", assignee=str(alice.member.pk))
    message = _message(bob_client, response)
    assert message.startswith("0 cases changed; 2 were not changed: "
                              f"#{cases[0].number}, #{cases[1].number}: ")
    assert "Your role does not allow this" in message
    assert [_fresh(c).assignee_id for c in cases] == [None, None]
    assert not AuditEntry.objects.filter(action="case.assigned").exists()


def test_changing_the_status_of_several_cases(alice: Persona, alice_client: Client) -> None:
    cases = _cases(alice, 3)
    response = _post(alice_client, cases, action="status", status=Status.IN_PROGRESS)
    assert _message(alice_client, response) == "3 cases changed."
    for case in cases:
        assert _fresh(case).status == Status.IN_PROGRESS
        assert _entries(case, "case.status") == 1


def test_adding_and_removing_a_tag_keeps_the_other_tags(alice: Persona, alice_client: Client) -> None:
    cases = _cases(alice, 3)
    actions.set_tags(alice.member, alice.vault(), cases[0], ["housing", "docs"], cases[0].version)
    cases[0].refresh_from_db()
    response = _post(alice_client, cases, action="tag_add", tag="  Docs ")
    assert _message(alice_client, response) == (
        f"2 cases changed; 1 was not changed: #{cases[0].number}: already has that tag.")
    assert [_tags(alice, c) for c in cases] == [["docs", "housing"], ["docs"], ["docs"]]
    assert [_entries(c, "case.tags") for c in cases] == [1, 1, 1]
    response = _post(alice_client, [_fresh(c) for c in cases[:2]], action="tag_remove", tag="docs")
    assert _message(alice_client, response) == "2 cases changed."
    assert [_tags(alice, c) for c in cases] == [["housing"], [], ["docs"]]
    # The tag filter finds what the bulk action tagged (the tag hashes were written too).
    page = alice_client.get("/desk/?queue=open&tag=docs").content.decode()
    assert f"#{cases[2].number}<" in page and f"#{cases[0].number}<" not in page


def test_moving_several_cases_to_another_team(alice: Persona, alice_client: Client) -> None:
    legal = actions.create_team(alice.member, alice.vault(), "Legal", [])
    cases = _cases(alice, 2)
    response = _post(alice_client, cases, action="move", team=str(legal.pk))
    assert _message(alice_client, response) == "2 cases changed."
    for case in cases:
        assert _fresh(case).team_id == legal.pk
        assert _entries(case, "case.moved") == 1
        assert alice.case_vault(_fresh(case)) is not None  # still readable through Legal's key


def test_a_caseworker_may_not_move_cases(alice: Persona, bob: Persona, bob_client: Client) -> None:
    legal = actions.create_team(alice.member, alice.vault(), "Legal", [])
    cases = _cases(alice, 2)
    message = _message(bob_client, _post(bob_client, cases, action="move", team=str(legal.pk)))
    assert message.startswith("0 cases changed; 2 were not changed")
    assert all(_fresh(c).team_id != legal.pk for c in cases)


def test_closing_with_a_reason_keeps_the_reason_as_an_encrypted_note(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 2)
    response = _post(alice_client, cases, action="close", reason="Duplicate of an earlier request")
    assert _message(alice_client, response) == "2 cases changed."
    for case in cases:
        case = _fresh(case)
        assert case.status == Status.CLOSED and case.closed_at is not None
        note = CaseRecord.objects.get(case=case, kind=RecordKind.NOTE)
        assert b"Duplicate" not in bytes(note.body)
        assert alice.case_vault(case).decrypt_text(bytes(note.body)) == (
            "Reason for closing: Duplicate of an earlier request")
        assert _entries(case, "case.status") == 1 and _entries(case, "case.note") == 1


def test_a_stale_case_is_refused_and_named_while_the_others_change(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 3)
    # Someone else changes the middle case after the page was shown.
    actions.set_priority(alice.member, _fresh(cases[1]), 2, cases[1].version)
    response = _post(alice_client, cases, action="close", reason="Resolved by phone")
    assert _message(alice_client, response) == (
        f"2 cases changed; 1 was not changed: #{cases[1].number}: changed since you loaded "
        "the page.")
    assert [_fresh(c).status for c in cases] == [Status.CLOSED, Status.NEW, Status.CLOSED]
    assert not CaseRecord.objects.filter(case=cases[1], kind=RecordKind.NOTE).exists()
    assert _entries(cases[1], "case.status") == 0


def test_a_selected_case_without_its_version_is_refused_as_stale(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 2)
    response = alice_client.post("/desk/bulk/", {
        "back": "", "case": [str(c.number) for c in cases], "action": "status",
        "status": Status.TRIAGE, f"version-{cases[0].number}": str(cases[0].version),
        f"version-{cases[1].number}": "not-a-number"})
    assert response["Location"] == "/desk/"
    assert _message(alice_client, response).endswith(
        f"#{cases[1].number}: changed since you loaded the page.")
    assert [_fresh(c).status for c in cases] == [Status.TRIAGE, Status.NEW]


def test_a_viewer_is_refused_and_nothing_changes(alice: Persona) -> None:
    viewer = add_member(alice, "vera", Role.VIEWER)
    client = log_in(Client(), viewer)
    cases = _cases(alice, 2)
    page = client.get("/desk/").content.decode()
    assert "Select case #" not in page and "/desk/bulk/" not in page
    response = _post(client, cases, action="status", status=Status.TRIAGE)
    assert response.status_code == 404
    with pytest.raises(actions.NotAllowed):
        bulk.apply(viewer.member, viewer.vault(), bulk.BulkAction("status", status=Status.TRIAGE),
                   [bulk.Pick(c.number, c.version) for c in cases])
    assert [_fresh(c).status for c in cases] == [Status.NEW, Status.NEW]
    assert not AuditEntry.objects.filter(action="case.status").exists()


def test_another_organizations_case_number_is_not_found_and_unchanged(
    alice: Persona, charlie: Persona, alice_client: Client
) -> None:
    mine = _cases(alice, 2)
    theirs = _cases(charlie, 4)[-1]  # number 4: alice's organization has no case #4
    foreign = _post(alice_client, [*mine, theirs], action="status", status=Status.TRIAGE)
    assert _message(alice_client, foreign) == (
        f"2 cases changed; 1 was not changed: #{theirs.number}: not found.")
    assert _fresh(theirs).status == Status.NEW
    assert not AuditEntry.objects.filter(case_id=theirs.pk).exclude(action="case.created").exists()
    # Exactly what a number that exists nowhere gets: nothing says the case exists elsewhere.
    ghost = Case(number=theirs.number + 50, version=1)
    nowhere = _post(alice_client, [ghost], action="status", status=Status.TRIAGE)
    assert _message(alice_client, nowhere) == f"0 cases changed; 1 was not changed: #{ghost.number}: not found."


def test_a_case_of_another_team_cannot_be_touched(alice: Persona) -> None:
    s = _setup(alice)  # bob is in Legal only
    client = log_in(Client(), s["bob"])
    summons, evacuation = _fresh(s["summons"]), _fresh(s["evacuation"])
    response = _post(client, [summons, evacuation], action="status", status=Status.TRIAGE)
    assert _message(client, response) == (
        f"1 case changed; 1 was not changed: #{evacuation.number}: not found.")
    assert _fresh(summons).status == Status.TRIAGE
    assert _fresh(evacuation).status == Status.NEW
    assert _entries(evacuation, "case.status") == 0


def test_more_than_the_limit_is_refused_and_nothing_changes(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 2)
    data: dict[str, Any] = {"back": "queue=open", "action": "status", "status": Status.TRIAGE,
                            "case": [str(c.number) for c in cases]
                            + [str(n) for n in range(100, 100 + bulk.MAX_CASES)]}
    data.update({f"version-{c.number}": str(c.version) for c in cases})
    response = alice_client.post("/desk/bulk/", data)
    assert response["Location"] == "/desk/?queue=open"
    assert _message(alice_client, response) == (
        "You selected 202 cases; at most 200 can be changed at once. Nothing was changed: "
        "select fewer and apply again.")
    assert [_fresh(c).status for c in cases] == [Status.NEW, Status.NEW]


def test_an_action_without_its_argument_changes_nothing_and_keeps_the_ticks(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 2)
    for fields, said in (({"action": "status", "status": ""}, "Choose the new status"),
                         ({"action": "status", "status": Status.CLOSED}, "Close with the reason"),
                         ({"action": "close", "reason": "  "}, "Write the reason for closing"),
                         ({"action": "tag_add", "tag": ""}, "Type the tag"),
                         ({"action": "assign", "assignee": "99999"}, "Choose the member"),
                         ({"action": "move", "team": "99999"}, "Choose the team"),
                         ({"action": "burn"}, "Choose what to do")):
        response = _post(alice_client, cases, back="queue=open&page=1", **fields)
        assert said in _message(alice_client, response), fields
        page = alice_client.get(response["Location"]).content.decode()
        for case in cases:
            assert f'value="{case.number}" id="pick-{case.number}" checked>' in page
    response = alice_client.post("/desk/bulk/", {"back": "queue=open", "action": "assign_me"})
    assert "Tick at least one case" in _message(alice_client, response)
    assert all(_fresh(c).version == 1 for c in cases)
    assert not AuditEntry.objects.exclude(action__in=("case.created", "queue.read")).filter(
        case_id__in=[c.pk for c in cases]).exists()


def test_the_way_back_keeps_only_the_queues_own_parameters(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 1)
    response = _post(alice_client, cases, back="queue=due&page=3&next=//evil.example&tag=docs",
                     action="assign_me")
    assert response["Location"] == "/desk/?queue=due&tag=docs&page=3"


def test_the_queue_draws_a_labelled_checkbox_per_case_and_selects_a_whole_page(
    alice: Persona, alice_client: Client
) -> None:
    cases = _cases(alice, 3)
    page = alice_client.get("/desk/?queue=open").content.decode()
    for case in cases:
        assert f'<label for="pick-{case.number}" class="visually-hidden">Select case #{case.number}</label>' in page
        assert f'name="version-{case.number}" value="1"' in page
        assert f'id="pick-{case.number}">' in page  # not ticked
    assert 'href="?queue=open&amp;select=all"' in page
    everything = alice_client.get("/desk/?queue=open&select=all").content.decode()
    assert everything.count('" checked>') == 3
    # Search shows the same table without checkboxes.
    assert "Select case #" not in alice_client.get("/desk/search/?q=summons").content.decode()


def test_the_summary_is_translated(alice: Persona, alice_client: Client) -> None:
    cases = _cases(alice, 2)
    actions.set_priority(alice.member, _fresh(cases[0]), 1, cases[0].version)
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    response = _post(alice_client, cases, action="status", status=Status.TRIAGE)
    message = _message(alice_client, response)
    assert message.startswith("Изменено дел: 1;"), message
    assert "изменилось после того, как вы открыли страницу" in message
