"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev: str, org_id: int, seq: int, entry: AuditEntry) -> str:
    material = json.dumps(
        [prev, org_id, seq, entry.created.isoformat(), entry.actor_id, entry.case_id,
         entry.action, entry.detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def record(
    org_id: int, action: str, *, actor_id: int | None = None, case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to the organization's chain. Call inside the change's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change")
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        organization_id=org_id, defaults={"seq": 0, "hash": GENESIS}
    )
    entry = AuditEntry(
        organization_id=org_id, seq=head.seq + 1, created=timezone.now(), actor_id=actor_id,
        case_id=case_id, action=action, detail=detail or {}, prev_hash=head.hash,
    )
    # Round-trip through JSON so the hash covers exactly what the database returns.
    entry.detail = json.loads(json.dumps(entry.detail))
    entry.hash = _digest(head.hash, org_id, entry.seq, entry)
    entry.save()
    head.seq, head.hash = entry.seq, entry.hash
    head.save(update_fields=["seq", "hash"])
    return entry


@dataclass(frozen=True)
class Break:
    org_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"organization {self.org_id}: entry {self.seq}: {self.problem}"


def verify(org_id: int) -> Break | None:
    """Return the first broken link of an organization's chain, or None."""
    prev, expected_seq = GENESIS, 1
    for entry in _entries(org_id):
        if entry.seq != expected_seq:
            return Break(org_id, expected_seq, f"entry missing (next present is {entry.seq})")
        if entry.prev_hash != prev:
            return Break(org_id, entry.seq, "does not follow the previous entry (reordered or replaced)")
        if _digest(prev, org_id, entry.seq, entry) != entry.hash:
            return Break(org_id, entry.seq, "content was edited after it was written")
        prev, expected_seq = entry.hash, expected_seq + 1
    head = AuditHead.objects.filter(organization_id=org_id).first()
    if head is None and expected_seq > 1:
        # Entries with no head: the head row was deleted, perhaps with the newest entries.
        return Break(org_id, expected_seq,
                     "the chain's head is missing (the newest entries may have been removed)")
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return Break(org_id, expected_seq, f"the newest entries were removed (head is at {head.seq})")
    return None


def _entries(org_id: int) -> Iterator[AuditEntry]:
    return AuditEntry.objects.filter(organization_id=org_id).order_by("seq").iterator(chunk_size=2000)
