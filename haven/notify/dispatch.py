"""From counts to messages: one outbox row per address when its member wants to hear.

An address's counts are due unless the member's local time is inside their quiet
hours; in a digest they wait until an hour after the oldest count (hourly) or
the member's digest hour after it (daily). When due, the counts are deleted and
one outbox row is written in the same transaction, so each count reaches the
outbox once; the outbox then sends it once (at most one duplicate of the one
message in flight if a worker dies mid-send, see haven/outbox).

The message names no case, no requester and no number a phone check could tie to
a person: only how many things of each kind wait, and a link to the desk.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven import outbox
from haven.accounts.middleware import zone_of
from haven.core.langs import DEFAULT_LANG, LANGS
from haven.outbox.models import Outbox

from .addresses import open_address
from .models import Address, Destination, Digest, Kind, Pending, Preference, State

TELEGRAM_CHANNEL = "notify-telegram"
EMAIL_CHANNEL = "notify-email"
CHANNEL_OF: dict[str, str] = {Address.TELEGRAM: TELEGRAM_CHANNEL, Address.EMAIL: EMAIL_CHANNEL}


def in_quiet_hours(pref: Preference, local: datetime) -> bool:
    if pref.quiet_from is None or pref.quiet_to is None:
        return False
    start, end, hour = pref.quiet_from, pref.quiet_to, local.hour
    return start <= hour < end if start < end else (hour >= start or hour < end)


def due_at(pref: Preference, oldest: datetime, zone: ZoneInfo) -> datetime:
    """When counts that began waiting at ``oldest`` may be sent (quiet hours aside)."""
    if pref.digest == Digest.HOURLY:
        return oldest + timedelta(hours=1)
    if pref.digest == Digest.DAILY:
        local = oldest.astimezone(zone)
        slot = local.replace(hour=pref.digest_hour, minute=0, second=0, microsecond=0)
        if slot <= local:
            slot += timedelta(days=1)
        return slot
    return oldest


def is_due(pref: Preference, oldest: datetime, zone: ZoneInfo, now: datetime) -> bool:
    return now >= due_at(pref, oldest, zone) and not in_quiet_hours(pref, now.astimezone(zone))


def dispatch(now: datetime | None = None) -> int:
    """Queue a message for every address whose counts are due; return how many."""
    now = now or timezone.now()
    waiting = Pending.objects.filter(destination__state=State.ACTIVE).values_list(
        "destination_id", flat=True).distinct()
    dests = Destination.objects.filter(pk__in=list(waiting)).select_related("member__organization")
    queued = 0
    for dest in dests:
        pref = Preference.objects.filter(member_id=dest.member_id).first()
        if pref is None:
            continue
        oldest = min(p.first_at for p in Pending.objects.filter(destination=dest))
        if is_due(pref, oldest, ZoneInfo(zone_of(dest.member)), now):
            queued += send_now(dest, pref)
    return queued


def send_now(dest: Destination, pref: Preference) -> int:
    """Turn the address's counts into one outbox row (1), or do nothing (0)."""
    with transaction.atomic():
        rows = list(Pending.objects.select_for_update().filter(destination=dest))
        counts = {r.kind: r.count for r in rows if r.kind in pref.kinds and r.count > 0}
        deleted, _kinds = Pending.objects.filter(pk__in=[r.pk for r in rows]).delete()
        if deleted != len(rows):  # another worker took them meanwhile
            transaction.set_rollback(True)
            return 0
        if not counts:
            return 0
        address = open_address(dest)
        if address is None:  # the server key changed: nothing can reach it
            return 0
        payload = _payload(dest, address, counts, pref.lang)
        Outbox.objects.create(organization_id=dest.organization_id, channel=CHANNEL_OF[dest.kind],
                              payload=outbox.seal_payload(payload))
    return 1


def _payload(dest: Destination, address: Any, counts: dict[str, int], lang: str) -> dict[str, Any]:
    lang = lang if lang in LANGS else DEFAULT_LANG
    with translation.override(lang):
        text = message_text(counts)
        subject = _("New on the desk")
    payload: dict[str, Any] = {"dest": dest.pk, "member": dest.member_id, "counts": counts,
                               "text": text, "lang": lang}
    if dest.kind == Address.TELEGRAM:
        payload.update(bot=int(address["bot"]), chat=int(address["chat"]), key=dest.lookup)
    else:
        payload.update(to=str(address), subject=subject)
    return payload


ORDER = (Kind.NEW_CASE, Kind.ASSIGNED, Kind.REPLY, Kind.DEADLINE, Kind.PAYOUT)


def message_text(counts: dict[str, int]) -> str:
    """ "2 new cases; 1 reply from a requester." and the desk's address: nothing more."""
    parts = []
    for kind in ORDER:
        n = counts.get(kind, 0)
        if not n:
            continue
        if kind == Kind.NEW_CASE:
            parts.append(ngettext("%(n)d new case", "%(n)d new cases", n) % {"n": n})
        elif kind == Kind.ASSIGNED:
            parts.append(ngettext("%(n)d case assigned to you", "%(n)d cases assigned to you", n)
                         % {"n": n})
        elif kind == Kind.REPLY:
            parts.append(ngettext("%(n)d reply from a requester", "%(n)d replies from requesters", n)
                         % {"n": n})
        elif kind == Kind.DEADLINE:
            parts.append(ngettext("%(n)d deadline within 24 hours", "%(n)d deadlines within 24 hours", n)
                         % {"n": n})
        else:
            parts.append(ngettext("%(n)d payout waits for your approval",
                                  "%(n)d payouts wait for your approval", n) % {"n": n})
    link = settings.SITE_URL + (reverse("funds:payouts") if list(counts) == [Kind.PAYOUT]
                                else reverse("desk:queue"))
    return _("New on the desk: %(list)s.") % {"list": "; ".join(parts)} + "\n" + link
