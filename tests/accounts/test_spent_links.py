"""H-1: a spent, superseded or expired link with a copy of the database opens nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haven import vault
from haven.accounts import services
from haven.accounts.keys import open_with_recovery
from haven.accounts.models import Invite, Member
from haven.accounts.tasks import wipe_expired_links
from tests.conftest import Persona, _accept


def _opens_anything(token: str) -> bool:
    """The attacker of the review's PoC: every invite row of the database plus the token."""
    for row in Invite.objects.all():
        try:
            invite_private = vault.unwrap_with_token(bytes(row.token_wrapped_key), token.encode())
            vault.open_sealed(invite_private, bytes(row.sealed_org_key))
        except vault.VaultError:
            continue
        return True
    return False


def test_after_accepting_the_link_and_a_database_copy_open_nothing(db: None) -> None:
    made = services.create_organization("poc", "PoC org", "anna")
    token = made.admin_invite.token
    assert _opens_anything(token)  # before acceptance the link is the key, as it must be
    anna = _accept(token)
    assert not _opens_anything(token)
    row = Invite.objects.get(member=anna.member)
    assert row.used_at is not None
    assert bytes(row.token_wrapped_key) == b"" and bytes(row.sealed_org_key) == b""
    # The member's long-term key pair is a fresh one, not the link's.
    member = Member.objects.get(pk=anna.member.pk)
    assert bytes(member.public_key) != bytes(made.admin_invite.invite.public_key)
    assert anna.vault().private_key == open_with_recovery(made.organization, made.recovery)


def test_a_reset_link_supersedes_the_earlier_one_at_once(alice: Persona, bob: Persona) -> None:
    first = services.rekey_member(alice.member, alice.vault().private_key, bob.member)
    second = services.rekey_member(alice.member, alice.vault().private_key, bob.member)
    assert not _opens_anything(first.token)
    assert services.find_invite(first.token) is None
    assert _opens_anything(second.token)


def test_the_worker_wipes_links_that_expired_unused(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    assert wipe_expired_links() == 0
    assert _opens_anything(issued.token)
    Invite.objects.filter(pk=issued.invite.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert wipe_expired_links() == 1
    assert not _opens_anything(issued.token)
    assert Invite.objects.filter(pk=issued.invite.pk).exists()  # still listed, opens nothing


def test_after_step_one_the_token_alone_opens_nothing_and_a_wrong_code_changes_nothing(
    alice: Persona,
) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    enrolment = services.choose_password(issued.token, "correct-horse-battery-staple-42")
    assert not _opens_anything(issued.token)  # the org key now needs the chosen password
    with pytest.raises(services.AccountError, match="authenticator app is wrong"):
        services.confirm_second_factor(issued.token, enrolment.step_key, "000000")
    assert services.find_invite(issued.token) is not None
    erin = Member.objects.get(username="erin")
    assert not erin.is_active and not erin.has_keys
