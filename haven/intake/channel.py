"""The web channel: replies from the desk wait, sealed, for the requester to come back.

The outbox worker hands each reply to :class:`WebChannel`, which seals it to
the requester's public key and stores it in the requester's thread. Only the
codename unwraps the matching private key, so the server cannot read the
thread copy back on its own.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from haven.cases.models import Case, Channel
from haven.outbox import DeliveryError
from haven.outbox.models import Outbox
from haven.vault import seal_text

from .models import Requester, RequesterMessage


class WebChannel:
    name: str = Channel.WEB.value

    def check(self, text: str) -> None:
        """Any text the desk accepts fits in the thread."""

    def address(self, case: Case) -> dict[str, Any]:
        return {}  # the case id on the outbox row is the address

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if row.case_id is None:
            raise DeliveryError("no-case", permanent=True)
        requester = Requester.objects.filter(case_id=row.case_id).first()
        if requester is None:
            raise DeliveryError("requester-gone", permanent=True)
        if row.record_id and RequesterMessage.objects.filter(record_id=row.record_id).exists():
            return  # stored before a crash; the outbox row is being retried
        try:
            RequesterMessage.objects.create(
                case_id=row.case_id, direction=RequesterMessage.Direction.TO_REQUESTER,
                record_id=row.record_id,
                body=seal_text(bytes(requester.public_key), str(payload.get("text", ""))),
            )
        except IntegrityError:
            return  # another worker stored it at the same moment
