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
from haven.vault.purposes import Lookup

from . import summaries
from .models import Case, CaseRecord, RecordKind, SearchField, SearchToken

MAX_QUERY_WORDS = 8


def token(vault: OrgVault, stem: str) -> int:
    return int(vault.keyed(Lookup.SEARCH, stem)[:16], 16) - (1 << 63)


def _tokens(vault: OrgVault, text: str) -> set[int]:
    return {token(vault, s) for s in stems(text)}


def index_text(vault: OrgVault, case: Case, text: str, field: int) -> None:
    """Add the words of ``text``, found in ``field``, to a case's index (once each)."""
    if not case.indexed:
        return  # the whole case is indexed at once later
    new = _tokens(vault, text)
    have = set(SearchToken.objects.filter(case=case, field=field, token__in=new)
               .values_list("token", flat=True))
    SearchToken.objects.bulk_create(
        SearchToken(case=case, organization_id=case.organization_id, token=t, field=field)
        for t in new - have
    )


FIELD_OF_KIND = {RecordKind.ANSWERS: SearchField.ANSWERS, RecordKind.INBOUND: SearchField.MESSAGE,
                 RecordKind.OUTBOUND: SearchField.REPLY, RecordKind.NOTE: SearchField.NOTE}


def _case_text(vault: OrgVault, case: Case) -> Iterable[tuple[int, str]]:
    if case.summary:
        yield SearchField.SUMMARY, summaries.unpack(vault.decrypt_text(bytes(case.summary))).text
    if case.tags:
        yield SearchField.TAGS, " ".join(json.loads(vault.decrypt_text(bytes(case.tags))))
    for rec in CaseRecord.objects.filter(case=case).exclude(kind=RecordKind.ATTACHMENT):
        text = vault.decrypt_text(bytes(rec.body))
        if rec.kind == RecordKind.ANSWERS:
            text = " ".join(str(v) for v in _flatten(json.loads(text)))
        yield FIELD_OF_KIND.get(RecordKind(rec.kind), SearchField.UNKNOWN), text


def _flatten(value: object) -> Iterable[object]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield value


def index_case(vault: OrgVault, case: Case) -> None:
    from .actions import reseal  # imported here: actions imports this module

    reseal(vault, case)
    tokens: set[tuple[int, int]] = set()
    for field, text in _case_text(vault, case):
        tokens |= {(field, t) for t in _tokens(vault, text)}
    SearchToken.objects.filter(case=case).delete()
    SearchToken.objects.bulk_create(
        (SearchToken(case=case, organization_id=case.organization_id, token=t, field=f)
         for f, t in tokens),
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
    wanted = query_tokens(vault, query)
    if not wanted:
        return Case.objects.none()
    matches = SearchToken.objects.filter(organization_id=organization_id, token__in=wanted)
    if len(wanted) == 1:
        ids = matches.values("case_id")
    else:
        ids = (matches.values("case_id").annotate(n=Count("token", distinct=True))
               .filter(n=len(wanted)).values("case_id"))
    return Case.objects.filter(organization_id=organization_id, pk__in=ids, held=False)


def query_tokens(vault: OrgVault, query: str) -> set[int]:
    return {token(vault, w) for w in list(dict.fromkeys(stems(query)))[:MAX_QUERY_WORDS]}


def matched_fields(vault: OrgVault, organization_id: int, query: str,
                   case_ids: list[int]) -> dict[int, list[int]]:
    """For each case found, the parts of it that hold a word of ``query``, from the index
    alone (nothing is decrypted). Entries written before parts were kept say nothing."""
    rows = (SearchToken.objects.filter(organization_id=organization_id, case_id__in=case_ids,
                                       token__in=query_tokens(vault, query))
            .exclude(field=SearchField.UNKNOWN).values_list("case_id", "field").distinct())
    found: dict[int, list[int]] = {}
    for case_id, field in rows:
        found.setdefault(case_id, []).append(field)
    return {case_id: sorted(fields) for case_id, fields in found.items()}


def forget(case: Case) -> None:
    SearchToken.objects.filter(case=case).delete()
