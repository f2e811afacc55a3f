"""The worker's periodic tasks for the knowledge base: channel posts."""

from __future__ import annotations

from haven.core.worker import periodic

from . import posts


@periodic(every=20)
def queue_channel_posts() -> int:
    """Due posts into the outbox (the outbox task sends them)."""
    return posts.queue_due_posts()


@periodic(every=120)
def reconcile_channel_posts() -> int:
    """Posts the outbox gave up on without the handler saying so: failed."""
    return posts.reconcile_posts()
