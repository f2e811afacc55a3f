"""What arrives from another organization: checked before anything is stored, refused with
a reason, and carried between servers by the outbox over real HTTP (retried while the
partner is down, given up after the configured days, refusals final)."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haven import outbox
from haven.accounts.models import Organization
from haven.network import envelope as env
from haven.network import inbox, keys, storage, transport
from haven.network.models import Partner
from haven.outbox.models import Outbox
from haven.vault import generate_keypair
from haven.vault.signing import generate_signing_key
from tests.conftest import Persona


def _partner_rows(a: Organization, b: Organization, *, state: str = Partner.State.ACTIVE,
                  b_url: str = "") -> tuple[Partner, Partner]:
    """``a`` knows ``b`` (at ``b_url``, or on this server) and ``b`` knows ``a``."""
    at_a = Partner.objects.create(
        organization=a, name=b.name, local=None if b_url else b, server_url=b_url,
        remote_slug=b.slug, encryption_key=bytes(b.public_key),
        signing_key=bytes(keys.signing_key(b).public_key), state=state)
    at_b = Partner.objects.create(
        organization=b, name=a.name, local=a, remote_slug=a.slug,
        encryption_key=bytes(a.public_key), signing_key=bytes(keys.signing_key(a).public_key),
        state=state)
    return at_a, at_b


def _envelope(sender: Persona, to: Organization | None, *, created: Any = None,
              content: bytes | None = b"payload", stranger: bool = False) -> bytes:
    org = sender.org
    public, seed = (generate_signing_key() if stranger else
                    (bytes(keys.signing_key(org).public_key), keys.signing_seed(sender.vault(), org)))
    return env.make(env.Kind.ENDED, envelope_id=str(uuid.uuid4()),
                    sender_seed=seed, sender_public=public,
                    recipient_public=bytes(to.public_key) if to else generate_keypair().public,
                    created=created or timezone.now(),
                    content=content)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """A handler for ENDED envelopes that records what it got."""
    got: list[tuple[str, str]] = []

    def record(org: Organization, partner: Partner, envelope: env.Envelope, blob: bytes) -> str:
        got.append((org.slug, partner.name))
        return "noted"

    monkeypatch.setitem(inbox.HANDLERS, env.Kind.ENDED, record)
    return got


def test_an_envelope_from_an_active_partner_reaches_its_handler(
        alice: Persona, charlie: Persona, seen: list[tuple[str, str]]) -> None:
    _partner_rows(alice.org, charlie.org)
    received = inbox.receive(_envelope(alice, charlie.org), via="test")
    assert received.result == "noted" and received.organization == charlie.org
    assert seen == [(charlie.org.slug, alice.org.name)]


@pytest.mark.parametrize(("case", "status", "words"), [
    ("unknown signer", 403, "does not know as a partner"),
    ("ended", 403, "has ended"),
    ("asked", 403, "not accepted the partnership"),
    ("forged", 403, "forged or altered"),
    ("old", 403, "replay"),
    ("future", 403, "replay"),
    ("truncated", 400, "cut short"),
    ("oversized", 413, "larger"),
    ("not for us", 404, "not for an organization on this server"),
])
def test_refusals_say_why_and_reach_no_handler(
        alice: Persona, charlie: Persona, seen: list[tuple[str, str]], settings: Any,
        case: str, status: int, words: str) -> None:
    state = {"ended": Partner.State.ENDED, "asked": Partner.State.ASKED}.get(case, "active")
    _partner_rows(alice.org, charlie.org, state=state)
    blob = _envelope(alice, charlie.org)
    if case == "unknown signer":
        blob = _envelope(alice, charlie.org, stranger=True)
    elif case == "forged":
        altered = bytearray(blob)
        altered[-70] ^= 1
        blob = bytes(altered)
    elif case == "old":
        blob = _envelope(alice, charlie.org, created=timezone.now() - timedelta(days=8))
    elif case == "future":
        blob = _envelope(alice, charlie.org, created=timezone.now() + timedelta(days=1))
    elif case == "truncated":
        blob = blob[:-10]
    elif case == "oversized":
        settings.HAVEN_NETWORK_MAX_ENVELOPE = len(blob) - 1
    elif case == "not for us":
        blob = _envelope(alice, None)
    with pytest.raises(inbox.Refused) as refused:
        inbox.receive(blob, via="test")
    assert refused.value.status == status
    assert words in refused.value.reason
    assert seen == []
    answer = Client().post("/network/inbox/", blob, content_type="application/octet-stream")
    assert answer.status_code == status and answer.json() == {"ok": False,
                                                              "reason": refused.value.reason}
    assert seen == []


def test_the_inbox_takes_posts_only_and_a_body_larger_than_the_limit_is_refused_unread(
        alice: Persona, charlie: Persona, seen: list[tuple[str, str]], settings: Any) -> None:
    assert Client().get("/network/inbox/").status_code == 405
    settings.HAVEN_NETWORK_MAX_ENVELOPE = 100
    answer = Client().post("/network/inbox/", b"x" * 101, content_type="application/octet-stream")
    assert answer.status_code == 413 and "larger" in answer.json()["reason"]
    assert Client().post("/network/inbox/", b"",
                         content_type="application/octet-stream").status_code == 411


def test_a_partner_on_this_server_receives_in_the_senders_transaction(
        alice: Persona, charlie: Persona, seen: list[tuple[str, str]]) -> None:
    at_alice, _ = _partner_rows(alice.org, charlie.org)
    got: list[dict[str, Any]] = []
    transport.delivered.connect(lambda sender, **kw: got.append(kw), weak=False,
                                dispatch_uid="test-local")
    try:
        assert transport.deliver(alice.org, at_alice, _envelope(alice, charlie.org)) == "delivered"
    finally:
        transport.delivered.disconnect(dispatch_uid="test-local")
    assert seen == [(charlie.org.slug, alice.org.name)]
    assert [{k: kw[k] for k in ("referral", "partner_id", "via")} for kw in got] == [
        {"referral": "", "partner_id": at_alice.pk, "via": "local"}]
    assert not Outbox.objects.filter(channel=transport.CHANNEL).exists()


def test_addresses_other_than_https_are_refused_except_loopback() -> None:
    assert transport.inbox_url("https://haven.example.org/") == (
        "https://haven.example.org/network/inbox/")
    assert transport.inbox_url("http://127.0.0.1:8001") == "http://127.0.0.1:8001/network/inbox/"
    for bad in ("http://haven.example.org", "ftp://x", "javascript:alert(1)", ""):
        with pytest.raises(transport.BadAddress):
            transport.inbox_url(bad)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_over_http_the_outbox_retries_a_partner_that_is_down_then_delivers_once(
        live_server: Any, seen: list[tuple[str, str]]) -> None:
    from tests.conftest import make_org

    alice, _ = make_org("first", "alice")
    charlie, _ = make_org("second", "charlie")
    down = f"http://127.0.0.1:{_closed_port()}"
    at_alice, _ = _partner_rows(alice.org, charlie.org, b_url=down)
    blob = _envelope(alice, charlie.org)
    assert transport.deliver(alice.org, at_alice, blob) == "queued"
    result = outbox.run_once(transport.CHANNEL)
    assert (result.sent, result.retried) == (0, 1)
    row = Outbox.objects.get(channel=transport.CHANNEL)
    assert "unreachable" in row.last_error and row.attempts == 1
    assert seen == []
    # Back up (the address now points at the live server) a day later: sent, and only once.
    Partner.objects.filter(pk=at_alice.pk).update(server_url=live_server.url)
    payload = outbox.open_payload(bytes(row.payload))
    payload["url"] = transport.inbox_url(live_server.url)
    Outbox.objects.filter(pk=row.pk).update(payload=outbox.seal_payload(payload),
                                            next_attempt=timezone.now(),
                                            created=timezone.now() - timedelta(days=1))
    result = outbox.run_once(transport.CHANNEL)
    assert result.sent == 1 and seen == [(charlie.org.slug, alice.org.name)]
    assert not Outbox.objects.filter(channel=transport.CHANNEL).exists()


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_final_and_a_partner_down_for_longer_than_allowed_is_given_up(
        live_server: Any, seen: list[tuple[str, str]], settings: Any) -> None:
    from tests.conftest import make_org

    alice, _ = make_org("first", "alice")
    charlie, _ = make_org("second", "charlie")
    at_alice, at_charlie = _partner_rows(alice.org, charlie.org, b_url=live_server.url)
    Partner.objects.filter(pk=at_charlie.pk).update(state=Partner.State.ENDED)
    failures: list[dict[str, Any]] = []
    transport.undeliverable.connect(lambda sender, **kw: failures.append(kw), weak=False,
                                    dispatch_uid="test-failed")
    try:
        transport.deliver(alice.org, at_alice, _envelope(alice, charlie.org))
        result = outbox.run_once(transport.CHANNEL)
        assert result.failed == 1
        assert "refused by the partner" in failures[0]["reason"]
        assert "ended" in failures[0]["reason"]
        # Down for longer than HAVEN_NETWORK_GIVE_UP_DAYS: given up, told once.
        Partner.objects.filter(pk=at_alice.pk).update(server_url=f"http://127.0.0.1:{_closed_port()}")
        at_alice.refresh_from_db()
        transport.deliver(alice.org, at_alice, _envelope(alice, charlie.org))
        Outbox.objects.filter(channel=transport.CHANNEL).update(
            created=timezone.now() - timedelta(days=settings.HAVEN_NETWORK_GIVE_UP_DAYS, seconds=1))
        result = outbox.run_once(transport.CHANNEL)
        assert result.failed == 1 and "unreachable" in failures[1]["reason"]
    finally:
        transport.undeliverable.disconnect(dispatch_uid="test-failed")
    assert seen == [] and not Outbox.objects.filter(channel=transport.CHANNEL).exists()


def test_a_stored_envelope_is_removed_when_its_transaction_fails(alice: Persona) -> None:
    with pytest.raises(RuntimeError), storage.kept(b"sealed bytes") as name:
        assert storage.read(name) == b"sealed bytes"
        raise RuntimeError("the row could not be written")
    assert not storage.path_of(name).exists()
    kept_name = storage.write(b"orphan")
    assert storage.sweep(now=timezone.now().timestamp() + storage.ORPHAN_AGE + 1) >= 1
    assert not storage.path_of(kept_name).exists()
