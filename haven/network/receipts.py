"""Our referrals' news from elsewhere: the partner's receipt (handed over by the inbox once
verified) and the transport's outcome (delivered, or given up).

The inbox (``haven.network.inbox``) finds the organization and the partner by the
envelope's keys, checks the signature and dispatches by kind; a receipt's outcome is
recorded by :func:`haven.network.actions.referral_receipt`. The transport's signals mark
a referral delivered or failed (:func:`haven.network.actions.connect_transport`).
"""

from __future__ import annotations

from . import actions, inbox
from .envelope import Kind


def register() -> None:
    inbox.handle(Kind.RECEIPT)(actions.referral_receipt)
    actions.connect_transport()
