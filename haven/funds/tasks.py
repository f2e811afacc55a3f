"""The worker's periodic tasks for funds."""

from __future__ import annotations

from haven.core.worker import periodic

from . import drafts


@periodic(every=3600)
def purge_import_drafts() -> int:
    """Remove uploads left in the import wizard for more than a day."""
    return drafts.purge_expired()
