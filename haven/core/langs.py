"""The languages Haven speaks, defined once; every list of languages imports this one.

Russian comes first and is the default: most requesters write in it. Each
language is named in itself, so a reader finds their own. Adding a language
means adding it here and writing its catalogs; nothing else lists them.

No Django imports: ``haven.settings`` reads this module.
"""

from __future__ import annotations

DEFAULT_LANG = "ru"
LANGUAGE_NAMES: dict[str, str] = {"ru": "Русский", "uk": "Українська", "en": "English"}
LANGS: tuple[str, ...] = tuple(LANGUAGE_NAMES)
