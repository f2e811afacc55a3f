"""Fair assignment: a team that switches it on gives each new case to the member with the
fewest open cases below the team's cap; when everyone is at the cap the case waits, and the
desk says why."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from haven.accounts import services
from haven.accounts.models import Member, Role, Team, TeamKey
from haven.audit.models import AuditEntry
from haven.cases import actions, fair
from haven.cases.actions import TeamError
from haven.cases.models import Case, Status
from haven.notify.collect import collect
from haven.notify.models import Address, Destination, Kind, Pending, Preference
from tests.conftest import Persona, add_member, log_in, make_case


def _legal(alice: Persona, *roles: tuple[str, str]) -> tuple[Team, dict[str, Member]]:
    """The team "Legal" (takes summons) with alice (administrator, its maker) and one new
    member per (name, role), each in Legal only."""
    team = actions.create_team(alice.member, alice.vault(), "Legal", ["summons"])
    people = {}
    for name, role in roles:
        people[name] = add_member(alice, name, role, teams=[]).member
        actions.add_team_member(alice.member, alice.vault(), team, people[name])
    people["alice"] = alice.member
    return team, people


def _switch_on(alice: Persona, team: Team, cap: int = 15) -> None:
    actions.set_auto_assign(alice.member, team, True, cap)


def _summons(alice: Persona, text: str = "summons") -> Case:
    return make_case(alice, text, category="summons")


def _auto_entries(case: Case) -> list[dict]:
    return [e.detail for e in AuditEntry.objects.filter(case_id=case.pk, action="case.assigned")]


def test_it_is_off_by_default_and_new_cases_stay_unassigned(alice: Persona) -> None:
    team, _people = _legal(alice, ("bob", Role.CASEWORKER))
    assert (team.auto_assign, team.assign_cap) == (False, 15)
    case = _summons(alice)
    assert case.team_id == team.pk and case.assignee_id is None
    assert _auto_entries(case) == []
    assert fair.waiting([team]) == []  # nothing is said of a team that does not assign


def test_the_member_with_the_fewest_open_cases_gets_the_new_case(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER), ("cora", Role.COORDINATOR))
    ring = alice.vault()
    for who, n in (("alice", 2), ("bob", 1)):
        for _ in range(n):
            case = _summons(alice)
            actions.assign(alice.member, case, p[who], case.version, ring)
    _switch_on(alice, team)
    first = _summons(alice)
    assert first.assignee_id == p["cora"].pk  # 0 open cases
    # bob and cora have 1 each: bob was given his longest ago.
    assert _summons(alice).assignee_id == p["bob"].pk
    # Now 2, 2, 1: cora.
    assert _summons(alice).assignee_id == p["cora"].pk
    # A closed case no longer counts: alice closes one of hers and is next.
    hers = Case.objects.filter(assignee=alice.member).first()
    assert hers is not None
    actions.set_status(alice.member, hers, Status.CLOSED, hers.version)
    assert _summons(alice).assignee_id == alice.member.pk


def test_a_tie_between_members_never_given_a_case_goes_to_the_lowest_id(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER), ("cora", Role.CASEWORKER))
    actions.remove_team_member(alice.member, team, alice.member)
    _switch_on(alice, team)
    first, second = (min(p["bob"].pk, p["cora"].pk), max(p["bob"].pk, p["cora"].pk))
    assert [_summons(alice).assignee_id for _ in range(4)] == [first, second, first, second]


def test_the_cap_is_kept_and_then_cases_wait_and_the_desk_says_why(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team, cap=2)
    given = [_summons(alice).assignee_id for _ in range(4)]
    assert sorted(given) == sorted([alice.member.pk, alice.member.pk, p["bob"].pk, p["bob"].pk])
    waiting = [_summons(alice), _summons(alice)]
    assert [c.assignee_id for c in waiting] == [None, None]
    for member in (alice.member, p["bob"]):
        assert Case.objects.filter(assignee=member, status__in=["new"]).count() == 2
    client = log_in(Client(), alice)
    said = ("2 cases wait: every member of “Legal” has 2 open cases (the cap). Raise the cap, "
            "add a member to the team, or assign them by hand.")
    assert said in client.get("/desk/?queue=unassigned").content.decode()
    team_page = client.get(f"/desk/teams/{team.pk}/").content.decode()
    assert said in team_page and "2 open cases" in team_page
    assert "Assign waiting cases now" not in team_page  # nobody has room


def test_waiting_cases_are_given_out_by_the_button_when_a_member_has_room(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team, cap=1)
    mine, bobs = _summons(alice), _summons(alice)
    late_one, late_two = _summons(alice), _summons(alice)
    assert late_one.assignee_id is None and late_two.assignee_id is None
    done = mine if mine.assignee_id == p["bob"].pk else bobs
    actions.set_status(p["bob"], done, Status.CLOSED, done.version)  # bob has room now
    client = log_in(Client(), alice)
    page = client.get("/desk/").content.decode()
    assert "2 cases of “Legal” wait unassigned, and some members have fewer than 1 open cases" in page
    assert "Assign waiting cases now" in page
    response = client.post(f"/desk/teams/{team.pk}/assign-waiting/", {"next": "/desk/"}, follow=True)
    assert "1 waiting case was assigned." in response.content.decode()
    late_one.refresh_from_db()
    late_two.refresh_from_db()
    assert (late_one.assignee_id, late_two.assignee_id) == (p["bob"].pk, None)  # oldest first
    entry = AuditEntry.objects.get(case_id=late_one.pk, action="case.assigned")
    assert entry.actor_id == alice.member.pk and entry.detail == {"assignee": p["bob"].pk,
                                                                  "auto": True}
    # Nobody has room again: the button assigns nothing and says so.
    response = client.post(f"/desk/teams/{team.pk}/assign-waiting/", {"next": "/desk/"}, follow=True)
    assert "No case was assigned" in response.content.decode()
    late_two.refresh_from_db()
    assert late_two.assignee_id is None


def test_only_a_coordinator_in_the_team_may_give_out_waiting_cases(alice: Persona,
                                                                   charlie: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team, cap=1)
    outsider = add_member(alice, "olga", Role.COORDINATOR)  # in General, not in Legal
    with pytest.raises(TeamError, match="Only a member of the team"):
        actions.assign_waiting(outsider.member, team)
    with pytest.raises(actions.NotAllowed):
        actions.assign_waiting(p["bob"], team)  # a caseworker
    bea = add_member(alice, "bea", Role.CASEWORKER, teams=[])
    actions.add_team_member(alice.member, alice.vault(), team, bea.member)
    for persona in (bea, charlie):  # a caseworker of the team; another organization's admin
        client = log_in(Client(), persona)
        assert client.post(f"/desk/teams/{team.pk}/assign-waiting/").status_code == 404
    client = log_in(Client(), outsider)
    response = client.post(f"/desk/teams/{team.pk}/assign-waiting/", follow=True)
    assert "Only a member of the team" in response.content.decode()


def test_viewers_treasurers_volunteers_and_deactivated_members_are_never_picked(
        alice: Persona) -> None:
    team, p = _legal(alice, ("vera", Role.VIEWER), ("tom", Role.TREASURER),
                     ("dan", Role.CASEWORKER), ("ed", Role.CASEWORKER))
    val = add_member(alice, "val", Role.VOLUNTEER, teams=[])
    with pytest.raises(TeamError):
        actions.add_team_member(alice.member, alice.vault(), team, val.member)
    services.deactivate(alice.member, p["dan"])
    Member.objects.filter(pk=p["ed"].pk).update(is_active=False)  # keeps his team key
    assert TeamKey.objects.filter(team=team, member=p["ed"]).exists()
    actions.remove_team_member(alice.member, team, alice.member)
    _switch_on(alice, team)
    case = _summons(alice)
    assert case.assignee_id is None
    [note] = fair.waiting([team])
    assert (note.count, note.reason) == (1, "nobody")
    page = log_in(Client(), alice).get(f"/desk/teams/{team.pk}/").content.decode()
    assert "1 case waits: nobody in “Legal” can work cases." in page
    assert "not assigned automatically" in page  # next to vera and tom


def test_the_assignment_is_audited_as_automatic_and_the_assignee_is_told(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    Case.objects.create(organization=alice.org, number=900, category="summons", channel="web",
                        team=team, assignee=alice.member, summary=b"-")  # alice has one open
    dest = Destination.objects.create(organization=alice.org, member=p["bob"], kind=Address.EMAIL,
                                      sealed=b"sealed")
    Preference.objects.create(member=p["bob"], kinds=[Kind.ASSIGNED])
    collect()  # the cursor starts at the chain's head
    _switch_on(alice, team)
    case = _summons(alice)
    assert case.assignee_id == p["bob"].pk
    [entry] = AuditEntry.objects.filter(case_id=case.pk, action="case.assigned")
    assert entry.actor_id is None and entry.detail == {"assignee": p["bob"].pk, "auto": True}
    collect()
    assert Pending.objects.get(destination=dest, kind=Kind.ASSIGNED).count == 1
    page = log_in(Client(), alice).get(f"/desk/cases/{case.number}/audit/").content.decode()
    assert "<dt>Assigned automatically, by the fair rule:</dt> <dd>yes</dd>" in page


def test_a_held_case_is_assigned_when_it_is_released(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team)
    held = make_case(alice, "flood", category="summons", held=True)
    assert held.assignee_id is None
    actions.release_held(alice.member)
    held.refresh_from_db()
    assert held.assignee_id in (alice.member.pk, p["bob"].pk)


def test_switching_it_off_stops_it(alice: Persona) -> None:
    team, _p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team)
    assert _summons(alice).assignee_id is not None
    actions.set_auto_assign(alice.member, team, False, 15)
    assert _summons(alice).assignee_id is None


def test_many_intakes_in_a_row_never_pass_the_cap(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER))
    _switch_on(alice, team, cap=3)
    cases = [_summons(alice, f"request {i}") for i in range(8)]
    per_member = {m: sum(c.assignee_id == m.pk for c in cases) for m in (alice.member, p["bob"])}
    assert list(per_member.values()) == [3, 3]
    assert sum(c.assignee_id is None for c in cases) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("sqlite" in connection.settings_dict["ENGINE"],
                    reason="SQLite runs one writer at a time; the serial test covers it")
def test_intakes_at_once_in_threads_never_pass_the_cap(alice: Persona) -> None:
    team, p = _legal(alice, ("bob", Role.CASEWORKER), ("cora", Role.CASEWORKER))
    _switch_on(alice, team, cap=2)
    start = threading.Barrier(12)
    errors: list[str] = []

    def intake(i: int) -> None:
        try:
            start.wait()
            _summons(alice, f"at once {i}")
        except Exception as exc:
            errors.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cases = Case.objects.filter(team=team)
    assert cases.count() == 12
    for member in (alice.member, p["bob"], p["cora"]):
        assert cases.filter(assignee=member).count() == 2, member
    assert cases.filter(assignee__isnull=True).count() == 6


@pytest.mark.parametrize("lang,words", [
    ("ru", "Назначать новые дела автоматически"),
    ("uk", "Призначати нові справи автоматично"),
])
def test_the_words_are_translated(alice: Persona, lang: str, words: str) -> None:
    from haven.desk.team_forms import AutoAssignForm
    from haven.desk.team_views import waiting_notes

    team, _p = _legal(alice)
    actions.remove_team_member(alice.member, team, alice.member)
    _switch_on(alice, team)
    _summons(alice)
    with translation.override(lang):
        assert str(AutoAssignForm().fields["auto_assign"].label) == words
        [note] = waiting_notes(alice.member, [team])
        assert "Legal" in str(note["text"]) and "nobody" not in str(note["text"])


# --- The team settings page ---


def test_an_administrator_switches_it_on_and_off_on_the_team_page_and_each_change_is_audited(
        alice: Persona) -> None:
    team, _p = _legal(alice, ("bob", Role.CASEWORKER))
    client = log_in(Client(), alice)
    page = client.get(f"/desk/teams/{team.pk}/").content.decode()
    assert "Off: new cases wait in the queue" in page and 'name="assign_cap" value="15"' in page
    url = f"/desk/teams/{team.pk}/assignment/"
    response = client.post(url, {"auto_assign": "on", "assign_cap": "12"}, follow=True)
    assert ("New cases of this team now go to the member with the fewest open cases, "
            "at most 12 each.") in response.content.decode()
    team.refresh_from_db()
    assert (team.auto_assign, team.assign_cap) == (True, 12)
    assert _summons(alice).assignee_id is not None
    listing = client.get("/desk/teams/").content.decode()
    assert "assigns new cases automatically, at most 12 open cases each" in listing
    response = client.post(url, {"auto_assign": "on", "assign_cap": "12"}, follow=True)
    assert "Nothing changed." in response.content.decode()
    client.post(url, {"assign_cap": "12"})  # the box unticked
    team.refresh_from_db()
    assert team.auto_assign is False
    assert _summons(alice).assignee_id is None
    entries = AuditEntry.objects.filter(action="team.auto_assign").order_by("seq")
    assert [(e.actor_id, e.detail) for e in entries] == [
        (alice.member.pk, {"team": team.pk, "enabled": True, "cap": 12}),
        (alice.member.pk, {"team": team.pk, "enabled": False, "cap": 12})]
    org_audit = client.get("/desk/audit/").content.decode()
    assert "Automatic assignment of a team changed" in org_audit
    assert "Open cases per member at most:</dt> <dd>12</dd>" in org_audit


@pytest.mark.parametrize("cap", ["0", "501", "fifteen", "", "-3"])
def test_a_cap_outside_1_to_500_is_refused_and_changes_nothing(alice: Persona, cap: str) -> None:
    team, _p = _legal(alice)
    client = log_in(Client(), alice)
    response = client.post(f"/desk/teams/{team.pk}/assignment/",
                           {"auto_assign": "on", "assign_cap": cap})
    assert response.status_code == 400
    assert "Enter the cap as a whole number from 1 to 500." in response.content.decode()
    team.refresh_from_db()
    assert (team.auto_assign, team.assign_cap) == (False, 15)
    assert not AuditEntry.objects.filter(action="team.auto_assign").exists()
    with pytest.raises(TeamError, match="from 1 to 500"):
        actions.set_auto_assign(alice.member, team, True, 0)


def test_only_this_organizations_administrators_may_change_it(alice: Persona,
                                                              charlie: Persona) -> None:
    team, _p = _legal(alice)
    cora = add_member(alice, "cora", Role.COORDINATOR, teams=[])
    actions.add_team_member(alice.member, alice.vault(), team, cora.member)
    url = f"/desk/teams/{team.pk}/assignment/"
    for persona in (charlie, cora):  # another organization's admin; a coordinator
        client = log_in(Client(), persona)
        assert client.post(url, {"auto_assign": "on", "assign_cap": "3"}).status_code == 404
        assert client.get(f"/desk/teams/{team.pk}/").status_code == 404
    with pytest.raises(TeamError):
        actions.set_auto_assign(charlie.member, team, True, 3)
    team.refresh_from_db()
    assert (team.auto_assign, team.assign_cap) == (False, 15)
    assert not AuditEntry.objects.filter(action="team.auto_assign").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("sqlite" in connection.settings_dict["ENGINE"],
                    reason="SQLite runs one writer at a time")
def test_two_coordinators_giving_out_waiting_cases_at_once_never_pass_the_cap(
        alice: Persona) -> None:
    team, p = _legal(alice, ("cora", Role.COORDINATOR), ("bob", Role.CASEWORKER))
    for i in range(8):
        _summons(alice, f"before {i}")  # waiting: the team did not assign then
    Team.objects.filter(pk=team.pk).update(auto_assign=True, assign_cap=2)
    start = threading.Barrier(2)
    done: list[int] = []
    errors: list[str] = []

    def press(member: Member) -> None:
        try:
            start.wait()
            done.append(actions.assign_waiting(member, Team.objects.get(pk=team.pk)))
        except Exception as exc:
            errors.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(m,)) for m in (alice.member, p["cora"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(done) == 6
    cases = Case.objects.filter(team=team)
    for member in (alice.member, p["bob"], p["cora"]):
        assert cases.filter(assignee=member).count() == 2, member
    assert cases.filter(assignee__isnull=True).count() == 2
