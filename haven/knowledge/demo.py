"""The knowledge base in ``haven demo``: the shipped articles, loaded idempotently."""

from __future__ import annotations

from .loader import LoadReport
from .loader import load_shipped as _load


def load_shipped() -> LoadReport:
    """Load (or refresh) the shipped articles; safe to call on every start of the demo."""
    return _load()
