"""The worker's periodic tasks for funds."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from haven.core.worker import periodic

from .models import ImportDraft

DRAFT_HOURS = 24


@periodic(every=3600)
def purge_import_drafts() -> int:
    """Remove uploads left in the import wizard for more than a day."""
    cutoff = timezone.now() - timedelta(hours=DRAFT_HOURS)
    deleted, _detail = ImportDraft.objects.filter(created__lte=cutoff).delete()
    return deleted
