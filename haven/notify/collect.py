"""From what happened to counts per address.

The collector reads each organization's audit chain past its :class:`Cursor`
(entries are numbered without gaps and written in order under the chain's head
lock) and the open deadlines due within 24 hours, and adds one to a
:class:`Pending` count for each address of each member who wants to hear of it
and may (:func:`haven.notify.audience.hearable_cases`). The counts and the new
cursor are written in one transaction, moved only if no other worker moved the
cursor first: an event is counted once, or (after a crash) not yet.

What is heard of:

- ``case.created`` (not held) and ``case.released``: a new case, for members who
  want new cases and may hear of it (not the member who opened it);
- ``case.assigned``: the new assignee, unless they assigned it to themselves;
- ``case.inbound``: the case's assignee;
- ``funds.payout.requested``: every member who may approve it but the requester;
- a confirmed, open deadline due within 24 hours: its owner (else the assignee).

A cursor starts at the chain's head when it is made: history is never told.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from haven.accounts.models import Member
from haven.audit.models import AuditEntry, AuditHead
from haven.cases.models import Case, Deadline

from .addresses import add_pending
from .audience import hearable_cases, may_approve_payouts
from .models import Cursor, DeadlineNotice, Destination, Kind, Preference

BATCH = 500
DEADLINE_AHEAD = timedelta(hours=24)


class _Moved(Exception):
    """Another worker moved the cursor meanwhile: this round's counts are rolled back."""


def collect() -> int:
    """Count what happened in every organization with an address; return how many events."""
    counted = 0
    orgs = set(Destination.objects.values_list("organization_id", flat=True).distinct())
    for org_id in sorted(orgs):
        counted += collect_audit(org_id)
        counted += collect_deadlines(org_id)
    return counted


def _listeners(org_id: int) -> dict[int, tuple[Member, set[str], list[int]]]:
    """Members of the organization with an address: (member, kinds wanted, address ids)."""
    dests: dict[int, list[int]] = defaultdict(list)
    for pk, member_id in Destination.objects.filter(organization_id=org_id).values_list("pk", "member_id"):
        dests[member_id].append(pk)
    prefs = {p.member_id: set(p.kinds) for p in Preference.objects.filter(member_id__in=dests)}
    members = Member.objects.filter(pk__in=dests, is_active=True).select_related("organization")
    return {m.pk: (m, prefs.get(m.pk, set()), dests[m.pk]) for m in members}


def collect_audit(org_id: int) -> int:
    head = AuditHead.objects.filter(organization_id=org_id).values_list("seq", flat=True).first() or 0
    cursor = Cursor.objects.filter(organization_id=org_id).first()
    if cursor is None:
        Cursor.objects.get_or_create(organization_id=org_id, defaults={"audit_seq": head})
        return 0
    if cursor.audit_seq >= head:
        return 0
    entries = list(AuditEntry.objects.filter(organization_id=org_id, seq__gt=cursor.audit_seq)
                   .order_by("seq")[:BATCH])
    if not entries:
        return 0
    try:
        with transaction.atomic():
            if not Cursor.objects.filter(pk=org_id, audit_seq=cursor.audit_seq).update(
                    audit_seq=entries[-1].seq):
                raise _Moved
            counted = _count(org_id, entries)
    except _Moved:
        return 0
    return counted


def _count(org_id: int, entries: list[AuditEntry]) -> int:
    listeners = _listeners(org_id)
    if not listeners:
        return 0
    new_cases: dict[int, int | None] = {}  # case id -> who opened it
    per_member: dict[int, list[tuple[str, int | None]]] = defaultdict(list)  # kind, case
    inbound_cases: list[int] = []
    for entry in entries:
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        if entry.case_id and (entry.action == "case.released"
                              or (entry.action == "case.created" and not detail.get("held"))):
            new_cases[entry.case_id] = entry.actor_id
        elif entry.action == "case.assigned" and entry.case_id:
            assignee = detail.get("assignee")
            if isinstance(assignee, int) and assignee != entry.actor_id:
                per_member[assignee].append((Kind.ASSIGNED, entry.case_id))
        elif entry.action == "case.inbound" and entry.case_id:
            inbound_cases.append(entry.case_id)
        elif entry.action == "funds.payout.requested":
            for member_id, (member, _kinds, _dests) in listeners.items():
                if member_id != entry.actor_id and may_approve_payouts(member):
                    per_member[member_id].append((Kind.PAYOUT, None))
    if inbound_cases:
        assignees = dict(Case.objects.filter(pk__in=set(inbound_cases), assignee__isnull=False)
                         .values_list("pk", "assignee_id"))
        for case_id in inbound_cases:
            if case_id in assignees:
                per_member[assignees[case_id]].append((Kind.REPLY, case_id))
    counted = 0
    for member_id, (member, kinds, dests) in listeners.items():
        events = [(k, c) for k, c in per_member.get(member_id, []) if k in kinds]
        if Kind.NEW_CASE in kinds and new_cases:
            events += [(Kind.NEW_CASE, c) for c, actor in new_cases.items() if actor != member_id]
        if not events:
            continue
        case_ids = {c for _k, c in events if c is not None}
        visible = set(hearable_cases(member).filter(pk__in=case_ids).values_list("pk", flat=True))
        counts: dict[str, int] = defaultdict(int)
        for kind, event_case in events:
            if event_case is None or event_case in visible:
                counts[kind] += 1
        for kind, n in counts.items():
            for dest_id in dests:
                add_pending(dest_id, kind, n)
            counted += n
    return counted


def collect_deadlines(org_id: int) -> int:
    """Deadlines due within 24 hours, each counted once for its owner (else the assignee)."""
    now = timezone.now()
    due = list(Deadline.objects.filter(
        case__organization_id=org_id, case__erased=False, done_at__isnull=True, confirmed=True,
        due__gt=now, due__lte=now + DEADLINE_AHEAD,
    ).exclude(pk__in=DeadlineNotice.objects.values("deadline_id")).values_list(
        "pk", "case_id", "owner_id", "case__assignee_id"))
    if not due:
        return 0
    listeners = _listeners(org_id)
    counted = 0
    for pk, case_id, owner_id, assignee_id in due:
        with transaction.atomic():
            _notice, made = DeadlineNotice.objects.get_or_create(deadline_id=pk)
            if not made:
                continue
            heard = listeners.get(owner_id or assignee_id or 0)
            if heard is None or Kind.DEADLINE not in heard[1]:
                continue
            if not hearable_cases(heard[0]).filter(pk=case_id).exists():
                continue
            for dest_id in heard[2]:
                add_pending(dest_id, Kind.DEADLINE, 1)
            counted += 1
    return counted
