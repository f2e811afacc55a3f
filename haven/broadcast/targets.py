"""Which open cases a broadcast reaches, in which channel and language: the preview.

Everything here runs inside a coordinator's request with their key ring: the
requester's language is sealed with the case summary and tags are keyed hashes
under the organization key, so neither the filter nor the counts can be computed
without a member's keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven.accounts.models import Member
from haven.cases import actions, replies, summaries
from haven.cases.keys import open_cases, readable_cases
from haven.cases.models import Case, Channel, Status
from haven.core.langs import DEFAULT_LANG, LANGS, LANGUAGE_NAMES
from haven.vault import CaseVault, OrgVault, VaultError

# The channels a broadcast can go through; a case recorded on the desk has none.
CHANNELS: tuple[str, ...] = (Channel.TELEGRAM, Channel.WEB)
OPEN_STATUSES: tuple[str, ...] = tuple(s for s in Status.values if s != Status.CLOSED)


@dataclass(frozen=True)
class Filters:
    category: str = ""
    team: int | None = None
    status: str = ""
    tag: str = ""

    def clear(self) -> dict[str, Any]:
        """What is kept in clear on the Broadcast row: never the tag itself."""
        return {"category": self.category, "team": self.team, "status": self.status,
                "tagged": bool(self.tag)}


@dataclass
class Target:
    case: Case
    lang: str  # the version it gets (its requester's language, or the fallback)


@dataclass
class Preview:
    targets: list[Target] = field(default_factory=list)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_lang: Counter[str] = field(default_factory=Counter)  # the requesters' languages
    fallback_used: int = 0
    missing: Counter[str] = field(default_factory=Counter)  # language -> cases with no version
    no_channel: int = 0  # recorded on the desk: nothing to send through
    no_deadline: int = 0  # the text uses {deadline} and the case has none
    unknown: list[str] = field(default_factory=list)  # {names} Haven cannot fill

    @property
    def total(self) -> int:
        return len(self.targets)

    def stamp(self) -> str:
        """The preview in one line: Send refuses when the cases changed since it was shown."""
        parts = [str(self.total), *(f"{c}:{self.by_channel[c]}" for c in CHANNELS),
                 *(f"{lang}:{self.by_lang[lang]}" for lang in LANGS), str(self.fallback_used),
                 ",".join(str(t.case.pk) for t in self.targets[:1] + self.targets[-1:])]
        return "|".join(parts)

    def problems(self) -> list[str]:
        """Why this cannot be sent as it is, each saying what to do."""
        found = []
        if self.unknown:
            found.append(_("The text has variables Haven cannot fill: %(names)s. Use only "
                           "{case}, {deadline} and {organization}.")
                         % {"names": ", ".join(f"{{{n}}}" for n in self.unknown)})
        for lang, n in self.missing.items():
            found.append(ngettext(
                "%(n)d case is in %(lang)s and the message has no %(lang)s version. Write "
                "one, or choose a language to send instead.",
                "%(n)d cases are in %(lang)s and the message has no %(lang)s version. Write "
                "one, or choose a language to send instead.", n)
                % {"n": n, "lang": LANGUAGE_NAMES[lang]})
        if self.no_deadline:
            found.append(ngettext(
                "%(n)d case has no open deadline, so {deadline} cannot be filled. Remove "
                "{deadline} from the text or narrow the filter.",
                "%(n)d cases have no open deadline, so {deadline} cannot be filled. Remove "
                "{deadline} from the text or narrow the filter.", self.no_deadline)
                % {"n": self.no_deadline})
        return found


def matching(member: Member, ring: OrgVault, filters: Filters) -> QuerySet[Case]:
    """The open cases of the filter that ``member`` may read, oldest first."""
    cases = (readable_cases(member).exclude(status=Status.CLOSED)
             .filter(held=False, erased=False).select_related("organization"))
    if filters.category:
        cases = cases.filter(category=filters.category)
    if filters.team:
        cases = cases.filter(team_id=filters.team)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.tag:
        cases = cases.filter(tag_hashes__tag=actions.tag_hash(ring, filters.tag),
                             tag_hashes__organization_id=member.organization_id)
    return cases.distinct().order_by("pk")


def requester_lang(vault: CaseVault | None, case: Case) -> str:
    """The language the requester wrote in (sealed with the summary), else the default."""
    if vault is None or not case.summary:
        return DEFAULT_LANG
    try:
        lang = summaries.unpack(vault.decrypt_text(bytes(case.summary)), case.category).lang
    except VaultError:
        return DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


def version_for(lang: str, versions: dict[str, str], fallback: str) -> str | None:
    """The version a requester in ``lang`` gets: their own, else the chosen fallback."""
    if versions.get(lang):
        return lang
    if fallback and versions.get(fallback):
        return fallback
    return None


def as_reply(versions: dict[str, str]) -> replies.ReadyReply:
    """The message as a ready reply, so that ``replies.fill`` fills it like any other."""
    return replies.ReadyReply(pk=0, title="", category="", version=0,
                              versions={k: v for k, v in versions.items() if v})


def preview(member: Member, ring: OrgVault, filters: Filters, versions: dict[str, str],
            fallback: str = "") -> Preview:
    """Who the message would reach, by channel and language, and what stands in the way."""
    result = Preview()
    text = " ".join(versions.values())
    result.unknown = replies.unknown_variables(text)
    wants_deadline = "{deadline}" in text
    cases = list(matching(member, ring, filters))
    opened = open_cases(ring, cases)
    for case in cases:
        if case.channel not in CHANNELS:
            result.no_channel += 1
            continue
        if case.pk not in opened:
            continue  # readable but not openable by this ring: nothing could be written
        lang = requester_lang(opened[case.pk], case)
        result.by_lang[lang] += 1
        used = version_for(lang, versions, fallback)
        if used is None:
            result.missing[lang] += 1
            continue
        if used != lang:
            result.fallback_used += 1
        if wants_deadline and case.next_due is None:
            result.no_deadline += 1
        result.by_channel[case.channel] += 1
        result.targets.append(Target(case, used))
    return result
