"""Legal deadline rules, kept as data in deadline_rules.yaml."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

PATH = Path(__file__).with_name("deadline_rules.yaml")
CALENDAR_PATH = Path(__file__).with_name("working_days.yaml")

# Rules removed because they were wrong (issue 17). A case may still hold a deadline one of
# them proposed, with its stored reason: the desk shows it with this warning beside it.
WITHDRAWN: dict[str, Promise] = {
    "acs-after-deferment": _lazy(
        "This proposal came from a withdrawn rule: no law gives 10 days to apply for ACS "
        "after a deferment ends. Check the date with a lawyer."),
    "summons-served": _lazy(
        "This proposal came from a withdrawn rule: leaving Russia is banned from the day the "
        "summons is placed in the register, not 7 days later (53-FZ Art. 7.1). Check its text."),
    "summons-restrictions": _lazy(
        "This proposal came from a withdrawn rule: the 20 days are counted from the appearance "
        "date set in the summons, not from its posting (53-FZ Art. 7.1). Recalculate it."),
}


class RuleError(ValueError):
    """The input does not fit the rule."""


def _text(texts: dict[str, str], lang: str | None = None) -> str:
    lang = (lang or get_language() or "en")[:2]
    return texts.get(lang) or texts["en"]


@dataclass(frozen=True)
class Rule:
    id: str
    titles: dict[str, str]
    input_name: str
    input_type: str  # "year" or "date"
    input_labels: dict[str, str]
    reasons: dict[str, str]
    fixed: dict[str, int] | None
    offset: dict[str, int] | None

    @property
    def title(self) -> str:
        return _text(self.titles)

    @property
    def input_label(self) -> str:
        return _text(self.input_labels)

    def due(self, value: date | int) -> date:
        if self.fixed is not None:
            year = value.year if isinstance(value, date) else int(value)
            return date(year + self.fixed.get("year_offset", 0), self.fixed["month"], self.fixed["day"])
        if not isinstance(value, date):
            raise RuleError("this rule needs a date")
        off = self.offset or {}
        day = add_months(value, off.get("months", 0)) + timedelta(days=off.get("days", 0))
        return add_working_days(day, off.get("working_days", 0))

    @property
    def counts_working_days(self) -> bool:
        return bool((self.offset or {}).get("working_days"))

    def reason(self, value: date | int, lang: str | None = None) -> str:
        shown = value.isoformat() if isinstance(value, date) else str(value)
        return _text(self.reasons, lang).format(**{self.input_name: shown})


@dataclass(frozen=True)
class Proposal:
    rule: Rule
    due: date
    reason: str

    @property
    def due_at(self) -> datetime:
        return due_at(self.due)


def due_at(day: date) -> datetime:
    """A due date as the start of that day (UTC), the moment reminders count towards."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class WorkingDays:
    """Which days count as working days: kept as data in working_days.yaml."""

    weekend: frozenset[int]  # ISO weekdays, 6 = Saturday
    holidays: frozenset[date]
    workdays: frozenset[date]  # weekend days made working days by a transfer
    covers: frozenset[int]  # years whose holidays and transfers are all listed

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def confirmed(self, start: date, end: date) -> bool:
        """Every year from ``start`` to ``end`` has its holidays listed from a source."""
        return all(year in self.covers for year in range(start.year, end.year + 1))


class CalendarError(ValueError):
    """working_days.yaml is wrong: the message says what to fix."""


def _sourced_days(raw: Any, key: str) -> frozenset[date]:
    days = set()
    for item in raw.get(key) or []:
        source = str(item.get("source") or "") if isinstance(item, dict) else ""
        if not source.startswith("https://"):
            raise CalendarError(f"{CALENDAR_PATH.name}: every entry of {key} needs a date and "
                                "the address (https://) of the decree that sets it")
        day = item["date"]
        days.add(day if isinstance(day, date) else date.fromisoformat(str(day)))
    return frozenset(days)


def load_calendar(path: Path | None = None) -> WorkingDays:
    raw = yaml.safe_load((path or CALENDAR_PATH).read_text(encoding="utf-8")) or {}
    weekend = frozenset(int(d) for d in raw.get("weekend") or [])
    if not weekend <= set(range(1, 8)):
        raise CalendarError(f"{CALENDAR_PATH.name}: weekend lists ISO weekdays, 1 to 7")
    return WorkingDays(weekend, _sourced_days(raw, "holidays"), _sourced_days(raw, "workdays"),
                       frozenset(int(y) for y in raw.get("covers") or []))


@cache
def working_days() -> WorkingDays:
    return load_calendar()


def add_working_days(day: date, count: int, days: WorkingDays | None = None) -> date:
    """``count`` working days after ``day`` by the calendar (working_days.yaml).

    Without a sourced holiday calendar for the years counted, only the weekend is
    skipped: the desk marks such a date "to be confirmed with a lawyer"
    (:func:`needs_lawyer`), and the caseworker confirms it.
    """
    days = days or working_days()
    while count > 0:
        day += timedelta(days=1)
        if days.is_working(day):
            count -= 1
    return day


def needs_lawyer(rule: Rule | None, due: date) -> bool:
    """A date counted in working days over years the calendar does not cover."""
    if rule is None or not rule.counts_working_days:
        return False
    return not working_days().confirmed(due - timedelta(days=31), due)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@cache
def all_rules() -> dict[str, Rule]:
    raw: list[dict[str, Any]] = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    rules = {}
    for item in raw:
        rules[item["id"]] = Rule(
            id=item["id"], titles=item["title"], input_name=item["input"]["name"],
            input_type=item["input"]["type"], input_labels=item["input"]["label"],
            reasons=item["reason"], fixed=item.get("fixed_date"), offset=item.get("offset"),
        )
    return rules


YEARS = range(2000, 2101)  # rule inputs and deadlines: far-off years overflow date arithmetic


def parse_input(rule: Rule, text: str) -> date | int:
    text = (text or "").strip()
    try:
        if rule.input_type == "year":
            year = int(text)
            if year not in YEARS:
                raise ValueError
            return year
        day = date.fromisoformat(text)
        if day.year not in YEARS:
            raise ValueError
        return day
    except ValueError as exc:
        raise RuleError(rule.input_type) from exc


def propose(rule_id: str, value: date | int, lang: str | None = None) -> Proposal:
    rule = all_rules().get(rule_id)
    if rule is None:
        raise RuleError(f"unknown rule {rule_id}")
    return Proposal(rule, rule.due(value), rule.reason(value, lang))


def requester_text(due: date, rule_id: str, lang: str) -> str:
    """A deadline told to the requester in their language: the date and, for a rule, its title.

    The caseworker's reason is not sent: it is written in the desk's language and may hold
    details the requester's channel (Telegram reads bot chats) should not carry.
    """
    rule = all_rules().get(rule_id)
    with translation.override(lang):
        day = formats.date_format(due, "j E Y")  # "1 квітня 2027": no leading zero, no "р."
        if rule is None:
            return _("%(date)s is an important date in your case.") % {"date": day}
        return _("%(date)s is an important date in your case: %(what)s.") % {
            "date": day, "what": _text(rule.titles, lang)}
