"""`haven audit verify` finds removed entries, the head row included."""

from __future__ import annotations

from django.db import transaction

from haven.audit import chain
from haven.audit.models import AuditEntry, AuditHead
from tests.conftest import Persona


def _write(org_id: int, count: int) -> None:
    for n in range(count):
        with transaction.atomic():
            chain.record(org_id, "case.viewed", detail={"n": n})


def test_an_intact_chain_verifies(alice: Persona) -> None:
    _write(alice.org.pk, 3)
    assert chain.verify(alice.org.pk) is None


def test_removing_the_newest_entries_is_found(alice: Persona) -> None:
    _write(alice.org.pk, 3)
    newest = AuditEntry.objects.filter(organization_id=alice.org.pk).order_by("-seq").first()
    assert newest is not None
    newest.delete()
    found = chain.verify(alice.org.pk)
    assert found is not None and "newest entries were removed" in str(found)


def test_removing_the_head_row_with_the_newest_entries_is_found(alice: Persona) -> None:
    _write(alice.org.pk, 3)
    AuditEntry.objects.filter(organization_id=alice.org.pk).order_by("-seq").first().delete()  # type: ignore[union-attr]
    AuditHead.objects.filter(organization_id=alice.org.pk).delete()
    found = chain.verify(alice.org.pk)
    assert found is not None and "head is missing" in str(found)


def test_an_organization_with_no_entries_and_no_head_verifies(alice: Persona) -> None:
    AuditEntry.objects.filter(organization_id=alice.org.pk).delete()
    AuditHead.objects.filter(organization_id=alice.org.pk).delete()
    assert chain.verify(alice.org.pk) is None
