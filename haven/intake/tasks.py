"""The worker's periodic tasks for intake."""

from __future__ import annotations

from haven.cases.models import Case, Status
from haven.core.worker import periodic

from . import conversations, fingerprints
from .followup import forget
from .models import Requester


@periodic(every=600, purges=True)
def purge_expired_intake_conversations() -> int:
    """Unfinished conversations older than a day of inactivity."""
    return conversations.purge_expired()


@periodic(every=3600, purges=True)
def forget_requesters_of_burned_cases() -> int:
    """Safety net: a burned case keeps its row as a tombstone; its codename and thread go.

    Normally done at once through ``haven.cases.signals.content_purged``.
    """
    burned = Case.objects.filter(status=Status.CLOSED, summary=b"",
                                 pk__in=Requester.objects.values("case_id"))
    count = 0
    for case in burned:
        forget(case)
        count += 1
    return count


@periodic(every=3600)
def forget_fingerprints_of_closed_cases() -> int:
    """Safety net: closed cases keep no fingerprints (normally gone at the close itself,
    through ``haven.cases.signals.closed``)."""
    return fingerprints.forget_closed()
