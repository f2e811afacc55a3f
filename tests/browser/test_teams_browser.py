"""Team settings and moving a case, on a phone, without JavaScript, in each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.accounts.models import Role, Team, TeamKey
from haven.cases import actions
from haven.cases.models import Case
from tests.conftest import add_member, make_case, make_org

from .conftest import NewContext, speak
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_makes_a_team_and_adds_a_member_on_a_phone_without_javascript(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    add_member(alice, "bob", Role.CASEWORKER, teams=[])
    context = new_context(javascript=False, phone=True)
    page = context.new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/org/")
    page.get_by_role("link", name="Teams, their members and the categories routed to each").click()
    page.get_by_label("Name of the team").fill("Legal aid")
    page.get_by_label("Summons and mobilization").check()
    page.get_by_role("button", name="Create the team").click()
    expect(page.get_by_role("status")).to_contain_text("The team “Legal aid” was created.")
    page.get_by_label("Member", exact=True).select_option(label="Bob (Caseworker)")
    page.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_role("status")).to_contain_text("Bob is now a member of the team")
    expect(page.locator(".team-members")).to_contain_text("Bob")
    page.screenshot(path=tmp_path / "team-phone.png", full_page=True)
    assert _overflow(page) <= 0
    team = Team.objects.get(name="Legal aid")
    assert team.categories == ["summons"]
    assert TeamKey.objects.filter(team=team, member__username="bob").exists()
    for lang, heading in (("ru", "Участники"), ("uk", "Учасники")):
        speak(context, live_server.url, lang)
        page.goto(f"/desk/teams/{team.pk}/")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_role("heading", name="Members")).to_have_count(0)
        assert _overflow(page) <= 0


def test_a_coordinator_moves_a_case_to_another_team_on_a_phone_without_javascript(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    evac = actions.create_team(alice.member, alice.vault(), "Evacuation", ["evacuation"])
    case = make_case(alice, "A summons came to my registered address")
    page = new_context(javascript=False, phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto(f"/desk/cases/{case.number}/")
    page.get_by_label("Move to the team").select_option(label="Evacuation")
    page.get_by_role("button", name="Move the case").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Case #{case.number} now belongs to the team “Evacuation”.")
    expect(page.locator(".facts")).to_contain_text("Evacuation")
    assert _overflow(page) <= 0
    page.screenshot(path=tmp_path / "case-moved-phone.png", full_page=True)
    assert Case.objects.get(pk=case.pk).team_id == evac.pk
    page.goto("/desk/?queue=open")
    card = page.locator("table.cases tbody tr").filter(has_text="A summons came")
    expect(card.locator('td[data-label="Team"]')).to_have_text("Evacuation")
    assert _overflow(page) <= 0
