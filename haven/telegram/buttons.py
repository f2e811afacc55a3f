"""The inline-button protocol: what a button's callback data says, written and read here only.

Telegram gives a pressed button's data back as it was sent (at most 64 bytes).
Haven's data is ``kind:nonce:arg``:

- ``kind`` is one letter, a :class:`Button`;
- ``nonce`` is the number of the prompt the button belongs to
  (:meth:`haven.telegram.chats.ChatState.next_nonce`), so pressing a button of
  an earlier question changes nothing. The language, menu and cancel buttons
  work from any message and carry no nonce: ``kind:arg`` or ``kind`` alone;
- ``arg`` is what was chosen (a language code, a menu entry, a choice's index,
  a category, ``y``/``n``, hours), or nothing.

Buttons already sent stay in people's chats, so the letters and the layout
must not change; :mod:`tests.telegram.test_buttons` pins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64  # Telegram's limit on callback data
STALE = -2  # the nonce of data that carries none where one is needed: never current


class Button(StrEnum):
    LANGUAGE = "l"  # arg: a language code
    MENU = "m"  # arg: a Menu entry
    CANCEL = "x"  # leave the questionnaire
    CATEGORY = "c"  # arg: the category to start a request in
    ERASE = "e"  # arg: "y" to erase the case, "n" to keep it
    AUTOCLEAR = "z"  # arg: hours after which messages are deleted, "0" for never
    ANSWER = "a"  # arg: index of the chosen answer
    TOGGLE = "t"  # arg: index of the answer ticked or unticked (several allowed)
    DONE = "d"  # the ticked answers are complete
    SKIP = "k"  # skip an optional question
    BACK = "b"  # back to the previous question
    AGREE = "y"  # consent given, or the request sent after review
    REFERRAL = "r"  # arg: "y" or "n" then the referral's number (the requester's answer)


class Menu(StrEnum):
    ASK = "ask"
    REQUEST = "req"
    STATUS = "status"
    CLEAR = "clear"
    AUTOCLEAR = "auto"
    LANGUAGE = "lang"


# A referral's question may wait in the chat while other prompts come and go: its buttons
# carry the referral, whose first answer is final (haven.telegram.referrals).
NONCE_FREE = frozenset({Button.LANGUAGE, Button.MENU, Button.CANCEL, Button.REFERRAL})
ERASE_YES, ERASE_NO = "y", "n"
REFERRAL_AGREE, REFERRAL_REFUSE = "y", "n"


@dataclass(frozen=True)
class Pressed:
    """A decoded button press; ``kind`` is None for data this code never sends."""

    kind: Button | None
    nonce: int  # -1 for a nonce-free button, STALE when missing or unreadable
    arg: str

    def is_current(self, nonce: int) -> bool:
        """True if the button may act now: nonce-free, or from the newest prompt."""
        return self.kind in NONCE_FREE or self.nonce == nonce


def encode(kind: Button, nonce: int | None = None, arg: object = "") -> str:
    """The callback data of a button; a nonce is required exactly when the kind needs one."""
    if (kind in NONCE_FREE) != (nonce is None):
        raise ValueError(f"button {kind.name} {'takes no' if nonce is not None else 'needs a'} nonce")
    parts = [kind.value] + ([] if nonce is None else [str(nonce)]) + ([str(arg)] if arg != "" else [])
    data = ":".join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes")
    return data


def decode(data: object) -> Pressed:
    """Read callback data as sent by :func:`encode` (or by earlier versions, which wrote the same)."""
    parts = str(data or "")[:MAX_BYTES].split(":", 2)
    try:
        kind: Button | None = Button(parts[0])
    except ValueError:
        kind = None
    if kind in NONCE_FREE:
        return Pressed(kind, -1, parts[1] if len(parts) > 1 else "")
    nonce = index(parts[1]) if len(parts) > 1 else None
    return Pressed(kind, STALE if nonce is None else nonce, parts[2] if len(parts) > 2 else "")


def index(arg: str) -> int | None:
    """A button's number (nonce, or an answer's index) read back; None if it is not one.

    Only ASCII digits: ``"²".isdigit()`` is true but ``int("²")`` fails, and a
    modified client can send any data.
    """
    return int(arg) if arg.isascii() and arg.isdigit() else None
