from __future__ import annotations

import re

from django.test import Client

from haven.audit.models import AuditEntry
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, Mode
from tests.conftest import Persona, log_in

from .conftest import TOKEN


def test_an_admin_sets_checks_and_switches_the_bot(alice: Persona, fake: FakeTelegram, client: Client) -> None:
    log_in(client, alice)
    assert client.get("/telegram/settings/").status_code == 200
    response = client.post("/telegram/settings/token/", {"token": TOKEN}, follow=True)
    page = response.content.decode()
    assert "@haven_123456789_bot" in page and TOKEN not in page
    bot = Bot.objects.get(organization=alice.org)
    assert TOKEN.encode() not in bytes(bot.token) and bot.token_hint.endswith("V-jY")
    client.post("/telegram/settings/mode/", {"mode": Mode.POLLING})
    assert Bot.objects.get(pk=bot.pk).mode == Mode.POLLING
    page = client.post("/telegram/settings/check/", follow=True).content.decode()
    assert "Telegram answers" in page and "Messages waiting to be sent" in page
    client.post("/telegram/settings/channel/", {"channel": "@haven_news"})
    assert Bot.objects.get(pk=bot.pk).channel == "@haven_news"
    actions = set(AuditEntry.objects.filter(organization_id=alice.org.pk).values_list("action", flat=True))
    assert {"telegram.token", "telegram.mode", "telegram.channel"} <= actions


def test_a_token_telegram_refuses_is_not_saved(alice: Persona, fake: FakeTelegram, client: Client) -> None:
    log_in(client, alice)
    fake.revoked.add(TOKEN)
    page = client.post("/telegram/settings/token/", {"token": TOKEN}, follow=True).content.decode()
    assert "does not accept this token" in page
    assert not Bot.objects.filter(token__isnull=False).exists()
    page = client.post("/telegram/settings/token/", {"token": "nonsense"}, follow=True).content.decode()
    assert "does not look like a bot token" in page


def test_webhook_mode_without_a_public_address_says_what_to_do(
        alice: Persona, fake: FakeTelegram, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "http://192.0.2.1"
    log_in(client, alice)
    client.post("/telegram/settings/token/", {"token": TOKEN})
    page = client.post("/telegram/settings/mode/", {"mode": Mode.WEBHOOK}, follow=True).content.decode()
    assert "public HTTPS address" in page
    assert Bot.objects.get(organization=alice.org).mode == Mode.OFF


def test_the_page_is_404_for_non_admins(alice: Persona, bob: Persona, fake: FakeTelegram) -> None:
    bob_client = log_in(Client(), bob)
    assert bob_client.get("/telegram/settings/").status_code == 404
    assert bob_client.post("/telegram/settings/token/", {"token": TOKEN}).status_code == 404
    assert not Bot.objects.exists()


def test_another_organizations_admin_sees_only_their_own_bot(
        alice: Persona, charlie: Persona, fake: FakeTelegram) -> None:
    log_in(Client(), alice).post("/telegram/settings/token/", {"token": TOKEN})
    page = log_in(Client(), charlie).get("/telegram/settings/").content.decode()
    assert "haven_123456789_bot" not in page and "No bot yet" in page


def test_the_page_has_no_inline_style_or_script(alice: Persona, client: Client) -> None:
    page = log_in(client, alice).get("/telegram/settings/").content.decode()
    assert not re.search(r"<script|\sstyle=|<style|\son[a-z]+=", page)
    assert "viewport" in page
