"""The worker's periodic tasks for cases: outbox, reminders, retention."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from haven import outbox
from haven.core.worker import periodic

from .actions import purge_expired
from .models import Case, Deadline, OrgSettings, Reminder, Status

REMIND_HOURS = (24, 72)  # nearest first, so a late deadline gets one reminder


@periodic(every=1, purges=True)
def deliver_outbox() -> int:
    result = outbox.run_once(batch=50, shared_only=True)  # Telegram sends its own
    return result.sent + result.failed


@periodic(every=300)
def raise_deadline_reminders() -> int:
    """A reminder on the desk 72 h and 24 h before each open, confirmed deadline."""
    now = timezone.now()
    raised = 0
    for hours in REMIND_HOURS:
        due = Deadline.objects.filter(
            done_at__isnull=True, confirmed=True, due__gt=now, due__lte=now + timedelta(hours=hours),
            case__erased=False,
        ).exclude(reminded__gt=0, reminded__lte=hours).select_related("case")
        for deadline in due:
            with transaction.atomic():
                updated = Deadline.objects.filter(pk=deadline.pk, reminded=deadline.reminded).update(
                    reminded=hours)
                if updated:
                    Reminder.objects.create(
                        organization_id=deadline.case.organization_id, case=deadline.case,
                        member_id=deadline.owner_id, kind="deadline",
                        detail={"hours": hours, "deadline": deadline.pk},
                    )
                    raised += 1
    return raised


@periodic(every=3600, purges=True)
def purge_closed_cases() -> int:
    """Delete closed cases older than their organization's retention period."""
    purged = 0
    now = timezone.now()
    for settings_row in OrgSettings.objects.all():
        cutoff = now - timedelta(days=settings_row.retention_days)
        old = Case.objects.filter(organization_id=settings_row.pk, status=Status.CLOSED,
                                  closed_at__lt=cutoff)
        for case in old.iterator():
            purged += purge_expired(case, settings_row.retention_days)
    return purged
