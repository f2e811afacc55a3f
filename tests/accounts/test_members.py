from __future__ import annotations

import base64

import pytest
from django.http import HttpResponse
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import services
from haven.accounts.keys import unlock_member
from haven.accounts.models import Invite, KeySession, Member, Role
from haven.vault import OrgVault, seal_text
from tests.conftest import PASSWORD, Persona, log_in


def _link_token(page: str) -> str:
    return page.split("/invite/?t=", 1)[1].split("<", 1)[0].strip()


def _step1(client: Client, token: str, password: str = PASSWORD) -> tuple[str, str, str]:
    """Post the password; return (page, TOTP secret in hex, step key) of step 2."""
    page = client.post("/invite/", {"step": "password", "token": token, "new_password": password,
                                    "new_password_again": password}).content.decode()
    key = page.split('<code class="key">', 1)[1].split("<", 1)[0].replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8)).hex()
    step_key = page.split('name="step_key" value="', 1)[1].split('"', 1)[0]
    return page, secret, step_key


def _step2(client: Client, token: str, step_key: str, code: str) -> HttpResponse:
    return client.post("/invite/", {"step": "code", "token": token, "step_key": step_key,
                                    "code": code})


def test_an_admin_invites_a_colleague_who_joins_and_reads_the_organizations_records(
    alice: Persona, alice_client: Client
) -> None:
    sealed = seal_text(bytes(alice.org.public_key), "a record from intake")
    page = alice_client.post("/org/invite/", {"username": "erin", "display_name": "Erin",
                                               "role": Role.CASEWORKER}).content.decode()
    token = _link_token(page)
    erin_browser = Client()
    form = erin_browser.get(f"/invite/?t={token}")
    assert form.status_code == 200 and "Step 1 of 2" in form.content.decode()
    step2, secret, step_key = _step1(erin_browser, token)
    assert "<svg" in step2 and "Step 2 of 2" in step2
    done = _step2(erin_browser, token, step_key, f"{totp(bytes.fromhex(secret)):06d}")
    assert done.status_code == 200
    assert done.content.decode().count("<code>") == 10  # backup codes shown once
    erin = Member.objects.get(username="erin")
    keys = unlock_member(erin, PASSWORD)
    assert OrgVault(keys.org_private).decrypt_text(sealed) == "a record from intake"
    # A caseworker joins the default team through the link: its key went with it.
    assert set(keys.team_keys) == {alice.org.default_team_id}
    assert keys.team_keys == {t: k for t, k in alice.vault().team_keys.items()
                              if t == alice.org.default_team_id}


def test_the_second_factor_is_random_not_derived_from_the_link(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    first = services.choose_password(issued.token, PASSWORD)
    again = services.choose_password(issued.token, PASSWORD)  # the link opened a second time
    assert first.secret != again.secret
    assert services.pending_secret(issued.token, first.step_key) is None  # replaced
    with pytest.raises(services.AccountError, match="out of date"):
        services.confirm_second_factor(issued.token, first.step_key,
                                       f"{totp(bytes.fromhex(first.secret)):06d}")
    member, _codes = services.confirm_second_factor(
        issued.token, again.step_key, f"{totp(bytes.fromhex(again.secret)):06d}")
    device = TOTPDevice.objects.get(user=member)
    assert device.key == again.secret
    assert bytes(Invite.objects.get(pk=issued.invite.pk).sealed_totp or b"") == b""


def test_coming_back_to_the_link_asks_for_the_same_password(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    browser = Client()
    _step1(browser, issued.token)
    again = browser.get(f"/invite/?t={issued.token}").content.decode()
    assert "You already chose a password" in again
    wrong = browser.post("/invite/", {"step": "password", "token": issued.token,
                                      "password": "another-password-entirely-1"})
    assert wrong.status_code == 400 and "not the password you chose" in wrong.content.decode()
    right = browser.post("/invite/", {"step": "password", "token": issued.token, "password": PASSWORD})
    assert right.status_code == 200 and "Step 2 of 2" in right.content.decode()
    erin = Member.objects.get(username="erin")
    assert not erin.is_active and not erin.has_keys  # nothing changes before step 2


def test_an_old_second_step_page_sends_back_to_step_one(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    _step1(Client(), issued.token)
    stale = _step2(Client(), issued.token, "not-the-step-key", "123456")
    assert stale.status_code == 302 and stale["Location"].startswith("/invite/?t=")


def test_a_link_issued_before_the_two_steps_still_works(alice: Persona) -> None:
    """In-flight links from before the upgrade have only the token-wrapped key: step 1 takes them."""
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    row = Invite.objects.get(pk=issued.invite.pk)
    assert row.password_set_at is None and row.wrapped_private_key == "" and row.sealed_totp is None
    # The one-page form of before (password and code, no step) posted after the upgrade
    # leads on to the second step with a new key instead of failing.
    old_page = Client().post("/invite/", {"token": issued.token, "new_password": PASSWORD,
                                          "new_password_again": PASSWORD, "code": "123456"})
    assert old_page.status_code == 200 and "Step 2 of 2" in old_page.content.decode()
    accepted = services.accept_invite(issued.token, PASSWORD)
    assert unlock_member(accepted.member, PASSWORD).org_private == alice.vault().private_key


def test_a_used_invite_link_is_refused(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    services.accept_invite(issued.token, PASSWORD)
    replay = Client().post("/invite/", {"step": "password", "token": issued.token,
                                        "new_password": PASSWORD, "new_password_again": PASSWORD})
    assert replay.status_code == 400
    assert "This link is not valid" in replay.content.decode()


def test_an_expired_invite_link_is_refused(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    Invite.objects.filter(pk=issued.invite.pk).update(expires="2000-01-01T00:00:00Z")
    assert Client().get(f"/invite/?t={issued.token}").status_code == 404


def test_a_weak_password_or_wrong_code_changes_nothing(alice: Persona) -> None:
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    weak = Client().post("/invite/", {"step": "password", "token": issued.token,
                                      "new_password": "password1", "new_password_again": "password1"})
    assert weak.status_code == 400
    assert "Use at least" in weak.content.decode()
    browser = Client()
    _page, _secret, step_key = _step1(browser, issued.token)
    wrong = _step2(browser, issued.token, step_key, "000000")
    assert wrong.status_code == 400 and "authenticator app is wrong" in wrong.content.decode()
    erin = Member.objects.get(username="erin")
    assert not erin.is_active and not erin.has_keys
    assert Invite.objects.get(pk=issued.invite.pk).used_at is None


def test_a_member_who_lost_the_password_is_rekeyed_with_nothing_lost(
    alice: Persona, bob: Persona
) -> None:
    sealed = seal_text(bytes(alice.org.public_key), "older case content")
    issued = services.rekey_member(alice.member, alice.vault().private_key, bob.member)
    new_password = "a-whole-new-password-for-bob-7"
    services.accept_invite(issued.token, new_password)
    bob.member.refresh_from_db()
    assert OrgVault(unlock_member(bob.member, new_password).org_private).decrypt_text(sealed) == \
        "older case content"


def test_a_password_change_rewraps_the_member_key(alice: Persona, alice_client: Client) -> None:
    new = "another-long-password-for-alice-9"
    org_key = alice.vault().private_key
    response = alice_client.post("/account/", {"old_password": PASSWORD, "new_password": new,
                                               "new_password_again": new})
    assert response.status_code == 302
    alice.member.refresh_from_db()
    assert unlock_member(alice.member, new).org_private == org_key
    wrong = alice_client.post("/account/", {"old_password": "nope", "new_password": new,
                                            "new_password_again": new})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.content.decode()


def test_lock_now_ends_every_session_of_the_organization_only(
    alice: Persona, bob: Persona, charlie: Persona
) -> None:
    alice_client, bob_client = log_in(Client(), alice), log_in(Client(), bob)
    charlie_client = log_in(Client(), charlie)
    response = alice_client.post("/org/lock/", {"confirm": "yes"})
    assert response.status_code == 302
    assert bob_client.get("/org/").status_code == 302
    assert not KeySession.objects.filter(member__organization=alice.org).exists()
    assert charlie_client.get("/org/").status_code == 200


def test_another_organizations_admin_gets_404_on_our_members(
    alice: Persona, bob: Persona, charlie_client: Client
) -> None:
    for action in ("rekey", "role", "deactivate"):
        response = charlie_client.post(f"/org/members/{bob.member.pk}/{action}/", {"role": "admin"})
        assert response.status_code == 404
    bob.member.refresh_from_db()
    assert bob.member.role == Role.CASEWORKER and bob.member.is_active
    assert "bob" not in charlie_client.get("/org/").content.decode()


def test_a_caseworker_cannot_manage_members(bob: Persona, bob_client: Client) -> None:
    assert bob_client.post("/org/invite/", {"username": "x", "role": "admin"}).status_code == 404
    assert bob_client.post(f"/org/members/{bob.member.pk}/role/", {"role": "admin"}).status_code == 404
    bob.member.refresh_from_db()
    assert bob.member.role == Role.CASEWORKER


def test_the_last_admin_cannot_demote_themselves(alice: Persona, alice_client: Client) -> None:
    alice_client.post(f"/org/members/{alice.member.pk}/role/", {"role": "viewer"})
    alice.member.refresh_from_db()
    assert alice.member.role == Role.ADMIN


def test_the_recovery_key_restores_access(db: None) -> None:
    made = services.create_organization("rescue", "Rescue", "alice", shares=3, threshold=2)
    sealed = seal_text(bytes(made.organization.public_key), "still readable")
    issued = services.restore_access("rescue", made.recovery[1:], "newadmin")
    member = services.accept_invite(issued.token, PASSWORD).member
    assert member.role == Role.ADMIN
    assert OrgVault(unlock_member(member, PASSWORD).org_private).decrypt_text(sealed) == \
        "still readable"


def test_an_admin_is_not_offered_to_deactivate_or_rekey_themself(
    alice: Persona, bob: Persona, alice_client: Client
) -> None:
    alice_client.cookies["haven_lang"] = "en"
    page = alice_client.get("/org/").content.decode()
    assert f"/org/members/{bob.member.pk}/deactivate/" in page
    assert f"/org/members/{bob.member.pk}/rekey/" in page
    assert f"/org/members/{alice.member.pk}/deactivate/" not in page
    assert f"/org/members/{alice.member.pk}/rekey/" not in page
    assert "This is you" in page


def test_an_admin_who_posts_deactivate_or_rekey_on_themself_is_refused(
    alice: Persona, bob: Persona, alice_client: Client
) -> None:
    services.set_role(alice.member, bob.member, Role.ADMIN)  # not the last admin: still refused
    alice_client.cookies["haven_lang"] = "en"
    invites = Invite.objects.count()
    refused = alice_client.post(f"/org/members/{alice.member.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself" in refused.content.decode()
    refused = alice_client.post(f"/org/members/{alice.member.pk}/rekey/", follow=True)
    assert "You cannot reset your own password and keys here" in refused.content.decode()
    alice.member.refresh_from_db()
    assert alice.member.is_active and alice.member.has_usable_password()
    assert Invite.objects.count() == invites
    assert alice_client.get("/org/").status_code == 200  # still logged in, keys intact


def test_the_invitation_pages_and_the_backup_codes_are_never_cached(
    alice: Persona, alice_client: Client
) -> None:
    """L-4: the TOTP key and the backup codes are on pages before login too."""
    issued = services.invite_member(alice.member, alice.vault().private_key, "erin", "", "viewer")
    browser = Client()
    pages = [browser.get(f"/invite/?t={issued.token}"), browser.get("/invite/?t=unknown"),
             browser.get("/login/")]
    _page, secret, step_key = _step1(browser, issued.token)
    pages.append(browser.post("/invite/", {"step": "code", "token": issued.token,
                                           "step_key": step_key, "code": "000000"}))
    pages.append(_step2(browser, issued.token, step_key, f"{totp(bytes.fromhex(secret)):06d}"))
    pages.append(alice_client.post("/account/backup-codes/"))
    assert [p.status_code for p in pages] == [200, 404, 200, 400, 200, 200]
    for page in pages:
        assert page["Cache-Control"] == "no-store"
    static = Client().get("/static/haven/haven.css")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")
