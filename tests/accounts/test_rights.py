"""One permission table: what each role may do, the pages that check it, the refusal they show."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.accounts.models import Role
from haven.accounts.rights import RIGHTS, NotAllowed, Right, can, require
from haven.accounts.services import AccountError
from haven.cases.actions import ActionError
from haven.core.errors import Refusal
from haven.funds import errors as funds_errors
from haven.knowledge.content import ArticleError
from haven.knowledge.posts import PostError
from haven.telegram.bots import BotError
from tests.conftest import Persona, add_member, log_in

R = Right
# The table as a coordinator reads it; it is what the five per-package tables said before.
EXPECTED = {
    Role.ADMIN: {R.CASE_READ, R.CASE_WORK, R.CASE_MANAGE, R.FUNDS_READ, R.FUNDS_MANAGE,
                 R.FUNDS_CONFIGURE, R.KNOWLEDGE_EDIT, R.ORG_ADMIN, R.TEAM_MANAGE},
    Role.COORDINATOR: {R.CASE_READ, R.CASE_WORK, R.CASE_MANAGE, R.FUNDS_READ, R.FUNDS_MANAGE,
                       R.FUNDS_APPROVE, R.KNOWLEDGE_EDIT},
    Role.CASEWORKER: {R.CASE_READ, R.CASE_WORK},
    Role.TREASURER: {R.CASE_READ, R.FUNDS_READ, R.FUNDS_MANAGE, R.FUNDS_APPROVE, R.FUNDS_CONFIGURE},
    Role.VIEWER: {R.CASE_READ, R.FUNDS_READ},
    Role.VOLUNTEER: {R.CASE_READ, R.CASE_WORK},  # only the cases assigned to them (teams)
}

# A page per right, and who of alice (admin), cora (coordinator), bob (caseworker) gets it.
PAGES = [
    ("/desk/", {"alice", "cora", "bob"}),
    ("/desk/settings/", {"alice", "cora"}),
    ("/funds/", {"alice", "cora"}),
    ("/funds/settings/", {"alice"}),
    ("/kb/manage/new/", {"alice", "cora"}),
    ("/telegram/settings/", {"alice"}),
    ("/intake/settings/", {"alice"}),
]


def test_each_role_has_the_rights_it_had() -> None:
    assert {role: set(rights) for role, rights in RIGHTS.items()} == EXPECTED
    assert set(RIGHTS) == set(Role.values)


@pytest.mark.django_db
def test_a_deactivated_member_has_no_right_and_is_refused_in_words(bob: Persona) -> None:
    assert can(bob.member, Right.CASE_WORK)
    bob.member.is_active = False
    assert not can(bob.member, Right.CASE_READ)
    with pytest.raises(NotAllowed) as refused:
        require(bob.member, Right.CASE_READ)
    assert str(refused.value) == "Your role does not allow this; ask a coordinator."
    assert refused.value.right == Right.CASE_READ


def test_every_refusal_is_shown_the_same_way() -> None:
    for kind in (ActionError, AccountError, funds_errors.FundsError, funds_errors.NotAllowed,
                 BotError, PostError, ArticleError, NotAllowed):
        assert issubclass(kind, Refusal), kind
    # A funds role refusal is caught with the funds' refusals and with every role refusal.
    assert issubclass(funds_errors.NotAllowed, NotAllowed)
    assert issubclass(funds_errors.NotAllowed, funds_errors.FundsError)


@pytest.mark.django_db
def test_each_page_answers_404_to_a_role_without_its_right(alice: Persona, bob: Persona) -> None:
    cora = add_member(alice, "cora", Role.COORDINATOR)
    clients = {"alice": log_in(Client(), alice), "cora": log_in(Client(), cora),
               "bob": log_in(Client(), bob)}
    for url, allowed in PAGES:
        for name, client in clients.items():
            expected = 200 if name in allowed else 404
            assert client.get(url).status_code == expected, (url, name)


def test_a_page_sends_someone_logged_out_to_the_login(client: Client) -> None:
    for url, _allowed in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
