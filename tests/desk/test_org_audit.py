"""The organization's security and account events, on a page for its administrators only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from haven.accounts import services
from haven.accounts.models import Role
from haven.audit import chain
from haven.cases import actions
from tests.conftest import Persona, add_member, log_in, make_case

URL = "/desk/audit/"


@pytest.fixture(autouse=True)
def _forget_refused_logins() -> Iterator[None]:
    """The refused logins here count against this test client's address; later tests start afresh."""
    yield
    cache.clear()


def _table(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page[page.index("<tbody>"):page.index("</tbody>")])


def test_an_admin_sees_logins_refusals_and_member_changes_in_words(
    alice: Persona, bob: Persona, alice_client: Client
) -> None:
    services.set_role(alice.member, bob.member, Role.COORDINATOR)
    Client().post("/login/", {"username": "bob", "password": "wrong-password-typed", "code": "1"})
    services.set_organization_time_zone(alice.member, "Europe/Moscow")
    response = alice_client.get(URL)
    assert response.status_code == 200
    table = _table(response.content.decode())
    for words in ("Logged in", "Login refused", "wrong password", "Role changed", "Caseworker",
                  "Coordinator", "Member invited", "Organization created", "Bob", "alice"):
        assert words in table, words
    assert " MSK" in table  # times carry their zone, like the rest of the desk
    assert "wrong-password-typed" not in response.content.decode()
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = alice_client.get(URL)
    assert "Роль изменена" in _table(russian.content.decode())


def test_case_events_stay_on_the_case_audit_page(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, "triage", None)
    table = _table(alice_client.get(URL).content.decode())
    assert "Status changed" not in table and "Case created" not in table


def test_only_administrators_see_the_page(alice: Persona, bob: Persona, bob_client: Client) -> None:
    cora = add_member(alice, "cora", Role.COORDINATOR)
    assert log_in(Client(), cora).get(URL).status_code == 404
    assert bob_client.get(URL).status_code == 404
    assert Client().get(URL).status_code == 302  # to the login page


def test_another_organizations_admin_sees_only_their_own_events(
    alice: Persona, bob: Persona, charlie_client: Client
) -> None:
    services.set_role(alice.member, bob.member, Role.COORDINATOR)
    table = _table(charlie_client.get(URL).content.decode())
    assert "Role changed" not in table and "Bob" not in table and "alice" not in table
    assert "Logged in" in table and "charlie" in table


def test_the_page_is_paginated_newest_first(alice: Persona, alice_client: Client) -> None:
    for _ in range(60):
        with chain.transaction.atomic():
            chain.record(alice.org.pk, "login.failed", actor_id=alice.member.pk,
                         detail={"reason": "second_factor"})
    first = alice_client.get(URL).content.decode()
    assert "Older" in first and _table(first).count("Login refused") == 50
    older = alice_client.get(URL + "?page=2").content.decode()
    assert "Organization created" in _table(older) and "Newer" in older


def test_the_organization_page_links_to_it_for_admins_only(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    assert URL in alice_client.get("/org/").content.decode()
    assert URL not in bob_client.get("/org/").content.decode()
