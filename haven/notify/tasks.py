"""Notifications in ``haven worker``: count what happened, then queue what is due."""

from __future__ import annotations

from haven.core.worker import periodic

from .collect import collect
from .dispatch import dispatch


@periodic(every=15)
def notify_round() -> int:
    return collect() + dispatch()
