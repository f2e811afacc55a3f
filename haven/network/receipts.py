"""Partners' receipts for our referrals, handed over by the inbox once verified.

The inbox (``haven.network.inbox``) finds the organization and the partner by the
envelope's keys, checks the signature and dispatches by kind; a receipt's outcome is
recorded by :func:`haven.network.actions.referral_receipt`.
"""

from __future__ import annotations

from .envelope import Kind


def register() -> None:
    try:
        from . import inbox
    except ImportError:  # the inbox is not on this branch yet
        return
    from .actions import referral_receipt

    inbox.handle(Kind.RECEIPT)(referral_receipt)
