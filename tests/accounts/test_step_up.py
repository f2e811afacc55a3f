"""L-6: admin actions need the password typed again recently; wrong passwords count toward the lock."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from haven.accounts import stepup
from haven.accounts.models import Invite, Member, Role
from tests.conftest import PASSWORD, Persona


@pytest.fixture(autouse=True)
def _forget_client_counts() -> Iterator[None]:
    """Wrong passwords here count toward the per-client login throttle, which lives in the cache."""
    yield
    cache.clear()


def _age(client: Client, minutes: float) -> None:
    session = client.session
    session[stepup.SESSION_KEY] = time.time() - minutes * 60
    session.save()


@pytest.mark.parametrize(("path", "data"), [
    ("/org/invite/", {"username": "erin", "role": Role.ADMIN}),
    ("member/rekey/", {}),
    ("member/role/", {"role": Role.ADMIN}),
    ("member/deactivate/", {}),
    ("/org/lock/", {"confirm": "yes"}),
    ("/account/backup-codes/", {}),
])
def test_an_old_session_must_type_the_password_before_an_admin_action(
    alice: Persona, bob: Persona, alice_client: Client, path: str, data: dict[str, str]
) -> None:
    if path.startswith("member/"):
        path = f"/org/members/{bob.member.pk}/{path.removeprefix('member/')}"
    codes_before = set(alice.member.backup_codes.values_list("code_hash", flat=True))
    _age(alice_client, 16)
    refused = alice_client.post(path, data)
    assert refused.status_code == 302 and refused["Location"].startswith("/account/confirm/")
    bob.member.refresh_from_db()
    assert bob.member.role == Role.CASEWORKER and bob.member.is_active
    assert not Invite.objects.filter(member=bob.member, used_at__isnull=True).exists()
    assert not Member.objects.filter(username="erin").exists()
    assert set(alice.member.backup_codes.values_list("code_hash", flat=True)) == codes_before
    assert alice_client.get("/org/").status_code == 200  # still logged in: the lock did not run

    confirmed = alice_client.post("/account/confirm/", {"password": PASSWORD, "next": "/org/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/org/"
    done = alice_client.post(path, data)
    assert done.status_code in (200, 302) and not done.get("Location", "").startswith("/account/confirm/")


def test_within_the_window_no_password_is_asked(alice: Persona, alice_client: Client,
                                                 settings: SettingsWrapper) -> None:
    _age(alice_client, 14)
    assert alice_client.get("/org/lock/").status_code == 200
    settings.HAVEN_STEP_UP_MINUTES = 10
    assert alice_client.get("/org/lock/")["Location"] == "/account/confirm/?next=%2Forg%2Flock%2F"


def test_wrong_passwords_on_the_confirm_page_lock_the_account(
    alice: Persona, alice_client: Client, settings: SettingsWrapper
) -> None:
    settings.HAVEN_LOGIN_LOCK_AFTER = 3
    _age(alice_client, 20)
    for _ in range(3):
        wrong = alice_client.post("/account/confirm/", {"password": "not-it"})
        assert wrong.status_code == 400 and "current password is wrong" in wrong.content.decode()
    right = alice_client.post("/account/confirm/", {"password": PASSWORD})
    assert right.status_code == 400 and "locked" in right.content.decode()
    assert alice_client.get("/org/lock/").status_code == 302  # still not stepped up


def test_guessing_the_old_password_on_password_change_locks_the_account(
    alice: Persona, alice_client: Client, settings: SettingsWrapper
) -> None:
    settings.HAVEN_LOGIN_LOCK_AFTER = 3
    new = "another-long-password-for-alice-9"
    for _ in range(3):
        alice_client.post("/account/", {"old_password": "guess", "new_password": new,
                                        "new_password_again": new})
    right = alice_client.post("/account/", {"old_password": PASSWORD, "new_password": new,
                                            "new_password_again": new})
    assert right.status_code == 400 and "locked" in right.content.decode()
    alice.member.refresh_from_db()
    assert alice.member.check_password(PASSWORD)


def test_the_confirm_page_goes_back_only_to_this_site(alice: Persona, alice_client: Client) -> None:
    response = alice_client.post("/account/confirm/", {"password": PASSWORD,
                                                       "next": "https://evil.example/"})
    assert response["Location"] == "/org/"
