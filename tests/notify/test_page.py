"""The member's notification settings page: /account/notifications/ (no JavaScript)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from haven.notify import addresses
from haven.notify.models import Destination, LinkCode, Preference
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona

from .conftest import Phone

URL = "/account/notifications/"


@pytest.mark.parametrize(("lang", "title", "save"), [
    ("en", "Notifications", "Save choices"),
    ("ru", "Уведомления", "Сохранить выбор"),
    ("uk", "Сповіщення", "Зберегти вибір"),
])
def test_the_page_speaks_each_language_and_needs_no_javascript(
        alice_client: Client, lang: str, title: str, save: str) -> None:
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    page = alice_client.get(URL).content.decode()
    assert f"<h1>{title}</h1>" in page and save in page
    assert "<script" not in page and 'name="viewport"' in page
    assert alice_client.get("/account/").content.decode().count(URL) == 1  # linked from My account


def test_someone_logged_out_is_sent_to_log_in(db: None) -> None:
    assert Client().get(URL).status_code == 302
    assert Client().post("/account/notifications/telegram/unlink/").status_code == 302


def test_linking_from_the_page_shows_a_code_and_a_deep_link_that_work(
        alice: Persona, alice_client: Client, bot: Bot, fake: FakeTelegram) -> None:
    Bot.objects.filter(pk=bot.pk).update(username="first_help_bot")
    page = alice_client.post("/account/notifications/telegram/link/",
                             HTTP_ACCEPT_LANGUAGE="en").content.decode()
    code = re.search(r"/link ([A-Z0-9]{10})", page).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/first_help_bot?start={code}" in page
    assert code not in str(LinkCode.objects.get().code_hash)
    Phone(fake, 7101, lang="en").send(f"/start {code}")
    page = alice_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your Telegram account is linked." in page and "Unlink Telegram" in page


def test_without_a_bot_the_page_says_whom_to_ask(alice_client: Client) -> None:
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "no Telegram bot yet" in alice_client.get(URL).content.decode()
    response = alice_client.post("/account/notifications/telegram/link/", follow=True)
    assert "no Telegram bot yet" in response.content.decode() and not LinkCode.objects.exists()


def test_unlinking_is_one_click(alice: Persona, alice_client: Client, bot: Bot, fake: FakeTelegram) -> None:
    from .conftest import link

    link(alice.member, Phone(fake, 7102, lang="en"))
    assert alice_client.get("/account/notifications/telegram/unlink/").status_code == 405
    response = alice_client.post("/account/notifications/telegram/unlink/", HTTP_ACCEPT_LANGUAGE="en",
                                 follow=True)
    assert "Notifications to Telegram are off." in response.content.decode()
    assert not Destination.objects.exists()
    assert alice_client.post("/account/notifications/fax/unlink/").status_code == 404


def test_the_second_member_sees_why_their_code_linked_nothing(
        alice: Persona, bob: Persona, bob_client: Client, bot: Bot, fake: FakeTelegram) -> None:
    from .conftest import link

    phone = Phone(fake, 7103, lang="en")
    link(alice.member, phone)
    phone.send(f"/link {addresses.new_link_code(bob.member)}")
    page = bob_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "already receives another member's notifications" in page


def test_choices_are_saved_and_bad_ones_change_nothing(alice: Persona, alice_client: Client) -> None:
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = alice_client.post(URL, {"kinds": ["new_case"], "quiet_from": "22",
                                       "quiet_to": "7", "digest": "daily", "digest_hour": "8"})
    assert response.status_code == 302
    pref = Preference.objects.get(member=alice.member)
    assert (pref.kinds, pref.quiet_from, pref.quiet_to, pref.digest) == (["new_case"], 22, 7, "daily")
    assert pref.lang == "en"
    response = alice_client.post(URL, {"kinds": ["new_case", "payout"], "quiet_from": "",
                                       "quiet_to": "", "digest": "now", "digest_hour": "8"})
    assert response.status_code == 400  # an administrator approves no payouts: not offered
    response = alice_client.post(URL, {"kinds": ["new_case"], "quiet_from": "22", "quiet_to": "",
                                       "digest": "now", "digest_hour": "8"})
    assert response.status_code == 400
    assert "Give both ends of the quiet hours" in response.content.decode()
    assert Preference.objects.get(member=alice.member).digest == pref.digest
