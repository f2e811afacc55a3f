"""M-4: the login throttle holds behind a reverse proxy and on an onion service.

Behind a proxy, the client is read from X-Forwarded-For only when the request
comes from the configured proxy; on an onion service there is no client
address, and one attacker must not lock every member out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from haven.core import clients
from tests.conftest import Persona

PROXY = "127.0.0.1"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _login(persona_or_name: Persona | str, password: str, code: str, **meta: str) -> str:
    username = persona_or_name if isinstance(persona_or_name, str) else persona_or_name.member.username
    response = Client(**meta).post("/login/", {"username": username, "password": password, "code": code})
    return response.content.decode() if response.status_code != 302 else "logged in"


def _attack(times: int, **meta: str) -> None:
    for i in range(times):
        page = _login(f"ghost{i}", "wrong-password-here", "123456", **meta)
        assert "Wrong username, password or code." in page


@override_settings(HAVEN_TRUSTED_PROXY=[PROXY])
def test_behind_the_proxy_thirty_bad_logins_do_not_lock_out_another_member(bob: Persona) -> None:
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    _attack(30, **attacker)
    refused = _login("ghost-next", "wrong-password-here", "123456", **attacker)
    assert "Too many attempts from this connection" in refused
    member = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert _login(bob, bob.password, bob.code(), **member) == "logged in"


@override_settings(HAVEN_TRUSTED_PROXY=[PROXY])
def test_a_forged_forwarded_header_from_elsewhere_is_ignored(bob: Persona) -> None:
    # Not from the proxy: the header is the attacker's own text, the bucket is the real address.
    for i in range(30):
        _login(f"ghost{i}", "wrong", "123456", REMOTE_ADDR="192.0.2.9",
               HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    refused = _login("ghost", "wrong", "123456", REMOTE_ADDR="192.0.2.9",
                     HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert "Too many attempts from this connection" in refused


@override_settings(HAVEN_ONION=True)
def test_on_an_onion_service_bad_logins_lock_no_one_else_out(bob: Persona) -> None:
    _attack(40, REMOTE_ADDR="127.0.0.1")
    assert _login(bob, bob.password, bob.code(), REMOTE_ADDR="127.0.0.1") == "logged in"


@override_settings(HAVEN_ONION=True)
def test_on_an_onion_service_one_account_still_locks_after_ten_failures(
    alice: Persona, bob: Persona
) -> None:
    for _ in range(10):
        _login(alice, "wrong-password-here", alice.code())
    assert "locked after too many failed attempts" in _login(alice, alice.password, alice.code())
    assert _login(bob, bob.password, bob.code()) == "logged in"


def test_successful_logins_do_not_use_up_the_connections_attempts(bob: Persona, settings: object) -> None:
    setattr(settings, "HAVEN_CLIENT_ATTEMPTS", 3)  # noqa: B010
    for _ in range(3):
        assert _login(bob, bob.password, bob.code(offset=0), REMOTE_ADDR="192.0.2.1") == "logged in"
        bob.member.totpdevice_set.update(last_t=-1)
    _attack(3, REMOTE_ADDR="192.0.2.1")
    assert "Too many attempts from this connection" in _login(bob, bob.password, bob.code(),
                                                              REMOTE_ADDR="192.0.2.1")


def test_the_cache_holds_no_client_address(bob: Persona) -> None:
    _attack(3, REMOTE_ADDR="203.0.113.77")
    assert all("203.0.113.77" not in str(key) for key in cache._cache)  # type: ignore[attr-defined]


def test_counters_are_atomic_and_start_at_one(db: None) -> None:
    assert [clients.hit("k", 60) for _ in range(3)] == [1, 2, 3]
    clients.undo("k")
    assert clients.count("k") == 2
