"""Desk-side changes that belong to intake: the intake settings (the fraud mark is a
case's, in haven.cases.actions).

Like haven.cases.actions: each checks the member's right and writes the audit
entry in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from haven.accounts.models import Member
from haven.accounts.rights import Right, require
from haven.audit import chain
from haven.core.langs import LANGS

from .models import IntakeSettings


def save_settings(
    member: Member, *, enabled: Iterable[str] | None, description: Mapping[str, str],
    retention: Mapping[str, str],
) -> IntakeSettings:
    """Administrators choose the categories offered and the public wording."""
    require(member, Right.ORG_ADMIN)
    with transaction.atomic():
        row, _ = IntakeSettings.objects.select_for_update().get_or_create(
            organization_id=member.organization_id)
        row.enabled = None if enabled is None else sorted(set(enabled))
        row.description = {lang: description.get(lang, "").strip() for lang in LANGS}
        row.retention = {lang: retention.get(lang, "").strip() for lang in LANGS}
        row.updated = timezone.now()
        row.save()
        chain.record(member.organization_id, "intake.settings", actor_id=member.pk,
                     detail={"enabled": row.enabled})
    return row
