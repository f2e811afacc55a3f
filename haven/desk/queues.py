"""The desk's queues: which cases a member sees, filtered and counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from haven.accounts.models import Member
from haven.cases.keys import readable_cases
from haven.cases.models import OPEN_STATUSES, Case, Status


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str | Promise


QUEUES = [
    Queue("new", pgettext_lazy("queue", "New")),
    Queue("mine", pgettext_lazy("queue", "Mine")),
    Queue("unassigned", pgettext_lazy("queue", "Unassigned")),
    Queue("due", pgettext_lazy("queue", "Due within 72 h")),
    Queue("overdue", pgettext_lazy("queue", "Overdue")),
    Queue("waiting", pgettext_lazy("queue", "Waiting on requester")),
    Queue("open", pgettext_lazy("queue", "All open")),
    Queue("closed", pgettext_lazy("queue", "Closed")),
]
QUEUE_SLUGS = {q.slug for q in QUEUES}


def queue_filter(slug: str, member: Member) -> Q:
    now = timezone.now()
    open_ = Q(status__in=OPEN_STATUSES)
    return {
        "new": Q(status=Status.NEW),
        "mine": open_ & Q(assignee=member),
        "unassigned": open_ & Q(assignee__isnull=True),
        "due": open_ & Q(next_due__gte=now, next_due__lte=now + timedelta(hours=72)),
        "overdue": open_ & Q(next_due__lt=now),
        "waiting": Q(status=Status.WAITING),
        "open": open_,
        "closed": Q(status=Status.CLOSED),
    }[slug]


def queue_cases(member: Member, slug: str) -> QuerySet[Case]:
    cases = readable_cases(member).filter(held=False).filter(queue_filter(slug, member))
    if slug in ("due", "overdue"):
        return cases.order_by("next_due", "pk")
    return cases.order_by("-priority", "-created", "-pk")


def held_cases(member: Member) -> QuerySet[Case]:
    """Cases that arrived during a flood and wait for a coordinator (haven.intake.flood)."""
    return readable_cases(member).filter(held=True).order_by("created", "pk")


def counts(member: Member, cap: int = 999) -> dict[str, int]:
    """How many cases each queue holds, counted up to ``cap`` + 1 (shown as "999+")."""
    base = readable_cases(member).filter(held=False)
    return {q.slug: base.filter(queue_filter(q.slug, member))[: cap + 1].count()
            for q in QUEUES if q.slug != "closed"}
