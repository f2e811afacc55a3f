"""Full-text search over encrypted cases with a blind index.

Each word of a case is stemmed (Russian, Ukrainian, English word forms) and
stored as 64 bits of an HMAC under a key derived from the organization's
private key. Only a member who unlocked the organization key can compute the
tokens of a query; the server's disk holds no words, only which cases share a
token. Cases that arrive while no member is present (intake) are indexed the
next time a member searches. The trade-off is described in docs/threat-model.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import Count, QuerySet

from haven.core.text import terms as stems
from haven.vault import OrgVault

from .models import Case, CaseRecord, RecordKind, SearchToken

MAX_QUERY_WORDS = 8


def token(vault: OrgVault, stem: str) -> int:
    return int(vault.keyed("search", stem)[:16], 16) - (1 << 63)


def _tokens(vault: OrgVault, text: str) -> set[int]:
    return {token(vault, s) for s in stems(text)}


def index_text(vault: OrgVault, case: Case, text: str) -> None:
    """Add the words of ``text`` to a case's index (skips words already there)."""
    if not case.indexed:
        return  # the whole case is indexed at once later
    new = _tokens(vault, text)
    have = set(SearchToken.objects.filter(case=case, token__in=new).values_list("token", flat=True))
    SearchToken.objects.bulk_create(
        SearchToken(case=case, organization_id=case.organization_id, token=t) for t in new - have
    )


def _case_text(vault: OrgVault, case: Case) -> Iterable[str]:
    if case.summary:
        yield vault.decrypt_text(bytes(case.summary))
    if case.tags:
        yield " ".join(json.loads(vault.decrypt_text(bytes(case.tags))))
    for rec in CaseRecord.objects.filter(case=case).exclude(kind=RecordKind.ATTACHMENT):
        text = vault.decrypt_text(bytes(rec.body))
        if rec.kind == RecordKind.ANSWERS:
            text = " ".join(str(v) for v in _flatten(json.loads(text)))
        yield text


def _flatten(value: object) -> Iterable[object]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield value


def reseal(vault: OrgVault, case: Case) -> None:
    """Re-encrypt what intake sealed under the faster organization record key.

    Sealed boxes need an X25519 operation per opening; a queue of 50 cases would
    pay it 50 times on every view. A member's unlocked key allows the switch.
    """
    reseal_cases(vault, [case])
    for rec in CaseRecord.objects.filter(case=case).only("pk", "body"):
        if vault.is_sealed(bytes(rec.body)):
            CaseRecord.objects.filter(pk=rec.pk).update(body=vault.encrypt(vault.decrypt(bytes(rec.body))))


def reseal_cases(vault: OrgVault, cases: Iterable[Case]) -> None:
    """Re-encrypt sealed summaries of cases about to be shown (see reseal)."""
    for case in cases:
        if case.summary and vault.is_sealed(bytes(case.summary)):
            case.summary = vault.encrypt(vault.decrypt(bytes(case.summary)))
            Case.objects.filter(pk=case.pk).update(summary=case.summary)


def index_case(vault: OrgVault, case: Case) -> None:
    reseal(vault, case)
    tokens: set[int] = set()
    for text in _case_text(vault, case):
        tokens |= _tokens(vault, text)
    SearchToken.objects.filter(case=case).delete()
    SearchToken.objects.bulk_create(
        (SearchToken(case=case, organization_id=case.organization_id, token=t) for t in tokens),
        batch_size=1000,
    )
    Case.objects.filter(pk=case.pk).update(indexed=True)
    case.indexed = True


def index_pending(vault: OrgVault, organization_id: int, limit: int | None = None) -> int:
    """Index cases that arrived with no member present. Returns how many."""
    pending = Case.objects.filter(organization_id=organization_id, indexed=False, erased=False)
    count = 0
    for case in pending.order_by("pk")[:limit] if limit else pending.order_by("pk"):
        index_case(vault, case)
        count += 1
    return count


def search(vault: OrgVault, organization_id: int, query: str) -> QuerySet[Case]:
    """Cases of the organization containing every word of ``query`` (in any form)."""
    index_pending(vault, organization_id)
    words = list(dict.fromkeys(stems(query)))[:MAX_QUERY_WORDS]
    if not words:
        return Case.objects.none()
    wanted = {token(vault, w) for w in words}
    matches = SearchToken.objects.filter(organization_id=organization_id, token__in=wanted)
    if len(wanted) == 1:
        ids = matches.values("case_id")
    else:
        ids = (matches.values("case_id").annotate(n=Count("token", distinct=True))
               .filter(n=len(wanted)).values("case_id"))
    return Case.objects.filter(organization_id=organization_id, pk__in=ids)


def forget(case: Case) -> None:
    SearchToken.objects.filter(case=case).delete()
