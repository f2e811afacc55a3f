"""The working-day calendar kept as data (haven/cases/working_days.yaml), and the desk's
"to be confirmed with a lawyer" on every date counted over days it has no sourced holidays for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.test import Client

from haven.cases import actions, rules
from tests.conftest import Persona, make_case

LAWYER = "To be confirmed with a lawyer"


def _calendar(tmp_path: Path, text: str) -> rules.WorkingDays:
    path = tmp_path / "working_days.yaml"
    path.write_text(text, encoding="utf-8")
    return rules.load_calendar(path)


def test_the_shipped_calendar_skips_weekends_and_lists_no_unsourced_holiday() -> None:
    shipped = rules.load_calendar()
    assert shipped.weekend == {6, 7}
    # facts.md gives no source for Russia's public holidays: none is made up here.
    assert shipped.holidays == set() and shipped.workdays == set() and shipped.covers == set()
    assert rules.add_working_days(date(2026, 12, 31), 5) == date(2027, 1, 7)


@pytest.mark.parametrize(("start", "count", "due"), [
    (date(2028, 2, 25), 5, date(2028, 3, 3)),   # Friday; 29 February 2028 is a Tuesday
    (date(2024, 2, 28), 1, date(2024, 2, 29)),  # leap day is a working day (Thursday)
    (date(2027, 2, 26), 1, date(2027, 3, 1)),   # Friday, no 29th: Monday 1 March
    (date(2026, 1, 30), 5, date(2026, 2, 6)),   # over the end of January
    (date(2026, 12, 5), 0, date(2026, 12, 5)),  # nothing to count: the day itself
])
def test_working_days_over_month_ends_and_leap_years(start: date, count: int, due: date) -> None:
    assert rules.add_working_days(start, count) == due


def test_sourced_holidays_and_transfers_move_the_date(tmp_path: Path) -> None:
    days = _calendar(tmp_path, """
weekend: [6, 7]
holidays:
  - {date: 2027-01-01, source: "https://example.org/decree/2027-holidays"}
  - {date: 2027-01-04, source: "https://example.org/decree/2027-holidays"}
workdays:
  - {date: 2027-01-02, source: "https://example.org/decree/2027-holidays"}
covers: [2027]
""")
    # From Thursday 31 December: Fri 1 (holiday), Sat 2 (made a working day) 1,
    # Sun 3, Mon 4 (holiday), Tue 5..Fri 8 = 2..5.
    assert rules.add_working_days(date(2026, 12, 31), 5, days) == date(2027, 1, 8)
    assert days.confirmed(date(2027, 1, 1), date(2027, 1, 8))
    assert not days.confirmed(date(2026, 12, 31), date(2027, 1, 8))


@pytest.mark.parametrize("entry", [
    "holidays: [{date: 2027-01-01}]",
    "holidays: [2027-01-01]",
    "workdays: [{date: 2027-01-02, source: 'a decree'}]",
    "weekend: [0, 6]",
])
def test_a_day_without_its_source_is_refused(tmp_path: Path, entry: str) -> None:
    with pytest.raises(rules.CalendarError):
        _calendar(tmp_path, entry + "\n")


def test_only_working_day_rules_need_a_lawyer() -> None:
    passport, appeal = rules.all_rules()["passport-surrender"], rules.all_rules()["regional-appeal"]
    assert passport.counts_working_days and not appeal.counts_working_days
    assert rules.needs_lawyer(passport, date(2027, 1, 8))
    assert not rules.needs_lawyer(appeal, date(2027, 1, 8))
    assert not rules.needs_lawyer(None, date(2027, 1, 8))


def test_the_desk_marks_a_working_day_date_for_a_lawyer(alice: Persona,
                                                        alice_client: Client) -> None:
    case = make_case(alice)
    passport = rules.propose("passport-surrender", date(2026, 12, 31), "en")
    actions.add_deadline(alice.member, alice.vault(), case, passport.due_at, passport.reason,
                         rule="passport-surrender")
    actions.add_deadline(alice.member, alice.vault(), case, datetime(2027, 3, 1, tzinfo=UTC),
                         "appeal", rule="regional-appeal")
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert page.count(LAWYER) == 1  # the passport date only
    assert "this date skips weekends only" in page
    proposed = alice_client.post(f"/desk/cases/{case.number}/deadline/propose/", {
        "rule": "passport-surrender", "value": "2026-12-31"}).content.decode()
    assert "2027-01-07" in proposed and LAWYER in proposed
    russian = Client()
    russian.cookies.update(alice_client.cookies)
    russian.post("/i18n/setlang/", {"language": "ru", "next": "/desk/"})
    assert "Требует подтверждения юристом" in \
        russian.get(f"/desk/cases/{case.number}/").content.decode()
