"""Reminder kinds in words: every kind the code raises has a translated label.

A reminder row stores a short kind (``telegram_blocked``) and a detail dict with no
content; people read this table. A kind without a label (an older or newer worker)
still reads as words, never as its code. tests/desk/test_small_things.py finds the
kinds raised in the source and checks each has a label here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from haven.cases.models import Reminder

LABELS: dict[str, Callable[[dict[str, Any]], str]] = {
    "deadline": lambda d: _("a deadline is due within %(h)s hours") % {"h": d.get("hours", "?")},
    "delivery_failed": lambda d: _("a reply could not be delivered"),
    "telegram_blocked": lambda d: _(
        "the requester blocked the Telegram bot; replies cannot reach them there"),
    "possible_duplicate": lambda d: _("may duplicate case #%(other)s") % {
        "other": d.get("other", "?")},
}


def label(reminder: Reminder) -> str:
    detail = reminder.detail if isinstance(reminder.detail, dict) else {}
    words = LABELS.get(reminder.kind)
    return words(detail) if words else _("a notice about this case: open it to see what changed")
