"""Checking one answer against its step, and showing it back. Pure Python.

Answers are stored in a normal form that is itself valid input (a choice id, a
list of ids, ``yes``/``no``, text, an ISO date, an integer), so a saved
conversation can be re-checked when its questionnaire changes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

from .i18n import gettext_noop, translate
from .questionnaire import YES_NO, Step

YES_WORDS = {"yes", "y", "да", "д", "так", "т", "1", "true", "on", "+"}
NO_WORDS = {"no", "n", "нет", "н", "ні", "0", "2", "false", "off", "-"}
DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$"),
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
YES_NO_LABELS = {"yes": gettext_noop("Yes"), "no": gettext_noop("No")}
MAX_RAW = 20_000  # characters of raw input looked at, whatever the step allows


class FieldError(ValueError):
    """The answer does not fit; ``message`` is translated, in the requester's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _fail(lang: str, msgid: str, **params: Any) -> FieldError:
    return FieldError(translate(lang, msgid) % params if params else translate(lang, msgid))


def _too_long(lang: str, n: int, most: int) -> FieldError:
    return _fail(lang, gettext_noop("The answer is too long (%(n)s characters; at most "
                                    "%(max)s). Shorten it."), n=n, max=most)


def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return all(is_empty(item) for item in raw)
    return False


def choices_of(step: Step, lang: str) -> list[tuple[str, str]]:
    """(id, label) pairs in the requester's language; yes/no questions have two."""
    if step.type == "yes_no":
        return [(value, translate(lang, YES_NO_LABELS[value])) for value in YES_NO]
    return [(choice.id, choice.labels[lang]) for choice in step.choices]


def validate(step: Step, raw: Any, lang: str, today: date) -> Any:
    """Return the answer in normal form, or raise FieldError. Empty input is the caller's."""
    if isinstance(raw, str) and len(raw) > MAX_RAW:
        if step.type in ("short_text", "long_text"):  # say how long it really was, not MAX_RAW + 1
            raise _too_long(lang, len(raw), step.max_length)
        raw = raw[: MAX_RAW + 1]  # long enough to fail the check, short enough to be cheap
    check = _CHECKS[step.type]
    return check(step, raw, lang, today)


def _one_choice(step: Step, raw: Any, lang: str) -> str:
    if not isinstance(raw, str):
        raise _fail(lang, gettext_noop("Choose one of the options."))
    text = raw.strip().casefold()
    options = choices_of(step, lang)
    for index, (cid, label) in enumerate(options, start=1):
        if text in (cid, str(index), label.casefold()):
            return cid
    if step.type == "yes_no":
        if text in YES_WORDS:
            return "yes"
        if text in NO_WORDS:
            return "no"
    raise _fail(lang, gettext_noop("Choose one of the options."))


def _choice(step: Step, raw: Any, lang: str, today: date) -> str:
    return _one_choice(step, raw, lang)


def _multi(step: Step, raw: Any, lang: str, today: date) -> list[str]:
    items = re.split(r"[,;\n]+", raw) if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or len(items) > len(step.choices) * 2:
        raise _fail(lang, gettext_noop("Choose from the listed options."))
    picked = {_one_choice(step, item, lang) for item in items if not is_empty(item)}
    ordered = [c.id for c in step.choices if c.id in picked]
    if len(ordered) < step.min_choices:
        raise _fail(lang, gettext_noop("Choose at least %(n)s of the options."), n=step.min_choices)
    if step.max_choices and len(ordered) > step.max_choices:
        raise _fail(lang, gettext_noop("Choose at most %(n)s of the options."), n=step.max_choices)
    return ordered


def clean_text(raw: str, single_line: bool) -> str:
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL.sub("", text)
    if single_line:
        return " ".join(text.split())
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _text(step: Step, raw: Any, lang: str, today: date) -> str:
    if not isinstance(raw, str):
        raise _fail(lang, gettext_noop("Write the answer as text."))
    text = clean_text(raw, single_line=step.type == "short_text")
    if len(text) > step.max_length:
        raise _too_long(lang, len(text), step.max_length)
    if len(text) < step.min_length:
        raise _fail(lang, gettext_noop("The answer is too short (at least %(min)s characters)."),
                    min=step.min_length)
    if step.pattern and not re.fullmatch(step.pattern, text):
        raise FieldError((step.pattern_message or {}).get(lang) or
                         translate(lang, gettext_noop("The answer is not in the expected form.")))
    return text


def parse_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def resolve_date_spec(spec: str, today: date) -> date:
    """``today``, ``+30d``, ``-18y`` or an ISO date, relative to ``today``."""
    if spec == "today":
        return today
    if spec[0] in "+-":
        amount = int(spec[1:-1]) * (1 if spec[0] == "+" else -1)
        if spec[-1] == "d":
            return today + timedelta(days=amount)
        year = today.year + amount
        return today.replace(year=year, day=min(today.day, 28) if today.month == 2 else today.day)
    return date.fromisoformat(spec)


def _date(step: Step, raw: Any, lang: str, today: date) -> str:
    value = parse_date(raw) if isinstance(raw, str) else None
    if value is None:
        raise _fail(lang, gettext_noop("Write a date like %(example)s or %(iso)s."),
                    example=today.strftime("%d.%m.%Y"), iso=today.isoformat())
    low = resolve_date_spec(step.min_date, today) if step.min_date else date(1900, 1, 1)
    high = resolve_date_spec(step.max_date, today) if step.max_date else date(2100, 12, 31)
    if value < low:
        raise _fail(lang, gettext_noop("The date cannot be before %(date)s."), date=_shown(low, lang))
    if value > high:
        raise _fail(lang, gettext_noop("The date cannot be after %(date)s."), date=_shown(high, lang))
    return value.isoformat()


def _number(step: Step, raw: Any, lang: str, today: date) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    text = re.sub(r"[\s\u00a0\u202f]", "", raw) if isinstance(raw, str) else ""
    if not re.fullmatch(r"-?\d{1,13}", text):
        raise _fail(lang, gettext_noop("Write a whole number using digits only."))
    value = int(text)
    if step.min_value is not None and value < step.min_value:
        raise _fail(lang, gettext_noop("The number must be at least %(min)s."), min=step.min_value)
    if step.max_value is not None and value > step.max_value:
        raise _fail(lang, gettext_noop("The number must be at most %(max)s."), max=step.max_value)
    return value


_CHECKS = {
    "choice": _choice, "yes_no": _choice, "multi_choice": _multi, "short_text": _text,
    "long_text": _text, "date": _date, "number": _number,
}


def number_range(step: Step, lang: str) -> str:
    """The allowed numbers in words, shown next to the field before any mistake."""
    low, high = step.min_value, step.max_value
    if low is not None and high is not None:
        return translate(lang, gettext_noop("A number from %(min)s to %(max)s.")) % {"min": low, "max": high}
    if low is not None:
        return translate(lang, gettext_noop("A number of at least %(min)s.")) % {"min": low}
    if high is not None:
        return translate(lang, gettext_noop("A number of at most %(max)s.")) % {"max": high}
    return ""


def date_example(today: date, lang: str) -> str:
    """An example date for the hint, from today: never a stale year."""
    return _shown(today, lang)


def _shown(value: date, lang: str) -> str:
    return value.isoformat() if lang == "en" else value.strftime("%d.%m.%Y")


def display(step: Step, value: Any, lang: str) -> str:
    """The answer as the requester and the caseworker read it."""
    if step.type in ("choice", "yes_no", "multi_choice"):
        labels = dict(choices_of(step, lang))
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if step.type == "date":
        return _shown(date.fromisoformat(value), lang)
    return str(value)


def fingerprint_value(kind: str, value: str) -> str:
    """The identifier in one canonical form, so the same phone or username matches itself."""
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if len(digits) == 11 and digits.startswith("8"):
            digits = "7" + digits[1:]  # Russian trunk prefix
        return digits if len(digits) >= 7 else ""
    text = value.strip().lower()
    text = re.sub(r"^(https?://)?(www\.)?(t\.me/|telegram\.me/)", "", text).lstrip("@")
    return text if re.fullmatch(r"[a-z0-9_]{4,32}", text) else ""
