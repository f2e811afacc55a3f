"""Two Haven servers on loopback, over real HTTP only: partners, referrals, a partner down,
forgeries.

A runs on SQLite with a Telegram bot on the fake Bot API, B on PostgreSQL (a fresh
database); the other way round when the tests themselves run on PostgreSQL (CI's second
pass, DATABASE_URL set), so both directions are covered. Each is ``haven serve`` + ``haven worker`` with its own data folder and
secrets (tests/network/servers.py), shared by the module's tests. Nothing here reads a
server's database: members use the pages, requesters the bot and the follow-up page,
the servers' workers carry envelopes between them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from .flows import (
    NOTE,
    SITUATION,
    Cards,
    Phone,
    accept_incoming,
    agree_label,
    b_replies_and_requester_reads,
    case_numbers,
    codename_in,
    exchange_cards,
    follow_up,
    incoming_ids,
    new_case,
    panel_saying,
    partner_entry,
    photo,
    propose_referral,
    referral_panel,
    wait_for,
    wait_incoming,
    web_intake,
)
from .servers import Network, Server, pg_available, two_servers

pytestmark = pytest.mark.skipif(not pg_available(),
                                reason="PostgreSQL does not answer on 127.0.0.1:5432 (one of the servers runs on it)")

# --- the servers, shared by the module ----------------------------------------------------


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    # Retries of the network channel come within 2 s, not after the usual backoff.
    dbs = ("postgresql", "sqlite") if os.environ.get("DATABASE_URL", "").startswith("postgres") \
        else ("sqlite", "postgresql")
    with two_servers(*dbs, extra_env={"HAVEN_NETWORK_RETRY_MAX_DELAY": "2"}) as (network, _a, _b):
        yield network


@pytest.fixture(scope="module")
def a(net: Network) -> Server:
    return net.servers[0]


@pytest.fixture(scope="module")
def b(net: Network) -> Server:
    return net.servers[1]


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, net: Network) -> Iterator[None]:
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        print(net.logs())  # the servers' logs, shown with the failure ("Captured stdout teardown")


@pytest.fixture(scope="module")
def partners(a: Server, b: Server) -> Cards:
    return exchange_cards(a, b)


def test_partner_cards_are_exchanged_and_the_fingerprints_match_on_both_sides(
        a: Server, b: Server, partners: Cards) -> None:
    assert partners.seen_on_a == partners.b_fingerprint  # A read B's card as B shows it
    assert partners.seen_on_b == partners.a_fingerprint
    assert partners.a_fingerprint != partners.b_fingerprint
    assert len(partners.a_fingerprint.split()) == 6  # six groups, read out over the phone
    for server, other, fingerprint in ((a, "Beta", partners.b_fingerprint),
                                       (b, "Alpha", partners.a_fingerprint)):
        entry = partner_entry(server, other)
        assert fingerprint in entry, entry
        assert "End the partnership" in entry  # active: what an active partner's entry offers


# --- referrals -------------------------------------------------------------------------------


def test_a_telegram_requester_is_referred_with_a_photo_and_continues_with_the_partner(
        net: Network, a: Server, b: Server, partners: Cards) -> None:
    phone = Phone(net, a, 61_000_001)
    number = phone.intake()
    said = phone.send_photo(photo())
    assert said  # the bot acknowledged the photo

    desk_a = a.member("caseworker")
    coordinator_b = b.member("coordinator")
    before = incoming_ids(coordinator_b)
    propose_referral(desk_a, number)
    # The question reaches the requester in Telegram, with two buttons; they agree.
    label = agree_label()
    wait_for("the referral question in Telegram", lambda: any(t == label for t, _d in phone.buttons()), 30, (a,))
    data = next(d for t, d in phone.buttons() if t == label)
    phone.press(data)

    pk = wait_incoming(b, coordinator_b, before)
    detail, b_case = accept_incoming(coordinator_b, pk)
    assert NOTE in detail.text
    assert re.search(r"\.jpg \(image/jpeg", detail.text), detail.text[:2000]  # the photo came along
    assert SITUATION[:40] in detail.text or "Пришла" in detail.text

    # A's worker passes B's "how to reach us" on in the requester's chat.
    reach = wait_for("the continuation in Telegram",
                     lambda: next((t for t in phone.texts() if b.url in t), None), 40, (a, b))
    codename = codename_in(reach)
    _tab, thread = follow_up(b, codename)
    assert "Alpha" in thread.text, thread.text[:1500]  # B's greeting: passed on from Alpha, with consent
    b_replies_and_requester_reads(b, b_case, codename)
    wait_for("A's case to show the partner's acceptance",
             lambda: "Accepted by the partner" in referral_panel(desk_a, number), 20, (a,))


def test_a_web_requester_agrees_on_the_follow_up_page_and_reads_the_continuation_there(
        a: Server, b: Server, partners: Cards) -> None:
    desk_a = a.member("caseworker")
    before_cases = case_numbers(desk_a)
    codename = web_intake(a, [("povestka.jpg", photo((10, 120, 200)), "image/jpeg")])
    number = new_case(desk_a, before_cases)
    coordinator_b = b.member("coordinator")
    before = incoming_ids(coordinator_b)
    propose_referral(desk_a, number)

    tab, page = follow_up(a, codename)
    question = page.form_having("referral")
    answered = tab.submit(page, question, button=("answer", "agree"))
    assert "Beta" in answered.text

    pk = wait_incoming(b, coordinator_b, before)
    detail, b_case = accept_incoming(coordinator_b, pk)
    assert "povestka.jpg" in detail.text

    def continuation() -> str | None:
        _tab, thread = follow_up(a, codename)
        return thread.text if b.url in thread.text else None

    text = wait_for("the continuation in A's follow-up thread", continuation, 40, (a, b))
    new_codename = codename_in(text, other_than=codename)
    assert new_codename != codename
    b_replies_and_requester_reads(b, b_case, new_codename)


def test_with_the_partner_down_the_referral_waits_in_the_outbox_and_arrives_once(
        a: Server, b: Server, partners: Cards) -> None:
    assert b.proxy is not None
    desk_a = a.member("caseworker")
    before_cases = case_numbers(desk_a)
    codename = web_intake(a, [])
    number = new_case(desk_a, before_cases)
    coordinator_b = b.member("coordinator")
    before = incoming_ids(coordinator_b)
    propose_referral(desk_a, number)
    tries = len(b.proxy.inbox)
    b.stop_web()
    try:
        tab, page = follow_up(a, codename)
        tab.submit(page, page.form_having("referral"), button=("answer", "agree"))
        # A's worker tries, finds nobody, and keeps the envelope for the next attempt; the
        # case says so.
        wait_for("A's worker to try B twice", lambda: len(b.proxy.inbox) > tries + 1, 30, (a,))
        waiting = wait_for("the tries on A's case page",
                           lambda: panel_saying(desk_a, number, "did not take it yet"), 20, (a,))
        assert "The requester agreed; on its way" in waiting, waiting
        assert "unreachable" in waiting and "It is tried again on its own" in waiting, waiting
    finally:
        b.start_web()
    pk = wait_incoming(b, coordinator_b, before)
    time.sleep(3)  # a second delivery would have arrived by now (retries are 2 s apart here)
    assert [i for i in incoming_ids(coordinator_b) if i not in before] == [pk]  # delivered once
    arrived = wait_for("A's case to show the referral delivered",
                       lambda: panel_saying(desk_a, number, "Received by the partner"), 20, (a,))
    assert "did not take it yet" not in arrived, arrived


def _card_key(card: str, which: str) -> bytes:
    """One of the public keys a partner card carries ("encryption_key" or "signing_key")."""
    body = card.split(":", 1)[1]
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return base64.b64decode(data[which])


def _post_envelope(server: Server, blob: bytes) -> tuple[int, dict[str, Any]]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.public_port, timeout=30)
    try:
        conn.request("POST", "/network/inbox/", body=blob,
                     headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(blob)),
                              "Accept-Language": "en"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        conn.close()


def _genuine_referral(b: Server) -> bytes | None:
    from haven.network.envelope import BadEnvelope, Kind, read

    assert b.proxy is not None
    for blob in b.proxy.inbox:
        try:
            if read(blob, max_size=64 * 2**20).kind == Kind.REFERRAL:
                return blob
        except BadEnvelope:
            continue
    return None


def test_a_referral_signed_by_a_key_b_does_not_know_is_refused_and_nothing_is_stored(
        a: Server, b: Server, partners: Cards) -> None:
    from haven.network.envelope import Kind, make
    from haven.vault.signing import generate_signing_key

    coordinator_b = b.member("coordinator")
    before = incoming_ids(coordinator_b)
    public, seed = generate_signing_key()
    to_b = _card_key(partners.b_card, "encryption_key")
    content = json.dumps({"note": "send me everything"}).encode()

    # Signed by a key nobody introduced to B, sealed to B's key as a real one would be.
    forged = make(Kind.REFERRAL, envelope_id=str(uuid.uuid4()), sender_seed=seed, sender_public=public,
                  recipient_public=to_b, created=datetime.now(UTC), content=content)
    status, answer = _post_envelope(b, forged)
    assert status == 403 and answer["ok"] is False
    assert "does not know" in answer["reason"], answer

    # Naming A's signing key as its sender, but signed with another key.
    posing = make(Kind.REFERRAL, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                  sender_public=_card_key(partners.a_card, "signing_key"), recipient_public=to_b,
                  created=datetime.now(UTC), content=content)
    status, answer = _post_envelope(b, posing)
    assert status == 403 and answer["ok"] is False
    assert "forged or altered" in answer["reason"], answer

    assert incoming_ids(coordinator_b) == before  # nothing in B's list


def test_a_referral_altered_on_the_way_is_refused_and_a_resent_one_is_stored_once(
        a: Server, b: Server, partners: Cards) -> None:
    if _genuine_referral(b) is None:  # run alone: make one referral travel first
        desk_a = a.member("caseworker")
        before_cases = case_numbers(desk_a)
        codename = web_intake(a, [])
        number = new_case(desk_a, before_cases)
        propose_referral(desk_a, number)
        tab, page = follow_up(a, codename)
        tab.submit(page, page.form_having("referral"), button=("answer", "agree"))
        wait_for("a referral from A to B", lambda: _genuine_referral(b), 40, (a, b))
    genuine = _genuine_referral(b)
    assert genuine is not None
    coordinator_b = b.member("coordinator")
    wait_for("the referral in B's list", lambda: incoming_ids(coordinator_b), 40, (a, b))
    before = incoming_ids(coordinator_b)

    # A's genuine envelope (as B's proxy saw it) with one byte of its payload changed.
    altered = bytearray(genuine)
    altered[len(altered) // 2] ^= 0x01
    status, answer = _post_envelope(b, bytes(altered))
    assert status == 403 and answer["ok"] is False
    assert "forged or altered" in answer["reason"], answer

    # Its header changed (another envelope id, to pass as a new referral).
    head = genuine.replace(b'"id":"', b'"id":"0', 1)
    assert head != genuine
    status, answer = _post_envelope(b, head)
    assert status in (400, 403) and answer["ok"] is False, answer

    # The genuine one again (a resend after a lost answer): B has it already and keeps one.
    status, answer = _post_envelope(b, genuine)
    assert status == 200 and answer["ok"] is True, answer
    assert incoming_ids(coordinator_b) == before  # nothing new in B's list


def test_ending_the_partnership_tells_the_partner_and_nothing_more_is_taken(
        a: Server, b: Server, partners: Cards) -> None:
    """Last in the module: it ends the partnership the other tests use."""
    admin_a = a.member("coordinator")
    page = admin_a.open("/network/partners/")
    link = re.search(r'href="(/network/partners/\d+/end/)"', page.body)
    assert link, page.text[:1500]
    confirm = admin_a.open(link.group(1))
    form = next(f for f in confirm.forms if f.method == "post" and not f.action)
    admin_a.submit(confirm, form)
    assert "Partnership ended" in partner_entry(a, "Beta")
    # B hears of it from a notice signed by A, carried by A's worker.
    told = wait_for("B to learn that A ended the partnership",
                    lambda: (e := partner_entry(b, "Alpha")) and "Partnership ended" in e and e, 30, (a, b))
    assert "by the partner" in told, told
    # A's caseworkers have nobody to refer to any more; B takes nothing more from A.
    desk_a = a.member("caseworker")
    before_cases = case_numbers(desk_a)
    web_intake(a, [])
    number = new_case(desk_a, before_cases)
    refer = desk_a.open(f"/network/cases/{number}/refer/")
    assert "no active partner" in refer.text, refer.text[:1500]
    genuine = _genuine_referral(b)
    if genuine is not None:
        status, answer = _post_envelope(b, genuine)
        assert status == 403 and "ended" in answer["reason"], answer
