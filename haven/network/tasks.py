"""The network's periodic work in ``haven worker``."""

from __future__ import annotations

from haven.core.worker import periodic

from . import collect, storage
from .partners import active_partners

COLLECT_EVERY = 4 * 3600.0  # partners publish monthly; a few hours is fresh enough


@periodic(COLLECT_EVERY)
def collect_partner_figures() -> int:
    """Collect every active partner's published figures for every organization."""
    return sum(o.kept for o in collect.collect(list(active_partners(None))))


@periodic(every=6 * 3600)
def sweep_envelopes() -> int:
    """Remove envelope files a crash left behind (no row names them, older than a day)."""
    return storage.sweep()
