"""The inline-button protocol: buttons already in people's chats keep working."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.telegram.buttons import STALE, Button, Menu, Pressed, decode, encode
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import AutoClear, Bot, Update, UpdateState
from tests.conftest import Persona

from .conftest import TOKEN, Phone, pump

# Callback data exactly as the bot has sent it since the first version.
SENT = [
    ("l:uk", Button.LANGUAGE, None, "uk"),
    ("m:ask", Button.MENU, None, "ask"),
    ("m:req", Button.MENU, None, "req"),
    ("m:status", Button.MENU, None, "status"),
    ("m:clear", Button.MENU, None, "clear"),
    ("m:lang", Button.MENU, None, "lang"),
    ("m:auto", Button.MENU, None, "auto"),
    ("x", Button.CANCEL, None, ""),
    ("c:7:military", Button.CATEGORY, 7, "military"),
    ("e:12:y", Button.ERASE, 12, "y"),
    ("e:12:n", Button.ERASE, 12, "n"),
    ("z:3:24", Button.AUTOCLEAR, 3, "24"),
    ("z:3:0", Button.AUTOCLEAR, 3, "0"),
    ("a:99999:2", Button.ANSWER, 99999, "2"),
    ("t:4:0", Button.TOGGLE, 4, "0"),
    ("d:4", Button.DONE, 4, ""),
    ("k:5", Button.SKIP, 5, ""),
    ("b:5", Button.BACK, 5, ""),
    ("y:0", Button.AGREE, 0, ""),
    ("r:y42", Button.REFERRAL, None, "y42"),  # a referral's answer: final, so no nonce
    ("r:n42", Button.REFERRAL, None, "n42"),
]


@pytest.mark.parametrize(("data", "kind", "nonce", "arg"), SENT)
def test_data_already_sent_decodes_and_is_encoded_the_same(data: str, kind: Button, nonce: int | None,
                                                            arg: str) -> None:
    assert decode(data) == Pressed(kind, -1 if nonce is None else nonce, arg)
    assert encode(kind, nonce, arg) == data


def test_the_menu_entries_are_the_words_sent() -> None:
    assert [m.value for m in Menu] == ["ask", "req", "status", "clear", "auto", "lang"]


def test_a_button_of_an_earlier_prompt_is_not_current_but_language_and_menu_always_are() -> None:
    assert decode("a:3:1").is_current(3)
    assert not decode("a:2:1").is_current(3)
    assert decode("m:ask").is_current(3) and decode("l:ru").is_current(3) and decode("x").is_current(3)


@pytest.mark.parametrize("data", [None, "", "q:1:2", 17, "Z"])
def test_kinds_the_bot_never_sends_decode_to_none(data: object) -> None:
    assert decode(data).kind is None


@pytest.mark.parametrize("data", ["a", "a:", "a:x:1", "a:²:1", "a:-1:1", "c::military"])
def test_a_missing_or_unreadable_nonce_is_never_current(data: object) -> None:
    pressed = decode(data)
    assert pressed.nonce == STALE
    assert not any(pressed.is_current(n) for n in (0, 1, 99_999))


def test_a_forged_button_with_an_odd_digit_is_answered_and_changes_nothing(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    # "²".isdigit() is true but int("²") fails: the update once crashed.
    phone = Phone(fake, 7301)
    phone.send("/start")
    phone.press("l:ru")
    phone.press("m:req")
    before = len(phone.bot_texts())
    fake.user_press(TOKEN, 7301, "a:²:1", message_id=1)  # as if from an earlier prompt: ignored
    pump()
    assert len(phone.bot_texts()) == before
    current = next(d for _, d in fake.buttons(TOKEN, 7301) if d.startswith("c:")).split(":")[1]
    fake.user_press(TOKEN, 7301, f"z:{current}:²", message_id=1)  # not a period: back to the menu
    pump()
    assert phone.bot_texts()[before:] == ["Что вы хотите сделать?"]
    assert not AutoClear.objects.exists()
    assert not Update.objects.exclude(state=UpdateState.DONE).exists()


def test_a_nonce_is_required_exactly_where_it_protects() -> None:
    with pytest.raises(ValueError, match="ANSWER needs a nonce"):
        encode(Button.ANSWER, arg=1)
    with pytest.raises(ValueError, match="MENU takes no nonce"):
        encode(Button.MENU, 1, Menu.ASK)


def test_data_over_telegrams_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="over 64 bytes"):
        encode(Button.CATEGORY, 99999, "к" * 30)


@given(st.sampled_from(sorted(set(Button) - {Button.LANGUAGE, Button.MENU, Button.CANCEL,
                                             Button.REFERRAL})),
       st.integers(0, 99_999), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_:-", max_size=40))
def test_what_is_encoded_decodes_to_the_same_press(kind: Button, nonce: int, arg: str) -> None:
    assert decode(encode(kind, nonce, arg)) == Pressed(kind, nonce, arg)
