"""Teams: one member's password opens only their teams' cases (in the style of the seized-disk
test), every page and action checks it, and moving or restricting a case re-seals its key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from haven import vault
from haven.accounts import services
from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization, Role, Team, TeamKey
from haven.cases import actions, files
from haven.cases.actions import ActionError, StaleCase, TeamError
from haven.cases.keys import case_vault, readable_cases, try_case_vault
from haven.cases.models import Attachment, Case, CaseKey, Channel
from haven.cases.summaries import unpack
from haven.vault import OrgVault
from haven.vault.recovery import parse_key
from tests.conftest import PASSWORD, Persona, add_member, log_in, make_case


def _setup(alice: Persona) -> dict:
    """Legal takes summons, Evacuation takes evacuation; bob is in Legal only, eve in
    Evacuation only; a summons case with a file, an evacuation case, a General case."""
    ring = alice.vault()
    legal = actions.create_team(alice.member, ring, "Legal", ["summons"])
    evac = actions.create_team(alice.member, ring, "Evacuation", ["evacuation"])
    bob = add_member(alice, "bob", Role.CASEWORKER, teams=[])
    eve = add_member(alice, "eve", Role.CASEWORKER, teams=[])
    ring = alice.vault()  # now holding the new teams' keys
    actions.add_team_member(alice.member, ring, legal, bob.member)
    actions.add_team_member(alice.member, ring, evac, eve.member)
    summons = make_case(alice, "Повестка Legal-planted", category="summons")
    files_case = actions.add_attachment(summons, name="scan.pdf", kind="application/pdf",
                                        data=b"%PDF-1.4 Legal-file-planted", channel=Channel.WEB)
    evacuation = make_case(alice, "Evacuation-planted", category="evacuation")
    general = make_case(alice, "General-planted", category="family")
    return {"legal": legal, "evac": evac, "bob": bob, "eve": eve, "summons": summons,
            "evacuation": evacuation, "general": general, "file": files_case}


def _opens(ring: OrgVault, case: Case) -> bool:
    opened = try_case_vault(ring, Case.objects.get(pk=case.pk))
    if opened is None:
        return False
    try:
        opened.decrypt_text(bytes(Case.objects.get(pk=case.pk).summary))
    except vault.VaultError:
        return False
    return True


def test_intake_is_routed_by_category_and_sealed_to_the_team(alice: Persona) -> None:
    s = _setup(alice)
    assert s["summons"].team_id == s["legal"].pk and s["evacuation"].team_id == s["evac"].pk
    assert s["general"].team_id == Organization.objects.get(pk=alice.org.pk).default_team_id
    keys = CaseKey.objects.filter(case=s["summons"])
    assert {(k.team_id, k.recovery) for k in keys} == {(s["legal"].pk, False), (None, True)}


def test_one_members_password_opens_only_their_teams_cases_and_the_recovery_key_all(
    alice: Persona,
) -> None:
    s = _setup(alice)
    everything = [s["summons"], s["evacuation"], s["general"]]
    # What a thief has: the database, the data folder, the server secrets, bob's password.
    bob = Member.objects.get(pk=s["bob"].member.pk)
    ring = unlock_member(bob, PASSWORD).ring(bob.pk)
    assert [_opens(ring, c) for c in everything] == [True, False, False]
    attachment = Attachment.objects.get(pk=s["file"].pk)
    assert b"Legal-file-planted" in case_vault(ring, s["summons"]).decrypt(
        files.read(attachment.storage_name))
    # The organization key bob holds (funds, settings) opens no case and no file.
    org_only = OrgVault(ring.private_key)
    for case in everything:
        with pytest.raises(vault.VaultError):
            org_only.decrypt(bytes(Case.objects.get(pk=case.pk).summary))
    with pytest.raises(vault.VaultError):
        org_only.decrypt(files.read(attachment.storage_name))
    eve = Member.objects.get(pk=s["eve"].member.pk)
    assert [_opens(unlock_member(eve, PASSWORD).ring(eve.pk), c) for c in everything] == [
        False, True, False]


def test_the_recovery_key_opens_every_team_and_a_restricted_case(alice: Persona) -> None:
    made = services.create_organization("third", "Third", "zoe")
    zoe = services.accept_invite(made.admin_invite.token, PASSWORD).member
    zring = unlock_member(zoe, PASSWORD).ring(zoe.pk)
    legal = actions.create_team(zoe, zring, "Legal", ["summons"])
    case = actions.create_case(made.organization, category="summons", channel=Channel.WEB,
                               summary="Recovery-planted")
    zring = unlock_member(zoe, PASSWORD).ring(zoe.pk)
    actions.restrict_case(zoe, zring, case, [zoe.pk], case.version)
    # Every member leaves the team: nothing is lost, the recovery key opens it all.
    TeamKey.objects.filter(team=legal).delete()
    org = Organization.objects.get(pk=made.organization.pk)
    raw = parse_key(made.recovery[0])
    teams = services.teams_by_recovery(org, raw)
    recovery_ring = vault.KeyRing(vault.open_sealed(raw, bytes(org.recovery_sealed_key)), None,
                                  teams)
    general = Case.objects.get(pk=actions.create_case(
        org, category="family", channel=Channel.WEB, summary="g").pk)
    assert _opens(recovery_ring, general)
    sealed = CaseKey.objects.get(case=case, recovery=True)
    private = vault.open_sealed(raw, bytes(sealed.sealed_private_key))
    text = vault.CaseVault(private, case.pk).decrypt_text(bytes(Case.objects.get(pk=case.pk).summary))
    assert unpack(text).text == "Recovery-planted"


def test_pages_show_a_member_their_teams_only(alice: Persona) -> None:
    s = _setup(alice)
    bob_client = log_in(Client(), s["bob"])
    assert bob_client.get(f"/desk/cases/{s['summons'].number}/").status_code == 200
    for other in (s["evacuation"], s["general"]):
        assert bob_client.get(f"/desk/cases/{other.number}/").status_code == 404
    queue = bob_client.get("/desk/?queue=open").content.decode()
    assert f">#{s['summons'].number}</a>" in queue
    assert f">#{s['evacuation'].number}</a>" not in queue
    actions.add_note(alice.member, alice.vault(), s["evacuation"], "Кантемировка evac")
    actions.add_note(alice.member, alice.vault(), s["summons"], "Кантемировка legal")
    found = bob_client.get("/desk/search/?q=Кантемировка").content.decode()
    assert f">#{s['summons'].number}</a>" in found
    assert f">#{s['evacuation'].number}</a>" not in found
    assert list(readable_cases(s["bob"].member)) == [Case.objects.get(pk=s["summons"].pk)]


def test_a_member_removed_from_a_team_loses_it_at_once(alice: Persona) -> None:
    s = _setup(alice)
    bob_client = log_in(Client(), s["bob"])
    url = f"/desk/cases/{s['summons'].number}/"
    assert bob_client.get(url).status_code == 200
    actions.remove_team_member(alice.member, s["legal"], s["bob"].member)
    assert bob_client.get(url).status_code == 404
    assert s["legal"].pk not in unlock_member(s["bob"].member, PASSWORD).team_keys
    assert s["legal"].pk not in s["bob"].vault().team_ids
    from haven.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="team.member_removed").exists()


def test_an_administrator_outside_a_team_cannot_add_themself(alice: Persona) -> None:
    s = _setup(alice)
    dave = add_member(alice, "dave", Role.ADMIN, teams=[])
    with pytest.raises(TeamError, match="Only a member of the team"):
        actions.add_team_member(dave.member, dave.vault(), s["legal"], dave.member)
    assert not TeamKey.objects.filter(team=s["legal"], member=dave.member).exists()
    assert dave.vault().team_ids == frozenset()


def test_moving_a_case_reseals_its_key_and_refuses_a_team_nobody_is_in(alice: Persona) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    empty = actions.create_team(alice.member, alice.vault(), "Empty", [])
    TeamKey.objects.filter(team=empty).delete()
    with pytest.raises(ActionError, match="Nobody is in the team"):
        actions.move_case(alice.member, alice.vault(), case, empty, case.version)
    assert Case.objects.get(pk=case.pk).team_id == s["legal"].pk
    records = list(case.records.values_list("body", flat=True))
    actions.move_case(alice.member, alice.vault(), case, s["evac"], case.version)
    assert list(case.records.values_list("body", flat=True)) == records  # not re-encrypted
    assert not _opens(s["bob"].vault(), case)
    assert _opens(s["eve"].vault(), case)
    # Bob cannot move what he cannot read: 404 before anything is checked.
    with pytest.raises(Exception):  # noqa: B017  (Http404 or NotAllowed)
        actions.move_case(s["bob"].member, s["bob"].vault(), case, s["legal"], None)


def test_concurrent_moves_leave_the_case_sealed_to_one_team(alice: Persona) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    general = Team.objects.get(pk=Organization.objects.get(pk=alice.org.pk).default_team_id)
    ring = alice.vault()
    actions.move_case(alice.member, ring, case, s["evac"], case.version)
    stale = Case.objects.get(pk=case.pk)
    stale.version -= 1
    with pytest.raises(StaleCase):
        actions.move_case(alice.member, ring, stale, general, stale.version)
    final = Case.objects.get(pk=case.pk)
    assert final.team_id == s["evac"].pk
    assert list(CaseKey.objects.filter(case=case, recovery=False).values_list("team_id", flat=True)) \
        == [s["evac"].pk]
    assert _opens(s["eve"].vault(), final)


@pytest.mark.django_db(transaction=True)
def test_moves_racing_in_threads_leave_the_case_readable(alice: Persona) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    general = Team.objects.get(pk=Organization.objects.get(pk=alice.org.pk).default_team_id)
    outcomes: list[str] = []

    def move(team: Team) -> None:
        try:
            actions.move_case(alice.member, alice.vault(), Case.objects.get(pk=case.pk), team,
                              case.version)
            outcomes.append("moved")
        except StaleCase:
            outcomes.append("stale")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(t,)) for t in (s["evac"], general)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("moved") == 1, outcomes
    final = Case.objects.get(pk=case.pk)
    teams = list(CaseKey.objects.filter(case=case, recovery=False).values_list("team_id", flat=True))
    assert teams == [final.team_id]
    holder = s["eve"] if final.team_id == s["evac"].pk else alice
    assert _opens(holder.vault(), final)


def test_a_restricted_case_is_read_by_the_chosen_members_only(alice: Persona) -> None:
    s = _setup(alice)
    case = Case.objects.get(pk=s["summons"].pk)
    carol = add_member(alice, "carol", Role.CASEWORKER, teams=[])
    actions.restrict_case(alice.member, alice.vault(), case, [carol.member.pk], case.version)
    case.refresh_from_db()
    assert case.restricted
    assert not _opens(s["bob"].vault(), case)  # in the team, not chosen
    assert _opens(carol.vault(), case)  # chosen, in no team
    assert list(readable_cases(carol.member)) == [case]
    with pytest.raises(ActionError, match="at least one active member"):
        actions.restrict_case(alice.member, alice.vault(), case, [], case.version)
    actions.unrestrict_case(alice.member, carol.vault(), case, case.version)
    case.refresh_from_db()
    assert _opens(s["bob"].vault(), case) and not case.restricted


def test_a_volunteer_sees_only_the_cases_assigned_to_them(alice: Persona) -> None:
    s = _setup(alice)
    vic = add_member(alice, "vic", Role.VOLUNTEER, teams=[])
    vic_client = log_in(Client(), vic)
    case = Case.objects.get(pk=s["summons"].pk)
    url = f"/desk/cases/{case.number}/"
    assert vic_client.get(url).status_code == 404
    with pytest.raises(TeamError, match="Volunteers"):
        actions.add_team_member(alice.member, alice.vault(), s["legal"], vic.member)
    actions.assign(alice.member, case, vic.member, case.version, alice.vault())
    assert vic_client.get(url).status_code == 200
    assert list(readable_cases(vic.member)) == [Case.objects.get(pk=case.pk)]
    case.refresh_from_db()
    actions.assign(alice.member, case, s["bob"].member, case.version, alice.vault())
    assert vic_client.get(url).status_code == 404


def test_a_treasurer_outside_the_team_reads_no_case(alice: Persona) -> None:
    s = _setup(alice)
    tess = add_member(alice, "tess", Role.TREASURER, teams=[])
    client = log_in(Client(), tess)
    assert client.get(f"/desk/cases/{s['summons'].number}/").status_code == 404
    assert not readable_cases(tess.member).exists()


def test_an_organization_made_before_teams_enters_its_recovery_key_once(
    db: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from django.core.management import call_command

    from tests.conftest import make_org

    rita, made = make_org("before", "rita")
    Organization.objects.filter(pk=rita.org.pk).update(recovery_public_key=None)
    rita.member.refresh_from_db()
    with pytest.raises(TeamError, match="teams-recovery before"):
        actions.create_team(rita.member, rita.vault(), "Legal", ["summons"])
    assert not Team.objects.filter(name="Legal").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("AAAA-" + made.recovery[0][5:][::-1] + "\n"))
    with pytest.raises(Exception, match="recovery key"):
        call_command("teams_recovery", "before")
    monkeypatch.setattr("sys.stdin", io.StringIO(made.recovery[0] + "\n"))
    call_command("teams_recovery", "before", stdout=io.StringIO())
    rita.member.refresh_from_db()
    legal = actions.create_team(rita.member, rita.vault(), "Legal", ["summons"])
    assert legal.recovery_sealed_key


def test_actions_on_a_case_outside_the_members_teams_are_refused(alice: Persona) -> None:
    from django.http import Http404

    s = _setup(alice)
    case = Case.objects.get(pk=s["evacuation"].pk)
    version, priority = case.version, case.priority
    for attempt in (
        lambda: actions.set_priority(s["bob"].member, case, 1, case.version),
        lambda: actions.add_note(s["bob"].member, s["bob"].vault(), case, "not mine"),
        lambda: actions.read_case(s["bob"].member, s["bob"].vault(), case),
    ):
        with pytest.raises(Http404):
            attempt()
    after = Case.objects.get(pk=case.pk)
    assert (after.version, after.priority) == (version, priority)  # nothing changed
