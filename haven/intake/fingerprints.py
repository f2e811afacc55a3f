"""Duplicate detection: keyed hashes of requester identifiers, under the organization's key.

A phone number has about 10^9 possible values and a Telegram username can be
guessed from public lists, so a hash the server can compute on its own (under
its pepper) can be inverted by anyone holding the server. Here the hash is
``OrgVault.fingerprint(kind, identifier)``, under a key derived from the
organization's private key, which only members hold.

Intake runs with no member present, so it cannot compute that hash: it stores
the identifier sealed to the organization (:func:`queue`). The next time a
member of the organization opens the desk (the queue page, or a search, where
the blind index of new cases is built as well), :func:`compute_pending` opens
each sealed identifier, stores only its keyed hash, wipes the sealed copy (the
answers record keeps the identifier anyway) and raises a "possible duplicate"
reminder for each open case that shares it. So duplicates are flagged when a
member next looks, not at the moment of intake.

Fingerprints are only ever compared with open cases, so a case keeps none once
it closes (:func:`forget_closed`, on ``haven.cases.signals.closed``, and the
worker's sweep). A reopened case gets them again from its answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from haven.accounts.models import Organization
from haven.cases.keys import try_case_vault
from haven.cases.models import OPEN_STATUSES, Case, CaseRecord, RecordKind, Reminder, Status
from haven.vault import KeyRing, OrgVault, VaultError, seal_text

from . import fields, registry
from .models import CaseFingerprint

log = logging.getLogger("haven.intake")
FROM_ANSWERS = ""  # the kind of a row asking for the case's identifiers to be read from its answers


def queue(org: Organization, case: Case, identifiers: Iterable[tuple[str, str]]) -> None:
    """At intake: each (kind, identifier) sealed to the organization, its hash still to come."""
    public = bytes(org.public_key)
    CaseFingerprint.objects.bulk_create(
        CaseFingerprint(organization=org, case=case, kind=kind, sealed=seal_text(public, value))
        for kind, value in identifiers)


def requeue(case: Case) -> None:
    """A reopened case: read its identifiers from its answers at the next computation."""
    CaseFingerprint.objects.filter(case=case).delete()
    CaseFingerprint.objects.create(organization_id=case.organization_id, case=case,
                                   kind=FROM_ANSWERS)


PER_VISIT = 200  # rows done on one page view, oldest first, so a backlog never stalls a page


def compute_pending(vault: OrgVault, organization_id: int, limit: int | None = None) -> int:
    """With a member's key: hash what intake sealed and flag duplicates. Returns rows done."""
    pending = CaseFingerprint.objects.filter(organization_id=organization_id, hash="")
    if isinstance(vault, KeyRing):
        # Rows read from a case's answers wait for a member who can read that case.
        pending = pending.filter(Q(case__team_id__in=list(vault.team_ids), case__restricted=False)
                                 | ~Q(kind=FROM_ANSWERS))
    rows = pending.select_related("case").order_by("pk")
    return sum(_compute(vault, row) for row in (rows[:limit] if limit else rows))


def _compute(vault: OrgVault, row: CaseFingerprint) -> int:
    case = row.case
    identifiers = _identifiers(vault, row) if case.is_open and not case.erased else []
    hashes = [(kind, vault.fingerprint(kind, value)) for kind, value in identifiers]
    with transaction.atomic():
        claimed, _ = CaseFingerprint.objects.filter(pk=row.pk, hash="").delete()
        if not claimed:
            return 0  # another member's request computed it first
        others: set[int] = set()
        for kind, digest in hashes:
            others |= set(CaseFingerprint.objects.filter(
                organization_id=row.organization_id, hash=digest,
                case__status__in=OPEN_STATUSES, case__erased=False,
            ).exclude(case=case).values_list("case__number", flat=True))
            CaseFingerprint.objects.create(organization_id=row.organization_id, case=case,
                                           kind=kind, hash=digest)
        if case.held:
            others.clear()  # a flood reusing one phone number must not fill the desk with reminders
        for number in sorted(others):
            Reminder.objects.create(organization_id=row.organization_id, case=case,
                                    kind="possible_duplicate", detail={"other": number})
    return 1


def _identifiers(vault: OrgVault, row: CaseFingerprint) -> list[tuple[str, str]]:
    try:
        if row.kind != FROM_ANSWERS:
            return [(row.kind, vault.decrypt_text(bytes(row.sealed or b"")))]
        return list(_from_answers(vault, row.case))
    except (VaultError, ValueError, KeyError, TypeError):
        log.warning("a fingerprint of case %s does not open; dropped", row.case_id)
        return []


def _from_answers(vault: OrgVault, case: Case) -> Iterable[tuple[str, str]]:
    """The identifiers in a case's answers record, as intake would have fingerprinted them."""
    questionnaire = registry.get(case.category)
    opened = try_case_vault(vault, case)
    if questionnaire is None or opened is None:
        return
    vault = opened
    for record in CaseRecord.objects.filter(case=case, kind=RecordKind.ANSWERS):
        answers = json.loads(vault.decrypt_text(bytes(record.body)))
        for item in answers.get("items") or []:
            key = str(item.get("key"))
            if not questionnaire.has_step(key) or not questionnaire.step(key).fingerprint:
                continue
            kind = str(questionnaire.step(key).fingerprint)
            value = fields.fingerprint_value(kind, str(item.get("answer") or ""))
            if value:
                yield kind, value


def forget_case(case: Case) -> int:
    """A case closed: its fingerprints are never compared again, so they go."""
    deleted, _ = CaseFingerprint.objects.filter(case=case).delete()
    return deleted


def forget_closed() -> int:
    """The worker's safety net: fingerprints of closed or erased cases."""
    gone = CaseFingerprint.objects.filter(case__status=Status.CLOSED)
    deleted, _ = gone.delete()
    erased, _ = CaseFingerprint.objects.filter(case__erased=True).delete()
    return deleted + erased
