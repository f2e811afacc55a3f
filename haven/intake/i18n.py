"""Translations for the engine without Django: the same catalogs, read by the stdlib.

The engine runs for the web and for the bot, in the requester's language rather
than the request's, so it cannot rely on Django's active language. Messages are
marked with :func:`gettext_noop` (so ``makemessages`` collects them into
``haven/intake/locale``) and translated here with :mod:`gettext`.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation; it is translated later, in the requester's language."""
    return message


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    return gettext.translation("django", localedir=LOCALE_DIR, languages=[lang], fallback=True)


def translate(lang: str, message: str) -> str:
    return _catalog(lang).gettext(message)
