"""Partners: asked and accepted on this server, added by card from another, ended from
either side; every refusal says what to do and changes nothing; only administrators of
the organization see its partners."""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from haven import outbox
from haven.accounts.models import Organization, Role
from haven.audit.models import AuditEntry
from haven.network import actions, inbox, keys, transport
from haven.network import envelope as env
from haven.network.models import Partner
from haven.network.partners import (
    Card,
    PartnerError,
    active_partners,
    our_card,
    read_card,
)
from haven.outbox.models import Outbox
from haven.vault.signing import generate_signing_key
from tests.conftest import Persona, add_member, log_in, make_org

P = Partner.State
PAGE = "/network/partners/"
ALICE_SERVER, CHARLIE_SERVER = "http://127.0.0.1:8001", "http://127.0.0.1:8002"


def _codes(org: Organization) -> list[str]:
    return list(AuditEntry.objects.filter(organization=org).order_by("seq")
                .values_list("action", flat=True))


def _partner_codes(org: Organization) -> list[str]:
    return [c for c in _codes(org) if c.startswith("partner.")]


def _row(org: Organization, other: Organization) -> Partner:
    return Partner.objects.get(organization=org, signing_key=bytes(keys.signing_key(other).public_key))


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def _card_of(org: Organization, server: str) -> str:
    with override_settings(SITE_URL=server):
        return our_card(org).text()


def _card(**changes: Any) -> str:
    body = {"v": 1, "name": "Far", "slug": "far", "server": "https://far.example",
            "encryption_key": base64.b64encode(b"e" * 32).decode(),
            "signing_key": base64.b64encode(b"s" * 32).decode(), **changes}
    raw = json.dumps(body).encode()
    return "haven-card:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _add_by_card(client: Client, card: str, *, server: str, confirmed: bool = True) -> Any:
    with override_settings(SITE_URL=server):
        checked = client.post(PAGE + "add/", {"card": card})
        assert checked.status_code == 200, _text(checked)[:2000]
        data = {"card": read_card(card).text(), "confirm": "1"}
        if confirmed:
            data["confirmed"] = "on"
        return client.post(PAGE + "add/", data)


def _remote_pair(alice: Persona, charlie: Persona) -> tuple[Partner, Partner]:
    """Alice's and charlie's organizations as if on two servers, each holding the other's card."""
    with override_settings(SITE_URL=ALICE_SERVER):
        ours = actions.add_partner(alice.member, read_card(_card_of(charlie.org, CHARLIE_SERVER)),
                                   confirmed=True)
    with override_settings(SITE_URL=CHARLIE_SERVER):
        theirs = actions.add_partner(charlie.member, read_card(_card_of(alice.org, ALICE_SERVER)),
                                     confirmed=True)
    return ours, theirs


# On this server: ask, accept, decline.

def test_an_admin_asks_an_organization_on_this_server_and_its_admin_accepts(
        alice: Persona, charlie: Persona, alice_client: Client, charlie_client: Client) -> None:
    page = alice_client.get(PAGE)
    assert page.status_code == 200
    assert f'<option value="{charlie.org.pk}">Second</option>' in page.content.decode()
    response = alice_client.post(PAGE + "ask/", {"organization": charlie.org.pk})
    assert response.status_code == 302
    ours, theirs = _row(alice.org, charlie.org), _row(charlie.org, alice.org)
    assert (ours.state, theirs.state) == (P.ASKED, P.INVITED)
    assert ours.local == charlie.org and theirs.local == alice.org
    assert bytes(ours.encryption_key) == bytes(charlie.org.public_key)
    assert ours.added_by == alice.member and theirs.added_by is None
    assert f'<option value="{charlie.org.pk}"' not in alice_client.get(PAGE).content.decode()

    invited = _text(charlie_client.get(PAGE))
    assert "“First” asks to become your partner." in invited
    assert charlie_client.post(f"{PAGE}{theirs.pk}/accept/").status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.state, theirs.state) == (P.ACTIVE, P.ACTIVE)
    assert ours.accepted_at is not None and ours.accepted_at == theirs.accepted_at
    assert list(active_partners(alice.org)) == [ours]
    assert _partner_codes(alice.org) == ["partner.asked", "partner.accepted"]
    assert _partner_codes(charlie.org) == ["partner.invited", "partner.accepted"]
    assert "on this server" in _text(alice_client.get(PAGE))


def test_a_declined_invitation_ends_both_rows_and_may_be_asked_again(
        alice: Persona, charlie: Persona, charlie_client: Client) -> None:
    actions.ask_partner(alice.member, charlie.org.pk)
    theirs = _row(charlie.org, alice.org)
    assert charlie_client.post(f"{PAGE}{theirs.pk}/decline/").status_code == 302
    ours = _row(alice.org, charlie.org)
    theirs.refresh_from_db()
    assert (ours.state, theirs.state) == (P.ENDED, P.ENDED)
    assert (ours.ended_by_us, theirs.ended_by_us) == (False, True)
    assert ours.accepted_at is None
    assert _partner_codes(alice.org) == ["partner.asked", "partner.declined"]
    assert _partner_codes(charlie.org) == ["partner.invited", "partner.declined"]
    assert list(active_partners(alice.org)) == []
    # Accepting what was declined is refused; asking again reuses the rows.
    with pytest.raises(PartnerError, match="withdrawn or already answered"):
        actions.accept_partner(charlie.member, theirs.pk)
    again = actions.ask_partner(alice.member, charlie.org.pk)
    assert again.pk == ours.pk and again.state == P.ASKED
    assert Partner.objects.count() == 2


def test_asking_twice_or_asking_who_asked_you_is_refused_and_changes_nothing(
        alice: Persona, charlie: Persona, alice_client: Client, charlie_client: Client) -> None:
    actions.ask_partner(alice.member, charlie.org.pk)
    before = (_codes(alice.org), _codes(charlie.org), list(Partner.objects.values("state")))
    with pytest.raises(PartnerError, match="You already asked “Second”"):
        actions.ask_partner(alice.member, charlie.org.pk)
    with pytest.raises(PartnerError, match="already asked you: accept its invitation"):
        actions.ask_partner(charlie.member, alice.org.pk)
    with pytest.raises(PartnerError, match="cannot be its own partner"):
        actions.ask_partner(alice.member, alice.org.pk)
    # On the page an organization not in the list is a form error.
    refused = charlie_client.post(PAGE + "ask/", {"organization": alice.org.pk})
    assert refused.status_code == 400
    assert "Choose an organization from the list" in _text(refused)
    assert before == (_codes(alice.org), _codes(charlie.org), list(Partner.objects.values("state")))


def test_the_asking_side_may_withdraw_its_invitation(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    ours = actions.ask_partner(alice.member, charlie.org.pk)
    confirm = alice_client.get(f"{PAGE}{ours.pk}/end/")
    assert "Withdraw the invitation" in _text(confirm)
    assert alice_client.post(f"{PAGE}{ours.pk}/end/").status_code == 302
    assert (_row(alice.org, charlie.org).state, _row(charlie.org, alice.org).state) == (P.ENDED, P.ENDED)
    assert _partner_codes(charlie.org) == ["partner.invited", "partner.ended_by_partner"]


# On another server: the partner card.

def test_cards_make_a_partnership_between_two_servers_with_the_same_fingerprint_on_both_sides(
        alice: Persona, charlie: Persona, alice_client: Client, charlie_client: Client) -> None:
    with override_settings(SITE_URL=ALICE_SERVER):
        page = alice_client.get(PAGE).content.decode()
    card = re.search(r'<textarea id="our-card"[^>]*>(haven-card:[^<]+)</textarea>', page)
    ours_shown = re.search(r'id="our-fingerprint">([0-9 ]+)<', page)
    assert card and ours_shown
    assert re.fullmatch(r"(\d{5} ){5}\d{5}", ours_shown.group(1))
    with override_settings(SITE_URL=CHARLIE_SERVER):
        checked = charlie_client.post(PAGE + "add/", {"card": card.group(1)})
    assert checked.status_code == 200
    theirs_shown = re.search(r'id="their-fingerprint">([0-9 ]+)<', checked.content.decode())
    assert theirs_shown and theirs_shown.group(1) == ours_shown.group(1) == keys.org_fingerprint(alice.org)
    assert "This card introduces “First” on the server http://127.0.0.1:8001." in _text(checked)
    assert not Partner.objects.exists()  # checking adds nothing

    added = _add_by_card(charlie_client, card.group(1), server=CHARLIE_SERVER)
    assert added.status_code == 302
    row = Partner.objects.get(organization=charlie.org)
    assert (row.state, row.server_url, row.remote_slug, row.local) == (P.ACTIVE, ALICE_SERVER, "first", None)
    assert row.accepted_at is not None and row.added_by == charlie.member
    entry = AuditEntry.objects.get(organization=charlie.org, action="partner.added")
    assert entry.detail["fingerprint"] == ours_shown.group(1)
    # The other side adds ours the same way, from the downloaded file.
    with override_settings(SITE_URL=CHARLIE_SERVER):
        download = charlie_client.get(PAGE + "card/")
    assert download["Content-Disposition"] == 'attachment; filename="haven-card-second.txt"'
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("haven-card-second.txt", download.content, "text/plain")
    with override_settings(SITE_URL=ALICE_SERVER):
        checked = alice_client.post(PAGE + "add/", {"card": "", "card_file": upload})
        assert keys.org_fingerprint(charlie.org) in checked.content.decode()
        alice_client.post(PAGE + "add/", {"card": download.content.decode(), "confirm": "1",
                                          "confirmed": "on"})
    assert _row(alice.org, charlie.org).state == P.ACTIVE
    shown = _text(alice_client.get(PAGE))
    assert "http://127.0.0.1:8002" in shown and keys.org_fingerprint(charlie.org) in shown


def _refused(client: Client, card: str, *, server: str = ALICE_SERVER,
             confirmed: bool = True) -> str:
    """Post a card through both steps' forms; the refusal's text (nothing may change)."""
    with override_settings(SITE_URL=server):
        checked = client.post(PAGE + "add/", {"card": card})
        assert checked.status_code == 400, _text(checked)[:1500]
        data = {"card": card, "confirm": "1", **({"confirmed": "on"} if confirmed else {})}
        again = client.post(PAGE + "add/", data)  # a page skipping the check step
        assert again.status_code == 400
    return _text(checked)


def test_malformed_cards_are_refused_with_a_message(
        alice: Persona, alice_client: Client) -> None:
    before = (Partner.objects.count(), _codes(alice.org))
    assert "a card starts with “haven-card:”" in _refused(alice_client, "hello partner")
    assert "damaged (cut short or changed)" in _refused(alice_client, "haven-card:!!!notbase64")
    assert "damaged (cut short or changed)" in _refused(alice_client, _card()[:-20])
    assert "damaged or incomplete" in _refused(alice_client, _card(signing_key="c2hvcnQ="))
    assert "damaged or incomplete" in _refused(alice_client, _card(name=""))
    assert "Haven version this server does not read" in _refused(alice_client, _card(v=2))
    with override_settings(SITE_URL=ALICE_SERVER):
        blank = alice_client.post(PAGE + "add/", {"card": "   "})
    assert blank.status_code == 400 and "Paste the partner's card" in _text(blank)
    assert before == (Partner.objects.count(), _codes(alice.org))


@pytest.mark.parametrize("server", ["http://far.example", "http://192.168.1.5:8000", "ftp://far.example",
                                    "http://127.0.0.2:8000",
                                    "https://far.example/some/path", "https://user:pw@far.example",
                                    "javascript:alert(1)", "https://"])
def test_a_server_address_that_is_not_https_or_loopback_http_is_refused(
        alice: Persona, alice_client: Client, server: str) -> None:
    text = _refused(alice_client, _card(server=server))
    assert "must start with https://" in text
    assert "plain http:// is allowed only for 127.0.0.1 or localhost" in text
    assert not Partner.objects.exists()


@pytest.mark.parametrize("server", ["https://far.example", "https://far.example:8443/",
                                    "http://localhost:8000", "http://127.0.0.1:9000", "http://[::1]:8000"])
def test_https_and_loopback_http_addresses_are_accepted(server: str) -> None:
    assert read_card(_card(server=server)).server == server.rstrip("/")


def test_our_own_card_a_card_of_this_server_and_a_card_already_added_are_refused(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    own = _refused(alice_client, _card_of(alice.org, ALICE_SERVER))
    assert "This is your own organization's card." in own
    same_server = _refused(alice_client, _card_of(charlie.org, ALICE_SERVER))
    assert "This card names this very server" in same_server
    _remote_pair(alice, charlie)
    before = (list(Partner.objects.values("pk", "state", "version")), _codes(alice.org))
    already = _refused(alice_client, _card_of(charlie.org, CHARLIE_SERVER))
    assert "“Second” is already in your list of partners with these keys (Partner)." in already
    assert before == (list(Partner.objects.values("pk", "state", "version")), _codes(alice.org))


def test_without_the_confirmation_nothing_is_added(alice: Persona, charlie: Persona,
                                                    alice_client: Client) -> None:
    response = _add_by_card(alice_client, _card_of(charlie.org, CHARLIE_SERVER), server=ALICE_SERVER,
                            confirmed=False)
    assert response.status_code == 400
    assert "then tick the box to confirm it matches. Nothing was added yet." in _text(response)
    assert keys.org_fingerprint(charlie.org) in _text(response)  # still on the comparing page
    assert not Partner.objects.exists() and "partner.added" not in _codes(alice.org)
    with pytest.raises(PartnerError, match="tick the box"):
        actions.add_partner(alice.member, Card("X", "x", "https://x.example", b"e" * 32, b"s" * 32),
                            confirmed=False)


def test_an_ended_partner_is_renewed_from_its_card(alice: Persona, charlie: Persona) -> None:
    ours, _theirs = _remote_pair(alice, charlie)
    actions.end_partner(alice.member, alice.vault(), ours.pk)
    with override_settings(SITE_URL=ALICE_SERVER):
        renewed = actions.add_partner(alice.member, read_card(_card_of(charlie.org, CHARLIE_SERVER)),
                                      confirmed=True)
    assert renewed.pk == ours.pk and renewed.state == P.ACTIVE
    assert renewed.ended_at is None and renewed.ended_by_us is None
    entry = AuditEntry.objects.filter(organization=alice.org, action="partner.added").last()
    assert entry is not None and entry.detail["renewed"] is True


# Ending a partnership.

def test_ending_on_this_server_ends_both_rows_from_either_side(
        alice: Persona, charlie: Persona, alice_client: Client, charlie_client: Client) -> None:
    ours = actions.ask_partner(alice.member, charlie.org.pk)
    theirs = _row(charlie.org, alice.org)
    actions.accept_partner(charlie.member, theirs.pk)
    confirm = charlie_client.get(f"{PAGE}{theirs.pk}/end/")
    assert confirm.status_code == 200 and "its partnership with you ends at the same moment" in _text(confirm)
    assert _row(charlie.org, alice.org).state == P.ACTIVE  # the confirmation page changes nothing
    assert charlie_client.post(f"{PAGE}{theirs.pk}/end/").status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.state, ours.ended_by_us, theirs.state, theirs.ended_by_us) == (P.ENDED, False, P.ENDED, True)
    assert _partner_codes(alice.org)[-1] == "partner.ended_by_partner"
    assert _partner_codes(charlie.org)[-1] == "partner.ended"
    again = alice_client.post(f"{PAGE}{ours.pk}/end/")
    assert again.status_code == 400 and "already ended" in _text(again)
    # Asked again and accepted, and this time ended by the other side.
    actions.ask_partner(charlie.member, alice.org.pk)
    actions.accept_partner(alice.member, ours.pk)
    assert alice_client.post(f"{PAGE}{ours.pk}/end/").status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.ended_by_us, theirs.ended_by_us) == (True, False)


def test_ending_a_remote_partner_sends_a_signed_ended_envelope_that_ends_theirs(
        alice: Persona, charlie: Persona, alice_client: Client,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Organization, Partner, bytes]] = []
    real = transport.deliver

    def deliver(org: Organization, partner: Partner, blob: bytes, **kw: Any) -> str:
        sent.append((org, partner, blob))
        return real(org, partner, blob, **kw)

    monkeypatch.setattr(transport, "deliver", deliver)
    ours, theirs = _remote_pair(alice, charlie)
    confirm = alice_client.get(f"{PAGE}{ours.pk}/end/")
    assert "it is sent a signed notice" in _text(confirm)
    assert alice_client.post(f"{PAGE}{ours.pk}/end/").status_code == 302
    ours.refresh_from_db()
    assert (ours.state, ours.ended_by_us) == (P.ENDED, True) and ours.ended_at is not None
    assert len(sent) == 1 and sent[0][0] == alice.org and sent[0][1].pk == ours.pk
    blob = sent[0][2]
    envelope = env.read(blob, max_size=1 << 16)
    assert envelope.kind is env.Kind.ENDED
    env.verify(envelope, bytes(keys.signing_key(alice.org).public_key))
    assert envelope.recipient == bytes(charlie.org.public_key)
    row = Outbox.objects.get(channel=transport.CHANNEL, organization=alice.org)  # for the worker
    queued = outbox.open_payload(bytes(row.payload))
    assert queued["url"] == CHARLIE_SERVER + "/network/inbox/"
    assert base64.b64decode(queued["blob"]) == blob

    assert inbox.receive(blob, via="test").result == "ended"
    theirs.refresh_from_db()
    assert (theirs.state, theirs.ended_by_us) == (P.ENDED, False)
    assert _partner_codes(charlie.org) == ["partner.added", "partner.ended_by_partner"]
    # A second copy (the outbox retries) changes nothing: the inbox refuses it, and the
    # handler itself would only say so.
    with pytest.raises(inbox.Refused, match="has ended"):
        inbox.receive(blob, via="test")
    assert actions.partner_ended(charlie.org, theirs, envelope, blob) == "already ended"
    assert _partner_codes(charlie.org) == ["partner.added", "partner.ended_by_partner"]
    theirs_again = Partner.objects.get(pk=theirs.pk)
    assert (theirs_again.ended_at, theirs_again.version) == (theirs.ended_at, theirs.version)


def test_an_ended_envelope_signed_by_another_key_is_refused(
        alice: Persona, charlie: Persona) -> None:
    _ours, theirs = _remote_pair(alice, charlie)
    public, seed = generate_signing_key()
    forged = env.make(env.Kind.ENDED, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                      sender_public=bytes(keys.signing_key(alice.org).public_key),
                      recipient_public=bytes(charlie.org.public_key), created=timezone.now(),
                      content=None)
    with pytest.raises(inbox.Refused, match="signature does not verify"):
        inbox.receive(forged, via="test")
    with pytest.raises(env.BadEnvelope):
        actions.partner_ended(charlie.org, theirs, env.read(forged, max_size=1 << 16), forged)
    theirs.refresh_from_db()
    assert theirs.state == P.ACTIVE and "partner.ended_by_partner" not in _codes(charlie.org)
    stranger = env.make(env.Kind.ENDED, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                        sender_public=public, recipient_public=bytes(charlie.org.public_key),
                        created=timezone.now(), content=None)
    with pytest.raises(inbox.Refused, match="Exchange partner cards first"):
        inbox.receive(stranger, via="test")
    assert Partner.objects.get(pk=theirs.pk).state == P.ACTIVE


# Who sees what.

def test_only_the_organizations_administrators_reach_its_partners(
        alice: Persona, charlie: Persona, alice_client: Client, charlie_client: Client) -> None:
    ours = actions.ask_partner(alice.member, charlie.org.pk)
    bob = add_member(alice, "bob", Role.COORDINATOR)
    bob_client = log_in(Client(), bob)
    for url in (PAGE, PAGE + "card/", f"{PAGE}{ours.pk}/end/"):
        assert bob_client.get(url).status_code == 404
    for url in (PAGE + "ask/", PAGE + "add/", f"{PAGE}{ours.pk}/end/", f"{PAGE}{ours.pk}/accept/"):
        assert bob_client.post(url, {"organization": charlie.org.pk}).status_code == 404
    # Charlie administers the other organization: alice's row ids are not his.
    for url in (f"{PAGE}{ours.pk}/end/", f"{PAGE}{ours.pk}/accept/", f"{PAGE}{ours.pk}/decline/"):
        assert charlie_client.post(url).status_code == 404
    assert charlie_client.get(f"{PAGE}{ours.pk}/end/").status_code == 404
    assert _row(alice.org, charlie.org).state == P.ASKED
    with pytest.raises(PartnerError):
        actions.end_partner(charlie.member, charlie.vault(), ours.pk)
    assert "Partners" not in _text(bob_client.get("/desk/settings/"))
    settings_page = alice_client.get("/desk/settings/").content.decode()
    assert 'href="/network/partners/"' in settings_page


def test_the_page_without_partners_and_without_a_public_address_says_so(
        alice: Persona, alice_client: Client) -> None:
    with override_settings(SITE_URL_CONFIGURED=False):
        text = _text(alice_client.get(PAGE))
    assert "No partners yet." in text
    assert "This server's public address is not set (HAVEN_SITE_URL)" in text
    assert "There is no other organization on this server" in text
    with override_settings(SITE_URL_CONFIGURED=True):
        assert "HAVEN_SITE_URL" not in _text(alice_client.get(PAGE))


def test_the_partners_pages_speak_russian_and_ukrainian(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    ours = actions.ask_partner(alice.member, charlie.org.pk)
    for lang, words in (("ru", "Организации-партнёры"), ("uk", "Організації-партнери")):
        alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        page = _text(alice_client.get(PAGE))
        assert words in page, page[:3000]
        assert "Your partners" not in page and "Add a partner" not in page
        assert "A partner is another organization" not in page and "Compare" not in page
        assert "Withdraw" not in _text(alice_client.get(f"{PAGE}{ours.pk}/end/"))
        refused = _refused(alice_client, "hello")
        assert "haven-card:" in refused and "This is not a partner card" not in refused
        with override_settings(SITE_URL=ALICE_SERVER):
            compare = _text(alice_client.post(PAGE + "add/", {"card": _card()}))
        assert "fingerprint" not in compare.lower() and "partner" not in compare.lower()


def test_a_third_organization_sees_nothing_of_a_partnership(alice: Persona, charlie: Persona) -> None:
    dora, _made = make_org("third", "dora")
    actions.ask_partner(alice.member, charlie.org.pk)
    assert not Partner.objects.filter(organization=dora.org).exists()
    dora_client = log_in(Client(), dora)
    page = dora_client.get(PAGE).content.decode()
    assert "No partners yet." in page
    assert f'value="{alice.org.pk}"' in page and f'value="{charlie.org.pk}"' in page


def test_until_both_sides_added_each_others_card_the_inbox_refuses(
        alice: Persona, charlie: Persona) -> None:
    with override_settings(SITE_URL=ALICE_SERVER):
        ours = actions.add_partner(alice.member, read_card(_card_of(charlie.org, CHARLIE_SERVER)),
                                   confirmed=True)
    actions.end_partner(alice.member, alice.vault(), ours.pk)  # charlie never added alice's card
    row = Outbox.objects.get(channel=transport.CHANNEL, organization=alice.org)
    blob = base64.b64decode(outbox.open_payload(bytes(row.payload))["blob"])
    with pytest.raises(inbox.Refused, match="Exchange partner cards first"):
        inbox.receive(blob, via="test")
    assert not Partner.objects.filter(organization=charlie.org).exists()


def test_the_organizations_audit_page_tells_partnership_changes_in_words(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    with override_settings(SITE_URL=ALICE_SERVER):
        actions.add_partner(alice.member, read_card(_card_of(charlie.org, CHARLIE_SERVER)),
                            confirmed=True)
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = _text(alice_client.get("/desk/audit/"))
    assert "Партнёр на другом сервере добавлен по его карточке" in page
    assert "Организация-партнёр" in page and "Second" in page
    assert keys.org_fingerprint(charlie.org) in page


def test_an_organization_already_a_partner_by_card_is_not_offered_in_the_list(
        alice: Persona, charlie: Persona, alice_client: Client) -> None:
    _remote_pair(alice, charlie)
    assert f'<option value="{charlie.org.pk}"' not in alice_client.get(PAGE).content.decode()
    with pytest.raises(PartnerError, match="is already your partner"):
        actions.ask_partner(alice.member, charlie.org.pk)


def test_the_desk_settings_page_links_the_network_and_its_title_is_only_words(
        alice_client: Client) -> None:
    page = alice_client.get("/desk/settings/").content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "&lt;" not in title
    for url in ("/network/partners/", "/network/incoming/", "/network/figures/"):
        assert f'href="{url}"' in page
