"""M-5 in the bot: beyond the hourly limit a bot request is held, and the requester is told the same."""

from __future__ import annotations

from django.test import override_settings

from haven.cases.models import Case, Channel
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona

from .conftest import Phone, telegram_case


def _request_by_bot(phone: Phone) -> None:
    phone.send("/start")
    phone.press("l:ru")
    phone.press("m:req")
    phone.press(label="Повестки")
    phone.press("y:")
    phone.press(label="Электронную")
    phone.send("02.11.2026")
    phone.press("k:")
    phone.press("a:")
    phone.press(label="Нет")
    phone.send("Пришла электронная повестка, что делать?")
    phone.press("y:")


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=1)
def test_a_bot_request_beyond_the_hourly_limit_is_held_with_the_same_answer(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    telegram_case(alice, bot, 7100)  # the hour's one case
    phone = Phone(fake, 7101)
    _request_by_bot(phone)
    case = Case.objects.filter(organization=alice.org, channel=Channel.TELEGRAM).latest("number")
    assert case.held
    assert any("<code>" in text for text in phone.bot_texts())  # the codename, as always


@override_settings(HAVEN_INTAKE_HOURLY_LIMIT=2)
def test_a_bot_request_within_the_limit_goes_into_the_queues(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    telegram_case(alice, bot, 7100)
    _request_by_bot(Phone(fake, 7102))
    assert not Case.objects.filter(held=True).exists()
    assert Case.objects.filter(organization=alice.org).count() == 2
