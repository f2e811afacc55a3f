"""Quiet hours and digests, in the member's own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from haven.accounts.models import Member
from haven.notify import addresses
from haven.notify.collect import collect
from haven.notify.dispatch import dispatch, due_at, in_quiet_hours
from haven.notify.models import Kind, Pending, Preference
from haven.outbox.models import Outbox
from tests.conftest import Persona, make_case

from .conftest import Mailbox, deliver

BERLIN = ZoneInfo("Europe/Berlin")


def choose(persona: Persona, *, quiet: tuple[int, int] | None = None, digest: str = "now",
           hour: int = 9) -> None:
    Member.objects.filter(pk=persona.member.pk).update(time_zone="Europe/Berlin")
    persona.member.refresh_from_db()
    addresses.save_preference(persona.member, kinds=[Kind.NEW_CASE, Kind.REPLY],
                              quiet_from=quiet[0] if quiet else None,
                              quiet_to=quiet[1] if quiet else None, digest=digest, digest_hour=hour,
                              lang="en")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def waiting_since(when: datetime) -> None:
    collect()
    Pending.objects.update(first_at=when)


def test_quiet_hours_hold_the_message_until_they_end(alice: Persona, mailbox: Mailbox) -> None:
    addresses.set_email(alice.member, "alice@example.org")
    choose(alice, quiet=(22, 7))
    make_case(alice)
    waiting_since(at(5, 23))
    assert dispatch(at(5, 23, 30)) == 0
    assert dispatch(at(6, 6, 59)) == 0 and not Outbox.objects.exists()
    assert dispatch(at(6, 7, 0)) == 1
    deliver()
    assert len(mailbox.messages) == 1


def test_an_hourly_digest_gathers_what_came_within_the_hour(alice: Persona, bob: Persona,
                                                            mailbox: Mailbox) -> None:
    addresses.set_email(alice.member, "alice@example.org")
    choose(alice, digest="hourly")
    make_case(bob, "one")
    waiting_since(at(5, 10))
    make_case(bob, "two")
    make_case(bob, "three")
    collect()
    assert dispatch(at(5, 10, 59)) == 0
    assert dispatch(at(5, 11, 0)) == 1
    deliver()
    [(_to, message)] = mailbox.messages
    assert message.get_payload(decode=True).decode().startswith("New on the desk: 3 new cases.")


def test_a_daily_digest_goes_at_the_chosen_hour_and_not_in_quiet_hours(
        alice: Persona, mailbox: Mailbox) -> None:
    addresses.set_email(alice.member, "alice@example.org")
    choose(alice, digest="daily", hour=8, quiet=(23, 9))
    make_case(alice)
    waiting_since(at(5, 14))
    assert dispatch(at(5, 20)) == 0
    assert dispatch(at(6, 8, 30)) == 0  # the digest hour falls in quiet hours: it waits
    assert dispatch(at(6, 9, 0)) == 1


@pytest.mark.parametrize(("start", "end", "hour", "quiet"), [
    (22, 7, 23, True), (22, 7, 3, True), (22, 7, 7, False), (22, 7, 12, False),
    (13, 15, 14, True), (13, 15, 15, False), (13, 15, 12, False),
])
def test_quiet_hours_may_cross_midnight(start: int, end: int, hour: int, quiet: bool) -> None:
    pref = Preference(quiet_from=start, quiet_to=end)
    assert in_quiet_hours(pref, at(5, hour)) is quiet


def test_a_daily_digest_after_its_hour_waits_for_the_next_day() -> None:
    pref = Preference(digest="daily", digest_hour=9)
    assert due_at(pref, at(5, 9, 1), BERLIN) == at(6, 9)
    assert due_at(pref, at(5, 8, 59), BERLIN) == at(5, 9)
    assert due_at(Preference(digest="hourly"), at(5, 8), BERLIN) == at(5, 8) + timedelta(hours=1)


def test_kinds_switched_off_stop_waiting(alice: Persona, mailbox: Mailbox) -> None:
    addresses.set_email(alice.member, "alice@example.org")
    choose(alice, digest="hourly")
    make_case(alice)
    collect()
    assert Pending.objects.exists()
    addresses.save_preference(alice.member, kinds=[Kind.REPLY], quiet_from=None, quiet_to=None,
                              digest="now", digest_hour=9, lang="en")
    assert not Pending.objects.exists()
    assert dispatch() == 0 and mailbox.messages == []
