"""The import wizard's uploads between its steps: the one module that writes them.

A draft is a bank export encrypted under the organization key, visible only to
the member who uploaded it, and gone a day later or once imported. No money
moves here: :func:`haven.funds.actions.import_donations` books the rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from .importing import Mapping
from .models import ImportDraft

DRAFT_HOURS = 24


def oldest() -> Any:
    """Drafts created at or before this moment have expired."""
    return timezone.now() - timedelta(hours=DRAFT_HOURS)


@transaction.atomic
def create(member: Any, ciphertext: bytes) -> ImportDraft:
    """Keep a new upload, removing the member's expired ones."""
    ImportDraft.objects.filter(member=member, created__lte=oldest()).delete()
    return ImportDraft.objects.create(organization=member.organization, member=member,
                                      data=ciphertext)


def choose_mapping(draft: ImportDraft, mapping: Mapping) -> None:
    """Remember the columns the member mapped, for the preview and the import."""
    ImportDraft.objects.filter(pk=draft.pk).update(settings=mapping.to_json())


def remove(draft: ImportDraft) -> None:
    """Drop an upload: imported, cancelled or expired."""
    draft.delete()


def purge_expired() -> int:
    """Remove every upload older than a day. Returns how many."""
    deleted, _detail = ImportDraft.objects.filter(created__lte=oldest()).delete()
    return deleted
