"""The network's periodic work in ``haven worker``."""

from __future__ import annotations

from haven.core.worker import periodic

from . import storage


@periodic(every=6 * 3600)
def sweep_envelopes() -> int:
    """Remove envelope files a crash left behind (no row names them, older than a day)."""
    return storage.sweep()
