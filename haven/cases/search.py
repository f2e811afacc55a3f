"""Full-text search over encrypted cases with a blind index.

Each word of a case is stemmed (Russian, Ukrainian, English word forms) and
stored as 64 bits of an HMAC under a key derived from the private key of the
case's team (for the migrated "General" team that is the organization's key).
Only a member holding the team's key can compute the tokens of a query, and one
team's tokens say nothing about another's (a search looks with each key the
member holds, and returns only cases the member may read); the server's disk
holds no words, only which cases share a token. Cases that arrive while no
member is present (intake) are indexed the next time a member of the team
searches. The trade-off is described in docs/threat-model.md.

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

from django.db.models import Count, Q, QuerySet

from haven.accounts.models import Member, Team
from haven.core.text import terms as stems
from haven.vault import KeyRing, OrgVault
from haven.vault.purposes import Lookup

from . import signals, summaries
from .keys import readable_q, try_case_vault
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


def team_vaults(ring: OrgVault, organization_id: int) -> dict[int, OrgVault]:
    """The index key of each team whose key ``ring`` holds. A bare organization vault holds
    the teams still under the organization key (the migrated "General")."""
    if isinstance(ring, KeyRing):
        return {team_id: ring.team_vault(team_id) for team_id in ring.team_ids}
    return {team.pk: ring for team in Team.objects.filter(organization_id=organization_id)
            if bytes(team.public_key) == ring.public_key}


def index_vault(ring: OrgVault, case: Case) -> OrgVault | None:
    """The key a case's index tokens are made with (its team's), or None if not held."""
    if isinstance(ring, KeyRing):
        return ring.team_vault(case.team_id) if ring.holds(case.team_id) else None
    return team_vaults(ring, case.organization_id).get(case.team_id or 0)


def index_text(vault: OrgVault, case: Case, text: str, field: int) -> None:
    """Add the words of ``text``, found in ``field``, to a case's index (once each).
    ``vault``: the member's key ring; without the team's key nothing is added (a member of
    a restricted case outside its team), the case's words are indexed again on a move."""
    if not case.indexed:
        return  # the whole case is indexed at once later
    team_vault = index_vault(vault, case)
    if team_vault is None:
        return
    new = _tokens(team_vault, text)
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
    """(Re-)index a case with its team's key; ``vault`` is the member's key ring."""
    from .actions import rekey_tags, reseal  # imported here: actions imports this module

    opened, team_vault = try_case_vault(vault, case), index_vault(vault, case)
    if opened is None or team_vault is None:
        return
    reseal(vault, case)
    rekey_tags(vault, case)
    tokens: set[tuple[int, int]] = set()
    for field, text in _case_text(opened, case):
        tokens |= {(field, t) for t in _tokens(team_vault, text)}
    SearchToken.objects.filter(case=case).delete()
    _write(case, tokens | padding(len(tokens), [f for f, _t in tokens]))
    Case.objects.filter(pk=case.pk).update(indexed=True)
    case.indexed = True


def index_pending(vault: OrgVault, organization_id: int, limit: int | None = None) -> int:
    """Index cases that arrived with no member present. Returns how many."""
    # Held cases (a flood, see actions.release_held) wait unindexed, so search needs no
    # filter for them: they are indexed at the first search after their release.
    teams = list(team_vaults(vault, organization_id))
    pending = Case.objects.filter(organization_id=organization_id, indexed=False, erased=False,
                                  held=False, team_id__in=teams)
    count = 0
    for case in pending.order_by("pk")[:limit] if limit else pending.order_by("pk"):
        index_case(vault, case)
        count += 1
    return count


def pending(organization_id: int) -> int:
    """How many cases of the organization are not in the index yet."""
    return Case.objects.filter(organization_id=organization_id, indexed=False, erased=False,
                               held=False).count()


def search(vault: OrgVault, organization_id: int, query: str,
           member: Member | None = None) -> QuerySet[Case]:
    """Cases containing every word of ``query`` (in any form) that ``member`` may read
    (without a member: the unrestricted cases of the teams whose keys ``vault`` holds).

    Indexes up to PENDING_PER_SEARCH waiting cases first; the rest are found by a later
    search (see :func:`pending`)."""
    index_pending(vault, organization_id, limit=PENDING_PER_SEARCH)
    signals.unlocked.send(sender=Case, vault=vault, organization_id=organization_id)
    teams = team_vaults(vault, organization_id)
    words = _words(query)
    if not words or not teams:
        return Case.objects.none()
    # Each team's tokens of the query: a case matches the words under its own team's key.
    wanted = {token(tv, w) for tv in teams.values() for w in words}
    matches = SearchToken.objects.filter(organization_id=organization_id, token__in=wanted)
    if len(words) == 1:
        ids = matches.values("case_id")
    else:
        ids = (matches.values("case_id").annotate(n=Count("token", distinct=True))
               .filter(n=len(words)).values("case_id"))
    allowed = readable_q(member) if member is not None else Q(team_id__in=list(teams),
                                                              restricted=False)
    return Case.objects.filter(Q(organization_id=organization_id, pk__in=ids) & allowed)


def _words(query: str) -> list[str]:
    return list(dict.fromkeys(stems(query)))[:MAX_QUERY_WORDS]


def query_tokens(vault: OrgVault, query: str) -> set[int]:
    """The tokens of ``query`` under every team key ``vault`` holds (one vault: under it)."""
    if isinstance(vault, KeyRing):
        return {token(vault.team_vault(t), w) for t in vault.team_ids for w in _words(query)}
    return {token(vault, w) for w in _words(query)}


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
