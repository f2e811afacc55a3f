"""The web channel: replies from the desk wait, sealed, for the requester to come back.

The outbox worker hands each reply to :class:`WebChannel`, which seals it to
the requester's public key and stores it in the requester's thread. Only the
codename unwraps the matching private key, so the server cannot read the
thread copy back on its own.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction

from haven.cases import files
from haven.cases.models import Case, Channel
from haven.outbox import DeliveryError, spool
from haven.outbox.models import Outbox
from haven.vault import seal, seal_text

from .models import Requester, RequesterFile, RequesterMessage


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
        public = bytes(requester.public_key)
        storage = _file_for(public, payload)
        try:
            with transaction.atomic():
                message = RequesterMessage.objects.create(
                    case_id=row.case_id, direction=RequesterMessage.Direction.TO_REQUESTER,
                    record_id=row.record_id, body=seal_text(public, str(payload.get("text", ""))),
                )
                if storage:
                    file = payload["file"]
                    RequesterFile.objects.create(message=message, storage_name=storage, meta=seal_text(
                        public, json.dumps({"name": file.get("name"), "type": file.get("type")},
                                           ensure_ascii=False)))
        except BaseException as exc:
            if storage:
                files.discard(storage)
            if isinstance(exc, IntegrityError):
                return  # another worker stored it at the same moment
            raise


def _file_for(public: bytes, payload: dict[str, Any]) -> str:
    """The spooled file of a reply, sealed to the requester and written; "" without one."""
    names = spool.names_in(payload)
    if not names:
        return ""
    try:
        data = spool.read(names[0])
    except spool.SpoolMissing:
        raise DeliveryError("web: the spooled file is gone", permanent=True) from None
    return files.write(seal(public, data))
