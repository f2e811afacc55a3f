"""The bot token travels in every request path, so production refuses an unencrypted remote Bot API."""

from __future__ import annotations

import pytest
from django.test import override_settings

from haven.telegram.client import BotApi


@override_settings(PRODUCTION=True)
def test_production_refuses_a_remote_bot_api_over_http() -> None:
    with pytest.raises(ValueError, match="https"):
        BotApi("123:abc", base_url="http://api.example.org")


@override_settings(PRODUCTION=True)
@pytest.mark.parametrize("address", ["https://api.telegram.org", "http://127.0.0.1:8081",
                                     "http://localhost:8081", "http://[::1]:8081"])
def test_production_accepts_https_or_a_bot_api_server_on_this_machine(address: str) -> None:
    BotApi("123:abc", base_url=address)


def test_tests_and_the_demo_may_use_the_fake_api_over_http() -> None:
    BotApi("123:abc", base_url="http://fake-telegram.test:8081")
