"""Full-text search over encrypted cases with a blind index.

Each word of a case is stemmed (Russian, Ukrainian, English word forms) and
stored as 64 bits of an HMAC under a key derived from the organization's
private key. Only a member who unlocked the organization key can compute the
tokens of a query; the server's disk holds no words, only which cases share a
token. Cases that arrive while no member is present (intake) are indexed the
next time a member searches. The trade-off is described in docs/threat-model.md.

Only free text is indexed: messages, replies, notes, tags and summaries a
member wrote on the desk. Never the questionnaire answers (question texts,
step keys, choice labels, numbers, dates and every sensitive step) nor the
intake summary made from them: their words are public (the questionnaire
files), so which cases share them would give the answers away (review H-2).
Each case's tokens are padded with random ones to a multiple of
:data:`PAD_TO`, so the number of rows says little about how much was written.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from django.db.models import Count, QuerySet

from haven.core.text import terms as stems
from haven.vault import OrgVault
from haven.vault.purposes import Lookup

from . import signals, summaries
from .models import Case, CaseRecord, Channel, RecordKind, SearchField, SearchToken

MAX_QUERY_WORDS = 8
# Cases indexed by one search at most (about 10 ms each): after a re-index migration every
# case waits, and one request must not take minutes. ``haven reindex`` does them all at once.
PENDING_PER_SEARCH = 300
# Each case holds a multiple of this many tokens (at least this many), random ones filling up.
PAD_TO = 32


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
    rows = {(field, t) for t in new - have}
    count = SearchToken.objects.filter(case=case).count()
    _write(case, rows | padding(count + len(rows), [field]))


# The free text of each kind of record. Answers to the questionnaire are never indexed
# (see the module's docstring), nor are attachments.
FIELD_OF_KIND = {RecordKind.INBOUND: SearchField.MESSAGE, RecordKind.OUTBOUND: SearchField.REPLY,
                 RecordKind.NOTE: SearchField.NOTE}


def _case_text(vault: OrgVault, case: Case) -> Iterable[tuple[int, str]]:
    if case.summary and case.channel == Channel.DESK:  # intake's summary is an answer
        yield SearchField.SUMMARY, summaries.unpack(vault.decrypt_text(bytes(case.summary))).text
    if case.tags:
        yield SearchField.TAGS, " ".join(json.loads(vault.decrypt_text(bytes(case.tags))))
    for rec in CaseRecord.objects.filter(case=case, kind__in=list(FIELD_OF_KIND)):
        yield FIELD_OF_KIND[RecordKind(rec.kind)], vault.decrypt_text(bytes(rec.body))


def padding(count: int, fields: list[int]) -> set[tuple[int, int]]:
    """Random tokens that bring ``count`` up to a multiple of PAD_TO (at least PAD_TO).

    A random 64-bit value matches no word. Each takes the part of a real token so the
    parts' counts do not single them out; with none, the message part."""
    want = max(PAD_TO, -(-count // PAD_TO) * PAD_TO) - count
    choices = fields or [SearchField.MESSAGE]
    return {(secrets.choice(choices), secrets.randbits(64) - (1 << 63)) for _ in range(want)}


def _write(case: Case, rows: set[tuple[int, int]]) -> None:
    SearchToken.objects.bulk_create(
        (SearchToken(case=case, organization_id=case.organization_id, token=t, field=f)
         for f, t in rows),
        batch_size=1000,
    )


def index_case(vault: OrgVault, case: Case) -> None:
    from .actions import rekey_tags, reseal  # imported here: actions imports this module

    reseal(vault, case)
    rekey_tags(vault, case)
    tokens: set[tuple[int, int]] = set()
    for field, text in _case_text(vault, case):
        tokens |= {(field, t) for t in _tokens(vault, text)}
    SearchToken.objects.filter(case=case).delete()
    _write(case, tokens | padding(len(tokens), [f for f, _t in tokens]))
    Case.objects.filter(pk=case.pk).update(indexed=True)
    case.indexed = True


def index_pending(vault: OrgVault, organization_id: int, limit: int | None = None) -> int:
    """Index cases that arrived with no member present. Returns how many."""
    # Held cases (a flood, see actions.release_held) wait unindexed, so search needs no
    # filter for them: they are indexed at the first search after their release.
    pending = Case.objects.filter(organization_id=organization_id, indexed=False, erased=False,
                                  held=False)
    count = 0
    for case in pending.order_by("pk")[:limit] if limit else pending.order_by("pk"):
        index_case(vault, case)
        count += 1
    return count


def pending(organization_id: int) -> int:
    """How many cases of the organization are not in the index yet."""
    return Case.objects.filter(organization_id=organization_id, indexed=False, erased=False,
                               held=False).count()


def search(vault: OrgVault, organization_id: int, query: str) -> QuerySet[Case]:
    """Cases of the organization containing every word of ``query`` (in any form).

    Indexes up to PENDING_PER_SEARCH waiting cases first; the rest are found by a later
    search (see :func:`pending`)."""
    index_pending(vault, organization_id, limit=PENDING_PER_SEARCH)
    signals.unlocked.send(sender=Case, vault=vault, organization_id=organization_id)
    wanted = query_tokens(vault, query)
    if not wanted:
        return Case.objects.none()
    matches = SearchToken.objects.filter(organization_id=organization_id, token__in=wanted)
    if len(wanted) == 1:
        ids = matches.values("case_id")
    else:
        ids = (matches.values("case_id").annotate(n=Count("token", distinct=True))
               .filter(n=len(wanted)).values("case_id"))
    return Case.objects.filter(organization_id=organization_id, pk__in=ids)


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
