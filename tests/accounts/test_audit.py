"""Every change to an organization or member leaves one entry in the organization's chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from haven.accounts import services
from haven.accounts.models import Member, Role
from haven.audit.chain import verify
from haven.audit.models import AuditEntry
from tests.conftest import PASSWORD, Persona, add_member, log_in


@pytest.fixture(autouse=True)
def _forget_refused_logins() -> Iterator[None]:
    """The refused logins here count against this test client's address; later tests start afresh."""
    yield
    cache.clear()


def _entries(persona: Persona, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(organization=persona.org, action=action).order_by("seq"))


def _one(persona: Persona, action: str) -> AuditEntry:
    entries = _entries(persona, action)
    assert len(entries) == 1, [e.action for e in AuditEntry.objects.filter(organization=persona.org)]
    assert entries[0].case_id is None
    return entries[0]


def _accept(token: str, password: str = PASSWORD) -> Member:
    return services.accept_invite(token, password).member


def test_creating_an_organization_and_its_first_admin_joining_are_recorded(alice: Persona) -> None:
    created = _one(alice, "org.created")
    assert created.actor_id is None
    assert created.detail == {"member": alice.member.pk, "shares": 1, "threshold": 1}
    joined = _one(alice, "member.joined")
    assert joined.actor_id == alice.member.pk and joined.detail == {"link": "invite"}


def test_an_invitation_and_the_invitee_joining_are_recorded(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "E", "viewer")
    invited = _one(alice, "member.invited")
    assert invited.actor_id == alice.member.pk
    assert invited.detail == {"member": issued.invite.member_id, "role": "viewer"}
    erin = _accept(issued.token)
    assert [e.actor_id for e in _entries(alice, "member.joined")][-1] == erin.pk


def test_a_rekey_and_its_use_are_recorded(alice: Persona, bob: Persona) -> None:
    issued = services.rekey_member(alice.member, alice.vault().private_key, bob.member)
    rekeyed = _one(alice, "member.rekeyed")
    assert rekeyed.actor_id == alice.member.pk and rekeyed.detail == {"member": bob.member.pk}
    _accept(issued.token, "a-fresh-password-for-bob-17")
    assert _entries(alice, "member.joined")[-1].detail == {"link": "rekey"}


def test_a_role_change_records_old_and_new(alice: Persona, bob: Persona) -> None:
    services.set_role(alice.member, bob.member, Role.COORDINATOR)
    entry = _one(alice, "member.role")
    assert entry.actor_id == alice.member.pk
    assert entry.detail == {"member": bob.member.pk, "old": "caseworker", "new": "coordinator"}


def test_a_refused_role_change_changes_nothing_and_records_nothing(alice: Persona) -> None:
    with pytest.raises(services.AccountError, match="last administrator"):
        services.set_role(alice.member, alice.member, Role.VIEWER)
    assert Member.objects.get(pk=alice.member.pk).role == Role.ADMIN
    assert _entries(alice, "member.role") == []


def test_a_deactivation_is_recorded(alice: Persona, bob: Persona) -> None:
    services.deactivate(alice.member, bob.member)
    entry = _one(alice, "member.deactivated")
    assert entry.actor_id == alice.member.pk and entry.detail == {"member": bob.member.pk}
    assert not Member.objects.get(pk=bob.member.pk).is_active


def test_a_deactivated_admin_cannot_act_on_a_stale_member_object(alice: Persona) -> None:
    dora = add_member(alice, "dora", Role.ADMIN)
    stale = Member.objects.get(pk=dora.member.pk)
    services.deactivate(alice.member, dora.member)
    with pytest.raises(services.AccountError, match="Only an administrator"):
        services.deactivate(stale, alice.member)
    with pytest.raises(services.AccountError, match="Only an administrator"):
        services.set_role(stale, alice.member, Role.VIEWER)
    assert Member.objects.get(pk=alice.member.pk).role == Role.ADMIN


def test_lock_now_password_change_and_backup_codes_are_recorded(
    alice: Persona, bob: Persona
) -> None:
    log_in(Client(), bob)
    assert services.lock_organization(alice.member) == 1
    assert _one(alice, "org.locked").detail == {"sessions": 1}
    services.change_password(alice.member, PASSWORD, "a-brand-new-password-for-alice-3")
    changed = _one(alice, "password.changed")
    assert changed.actor_id == alice.member.pk and changed.detail == {}
    services.regenerate_backup_codes(bob.member)
    assert _one(alice, "member.backup_codes").actor_id == bob.member.pk


def test_a_wrong_old_password_changes_nothing_and_records_nothing(alice: Persona) -> None:
    with pytest.raises(services.AccountError):
        services.change_password(alice.member, "not-it", "a-brand-new-password-for-alice-3")
    assert _entries(alice, "password.changed") == []


def test_use_of_the_recovery_key_is_recorded(db: None) -> None:
    made = services.create_organization("rescue", "Rescue", "alice", shares=3, threshold=2)
    issued = services.restore_access("rescue", made.recovery[1:], "newadmin")
    entry = AuditEntry.objects.get(organization=made.organization, action="org.recovered")
    assert entry.actor_id is None
    assert entry.detail == {"member": issued.invite.member_id, "created": True, "shares_used": 2}
    services.restore_access("rescue", made.recovery[:2], "alice")
    last = AuditEntry.objects.filter(action="org.recovered").order_by("-seq").first()
    assert last is not None and last.detail["created"] is False
    assert verify(made.organization.pk) is None


def test_no_entry_holds_a_password_token_or_username(alice: Persona, bob: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "Erin", "viewer")
    _accept(issued.token)
    rekey = services.rekey_member(alice.member, alice.vault().private_key, bob.member)
    services.change_password(alice.member, PASSWORD, "a-brand-new-password-for-alice-3")
    Client().post("/login/", {"username": "bob", "password": "typed-wrong-pass", "code": "1"})
    text = json.dumps([e.detail for e in AuditEntry.objects.all()])
    for secret in (PASSWORD, "a-brand-new-password-for-alice-3", issued.token, rekey.token,
                   "typed-wrong-pass", "erin", "bob", "127.0.0.1"):
        assert secret not in text


def _login(username: str, password: str, code: str) -> int:
    return Client().post("/login/", {"username": username, "password": password,
                                     "code": code}).status_code


def test_logins_and_refused_logins_are_recorded_with_the_reason_only(alice: Persona) -> None:
    log_in(Client(), alice)
    assert _one(alice, "login.ok").actor_id == alice.member.pk
    assert _login("alice", "not-the-password", alice.code()) == 400
    assert _login("alice", alice.password, "000000") == 400
    reasons = [e.detail for e in _entries(alice, "login.failed")]
    assert reasons == [{"reason": "password"}, {"reason": "second_factor"}]


def test_a_locked_account_records_throttled_refusals(alice: Persona, settings: Any) -> None:
    settings.HAVEN_CLIENT_ATTEMPTS = 100
    for _ in range(10):
        _login("alice", "not-the-password", alice.code())
    assert _login("alice", alice.password, alice.code()) == 400  # locked, even with the password
    reasons = [e.detail["reason"] for e in _entries(alice, "login.failed")]
    assert reasons == ["password"] * 10 + ["throttled"]
    assert _entries(alice, "login.ok") == []


def test_a_refused_login_of_an_unknown_username_is_recorded_nowhere(alice: Persona) -> None:
    before = AuditEntry.objects.count()
    assert _login("ghost", alice.password, alice.code()) == 400
    assert AuditEntry.objects.count() == before


def test_audit_verify_finds_a_tampered_account_event(alice: Persona, bob: Persona) -> None:
    services.set_role(alice.member, bob.member, Role.ADMIN)
    call_command("audit", "verify")
    entry = _one(alice, "member.role")
    AuditEntry.objects.filter(pk=entry.pk).update(detail={**entry.detail, "new": "viewer"})
    broken = verify(alice.org.pk)
    assert broken is not None and broken.seq == entry.seq and "edited" in broken.problem
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1
