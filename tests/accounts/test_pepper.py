"""M-2 and I-6: a server pepper in the password-derived key and the login hash; NFC passwords."""

from __future__ import annotations

import unicodedata

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.test import Client, override_settings

from haven import vault
from haven.accounts import services
from haven.accounts.keys import kdf_params, unlock_member
from haven.accounts.models import Member, Role
from tests.conftest import PASSWORD, Persona, add_member, log_in

OTHER_PEPPER = b"a-different-server-pepper-of-the-right-length-0123456789"


def _make_old(persona: Persona) -> bytes:
    """Give a member the material of a release before the pepper: argon2id$1$ and a plain hash."""
    keys = unlock_member(persona.member, persona.password)
    Member.objects.filter(pk=persona.member.pk).update(
        wrapped_private_key=vault.wrap_with_password(keys.member_private, persona.password,
                                                     kdf_params()).to_text(),
        password=make_password(persona.password, hasher="md5"),
    )
    persona.member.refresh_from_db()
    return keys.org_private


def test_a_member_with_old_material_logs_in_and_ends_with_the_peppered_versions(
    alice: Persona, bob: Persona
) -> None:
    org_private = _make_old(bob)
    assert bob.member.wrapped_private_key.startswith("argon2id$1$")
    assert bob.member.password.startswith("md5$")
    log_in(Client(), bob)
    bob.member.refresh_from_db()
    assert bob.member.wrapped_private_key.startswith("argon2id$2$")
    assert bob.member.password.startswith("md5p$")
    assert unlock_member(bob.member, PASSWORD).org_private == org_private
    log_in(Client(), bob)  # and logs in again with the new material


def test_a_wrong_password_does_not_upgrade_old_material(alice: Persona, bob: Persona) -> None:
    _make_old(bob)
    before = bob.member.wrapped_private_key
    refused = Client().post("/login/", {"username": "bob", "password": PASSWORD + "x",
                                        "code": bob.code()})
    assert refused.status_code == 400
    bob.member.refresh_from_db()
    assert bob.member.wrapped_private_key == before and bob.member.password.startswith("md5$")
    cache.clear()  # the refusal counted toward the per-client throttle


def test_a_backup_alone_cannot_check_a_password_guess(alice: Persona) -> None:
    """The database row with the right password, but without the pepper: no answer either way."""
    member = Member.objects.get(pk=alice.member.pk)
    assert member.wrapped_private_key.startswith("argon2id$2$")
    with pytest.raises(vault.WrongPassword):
        vault.unwrap_with_password(member.wrapped_private_key, PASSWORD)  # no pepper
    with pytest.raises(vault.WrongPassword):
        vault.unwrap_with_password(member.wrapped_private_key, PASSWORD, b"\0" * 32)
    assert check_password(PASSWORD, member.password)
    with override_settings(HAVEN_PEPPER=OTHER_PEPPER):
        assert not check_password(PASSWORD, member.password)
        with pytest.raises(vault.WrongPassword):
            unlock_member(member, PASSWORD)
    # Nor does the hash verify as a plain (unpeppered) hash of the password.
    assert not check_password(PASSWORD, member.password.replace("md5p$", "md5$", 1))


def test_a_password_typed_in_another_unicode_form_opens_the_keys(alice: Persona) -> None:
    composed = unicodedata.normalize("NFC", "ёлка-кофе-café-причал-42")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    dana = add_member(alice, "dana", Role.CASEWORKER)
    services.change_password(dana.member, PASSWORD, decomposed)
    dana.member.refresh_from_db()
    assert dana.member.check_password(composed)
    assert unlock_member(dana.member, composed).org_private == alice.vault().private_key
    dana.password = composed
    log_in(Client(), dana)
