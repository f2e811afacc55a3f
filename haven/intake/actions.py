"""Desk-side changes that belong to intake: fraud screening and intake settings.

Like haven.cases.actions: each checks the member's right and writes the audit
entry in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haven.accounts.models import Member, Role
from haven.audit import chain
from haven.cases.access import MANAGE, NotAllowed, require
from haven.cases.models import Case
from haven.core.langs import LANGS

from .models import IntakeSettings


def set_fraud_suspected(member: Member, case: Case, suspected: bool) -> None:
    """Coordinators and administrators mark (or clear) a case as suspected fraud or duplicate."""
    require(member, MANAGE)
    if case.organization_id != member.organization_id:
        raise NotAllowed(MANAGE)
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            fraud_suspected=suspected, version=F("version") + 1, updated=timezone.now())
        chain.record(case.organization_id, "case.fraud", actor_id=member.pk, case_id=case.pk,
                     detail={"suspected": suspected})
    case.refresh_from_db()


def save_settings(
    member: Member, *, enabled: Iterable[str] | None, description: Mapping[str, str],
    retention: Mapping[str, str],
) -> IntakeSettings:
    """Administrators choose the categories offered and the public wording."""
    if not member.has_role(Role.ADMIN):
        raise NotAllowed("admin")
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
