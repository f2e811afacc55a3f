"""E-mail notifications through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from django.test import Client

from haven.audit.models import AuditEntry
from haven.notify import addresses, smtp
from haven.notify.models import Destination, Kind, Pending, SmtpSettings
from haven.outbox.models import Outbox
from tests.conftest import Persona, make_case

from .conftest import Mailbox, deliver, notify_round


def hear(persona: Persona, *kinds: str) -> None:
    addresses.save_preference(persona.member, kinds=list(kinds), quiet_from=None, quiet_to=None,
                              digest="now", digest_hour=9, lang="en")


def test_an_email_says_how_many_and_nothing_else(alice: Persona, mailbox: Mailbox,
                                                 alice_client: Client) -> None:
    for _i in range(4):
        make_case(alice, "before the address")  # told of nothing: the counting starts later
    response = alice_client.post("/account/notifications/email/", {"address": "alice@example.org"})
    assert response.status_code == 302
    dest = Destination.objects.get(member=alice.member, kind="email")
    assert b"alice@example.org" not in bytes(dest.sealed)  # sealed at rest
    hear(alice, Kind.NEW_CASE)
    case = make_case(alice, "Ivan Petrov, 12 Lenina street")
    assert notify_round() == 1
    [(to, message)] = mailbox.messages
    assert to == ["alice@example.org"] and message["From"] == "desk@haven.example"
    assert message["Subject"] == "New on the desk"
    body = message.get_payload(decode=True).decode()
    assert body.startswith("New on the desk: 1 new case.") and "/desk/" in body
    assert case.number == 5 and "5" not in body.split("\n")[0]
    assert "Ivan" not in body and "Lenina" not in body
    assert notify_round() == 0 and len(mailbox.messages) == 1


def test_a_bounced_address_keeps_the_counts_is_shown_and_a_fixed_one_gets_them(
        alice: Persona, mailbox: Mailbox, alice_client: Client) -> None:
    mailbox.refuse.add("gone@example.org")
    addresses.set_email(alice.member, "gone@example.org")
    hear(alice, Kind.NEW_CASE)
    make_case(alice)
    notify_round()
    dest = Destination.objects.get(member=alice.member)
    assert dest.state == "bounced" and mailbox.messages == []
    assert Pending.objects.get(destination=dest).count == 1 and not Outbox.objects.exists()
    page = alice_client.get("/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your e-mail notifications wait: the address refused them." in page
    make_case(alice)
    notify_round()
    assert mailbox.messages == []
    alice_client.post("/account/notifications/email/", {"address": "alice@example.org"})
    notify_round()
    [(to, message)] = mailbox.messages
    assert to == ["alice@example.org"]
    assert message.get_payload(decode=True).decode().startswith("New on the desk: 2 new cases.")
    assert "wait" not in alice_client.get("/desk/").content.decode().split("<main")[1][:300]


def test_a_server_that_is_down_is_retried_and_nothing_is_sent_twice(
        alice: Persona, mailbox: Mailbox, settings: object) -> None:
    addresses.set_email(alice.member, "alice@example.org")
    hear(alice, Kind.NEW_CASE)
    make_case(alice)
    port = settings.HAVEN_SMTP_PORT  # type: ignore[attr-defined]
    settings.HAVEN_SMTP_PORT = 1  # type: ignore[attr-defined]  # nothing listens there
    notify_round()
    row = Outbox.objects.get()
    assert row.attempts == 1 and row.last_error.startswith("smtp:")
    assert Destination.objects.get(member=alice.member).state == "active"
    settings.HAVEN_SMTP_PORT = port  # type: ignore[attr-defined]
    Outbox.objects.update(next_attempt=row.created)
    deliver()
    assert len(mailbox.messages) == 1 and not Outbox.objects.exists()


def test_an_organization_can_use_its_own_smtp_server(alice: Persona, bob: Persona, mailbox: Mailbox,
                                                     settings: object, alice_client: Client) -> None:
    port = settings.HAVEN_SMTP_PORT  # type: ignore[attr-defined]
    settings.HAVEN_SMTP_HOST = ""  # type: ignore[attr-defined]
    assert smtp.server_for(alice.org.pk) is None
    page = alice_client.get("/account/notifications/").content.decode()
    assert "E-mail is not set up for your organization." in page
    response = alice_client.post("/account/notifications/smtp/", {
        "host": "127.0.0.1", "port": port, "security": "none", "username": "",
        "password": "", "sender": "desk@first.example"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="notify.smtp", actor_id=alice.member.pk).exists()
    addresses.set_email(alice.member, "alice@example.org")
    hear(alice, Kind.NEW_CASE)
    make_case(alice)
    notify_round()
    [(_to, message)] = mailbox.messages
    assert message["From"] == "desk@first.example"
    bob_client = Client()
    from tests.conftest import log_in

    log_in(bob_client, bob)
    assert bob_client.post("/account/notifications/smtp/", {
        "host": "evil.example", "port": 25, "security": "none", "sender": "x@evil.example"},
    ).status_code == 404
    assert SmtpSettings.objects.get().host == "127.0.0.1"


def test_a_password_is_sealed_and_bad_server_settings_change_nothing(
        alice: Persona, alice_client: Client) -> None:
    alice_client.post("/account/notifications/smtp/", {
        "host": "mail.example.org", "port": 587, "security": "starttls", "username": "desk",
        "password": "s3cret-pass", "sender": "desk@example.org"})
    row = SmtpSettings.objects.get()
    assert b"s3cret-pass" not in bytes(row.password)
    assert smtp.server_for(alice.org.pk).password == "s3cret-pass"  # type: ignore[union-attr]
    response = alice_client.post("/account/notifications/smtp/", {
        "host": "other.example.org", "port": 587, "security": "starttls", "sender": "no-at-sign"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "sender address" in response.content.decode()
    assert SmtpSettings.objects.get().host == "mail.example.org"


def test_a_bad_address_is_refused_and_changes_nothing(alice: Persona, mailbox: Mailbox,
                                                      alice_client: Client) -> None:
    response = alice_client.post("/account/notifications/email/", {"address": "not an address"},
                                 HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Type a whole e-mail address" in response.content.decode()
    assert not Destination.objects.exists()
