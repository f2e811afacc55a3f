"""Team settings and a case's team on the desk's pages: what a member sees, and each refusal."""

from __future__ import annotations

from django.test import Client

from haven.accounts.models import Role, Team, TeamKey
from haven.cases import actions
from haven.cases.models import Case
from tests.cases.test_teams import _setup
from tests.conftest import Persona, add_member, log_in


def _messages(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_an_administrator_creates_a_team_and_adds_a_member(alice: Persona, alice_client: Client) -> None:
    bob = add_member(alice, "bob", Role.CASEWORKER, teams=[])
    response = alice_client.post("/desk/teams/", {"name": "  Legal   aid ", "categories": ["summons"]},
                                 follow=True)
    team = Team.objects.get(organization=alice.org, name="Legal aid")
    assert team.categories == ["summons"]
    page = _messages(response)
    assert "The team “Legal aid” was created." in page
    response = alice_client.post(f"/desk/teams/{team.pk}/members/", {"member": bob.member.pk},
                                 follow=True)
    assert "is now a member of the team" in _messages(response)
    assert TeamKey.objects.filter(team=team, member=bob.member).exists()
    listing = alice_client.get("/desk/teams/").content.decode()
    assert "Legal aid" in listing and "2 members" in listing


def test_a_team_name_taken_is_refused_and_nothing_is_made(alice: Persona, alice_client: Client) -> None:
    alice_client.post("/desk/teams/", {"name": "Legal", "categories": []})
    response = alice_client.post("/desk/teams/", {"name": "Legal", "categories": []})
    assert response.status_code == 400
    assert "A team with this name exists already" in response.content.decode()
    assert Team.objects.filter(organization=alice.org, name="Legal").count() == 1


def test_adding_a_member_without_the_team_key_says_so(alice: Persona) -> None:
    s = _setup(alice)
    dave = add_member(alice, "dave", Role.ADMIN, teams=[])
    client = log_in(Client(), dave)
    page = client.get(f"/desk/teams/{s['legal'].pk}/").content.decode()
    assert "you do not hold it" in page
    response = client.post(f"/desk/teams/{s['legal'].pk}/members/", {"member": s["eve"].member.pk})
    assert response.status_code == 400
    assert "Only a member of the team" in response.content.decode()
    assert not TeamKey.objects.filter(team=s["legal"], member=s["eve"].member).exists()


def test_team_pages_are_404_to_other_roles_and_other_organizations(
    alice: Persona, charlie_client: Client
) -> None:
    s = _setup(alice)
    bob_client = log_in(Client(), s["bob"])
    team = s["legal"]
    urls = ["/desk/teams/", f"/desk/teams/{team.pk}/"]
    for url in urls:
        assert bob_client.get(url).status_code == 404, url
    assert charlie_client.get("/desk/teams/").status_code == 200  # charlie's own teams
    assert charlie_client.get(f"/desk/teams/{team.pk}/").status_code == 404
    for url in (f"/desk/teams/{team.pk}/", f"/desk/teams/{team.pk}/members/",
                f"/desk/teams/{team.pk}/default/",
                f"/desk/teams/{team.pk}/members/{s['bob'].member.pk}/remove/"):
        response = charlie_client.post(url, {"name": "Taken", "member": s["bob"].member.pk})
        assert response.status_code == 404, url
    team.refresh_from_db()
    assert team.name == "Legal"
    assert TeamKey.objects.filter(team=team, member=s["bob"].member).exists()


def test_moving_a_case_from_its_page(alice: Persona, alice_client: Client) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Team and access" in page and "Move the case" in page
    response = alice_client.post(f"/desk/cases/{case.number}/team/move/",
                                 {"team": s["evac"].pk, "version": case.version}, follow=True)
    assert "now belongs to the team “Evacuation”" in response.content.decode()
    assert Case.objects.get(pk=case.pk).team_id == s["evac"].pk
    queue = alice_client.get(f"/desk/?queue=open&team={s['evac'].pk}").content.decode()
    assert f">#{case.number}</a>" in queue and f">#{s['general'].number}</a>" not in queue
    assert 'data-label="Team">Evacuation' in queue
    # Bob (Legal only) lost it: 404 on the page and every form of it.
    bob_client = log_in(Client(), s["bob"])
    assert bob_client.get(f"/desk/cases/{case.number}/").status_code == 404


def test_each_refused_move_says_why_and_changes_nothing(alice: Persona, alice_client: Client) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    empty = actions.create_team(alice.member, alice.vault(), "Empty", [])
    TeamKey.objects.filter(team=empty).delete()
    url = f"/desk/cases/{case.number}/team/move/"
    response = alice_client.post(url, {"team": empty.pk, "version": case.version}, follow=True)
    assert "Nobody is in the team “Empty” yet" in response.content.decode()
    response = alice_client.post(url, {"team": s["evac"].pk, "version": case.version + 5},
                                 follow=True)
    assert response.redirect_chain[-1][0] == f"/desk/cases/{case.number}/"
    assert 'class="error"' in response.content.decode()
    other = Team.objects.exclude(organization=alice.org).first()
    response = alice_client.post(url, {"team": other.pk if other else 999_999,
                                       "version": case.version}, follow=True)
    assert "Choose one of your organization&#x27;s teams" in response.content.decode()
    assert Case.objects.get(pk=case.pk).team_id == s["legal"].pk
    bob_client = log_in(Client(), s["bob"])  # a caseworker may not move
    response = bob_client.post(url, {"team": s["evac"].pk, "version": case.version}, follow=True)
    assert "Your role does not allow this" in response.content.decode()
    assert Case.objects.get(pk=case.pk).team_id == s["legal"].pk


def test_restricting_and_unrestricting_from_the_page(alice: Persona, alice_client: Client) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    bob_client = log_in(Client(), s["bob"])
    assert bob_client.get(f"/desk/cases/{case.number}/").status_code == 200
    response = alice_client.post(f"/desk/cases/{case.number}/team/restrict/",
                                 {"members": [alice.member.pk], "version": case.version},
                                 follow=True)
    page = response.content.decode()
    assert "is restricted" in page and "Open it to the whole team again" in page
    assert bob_client.get(f"/desk/cases/{case.number}/").status_code == 404
    assert f">#{case.number}</a>" not in bob_client.get("/desk/?queue=open").content.decode()
    case.refresh_from_db()
    response = alice_client.post(f"/desk/cases/{case.number}/team/unrestrict/",
                                 {"version": case.version}, follow=True)
    assert "open to its whole team again" in response.content.decode()
    assert bob_client.get(f"/desk/cases/{case.number}/").status_code == 200


def test_a_restriction_naming_someone_outside_the_team_is_refused(
    alice: Persona, alice_client: Client
) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    response = alice_client.post(f"/desk/cases/{case.number}/team/restrict/",
                                 {"members": [s["eve"].member.pk], "version": case.version},
                                 follow=True)
    assert "Tick members of the case&#x27;s team only" in response.content.decode()
    assert not Case.objects.get(pk=case.pk).restricted


def test_charts_held_and_search_count_the_members_teams_only(alice: Persona) -> None:
    s = _setup(alice)
    bob_client = log_in(Client(), s["bob"])
    charts = bob_client.get("/desk/charts/").content.decode()
    alice_charts = log_in(Client(), alice).get("/desk/charts/").content.decode()
    assert charts != alice_charts
    found = bob_client.get("/desk/search/?q=Evacuation-planted").content.decode()
    assert f">#{s['evacuation'].number}</a>" not in found
