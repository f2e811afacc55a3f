"""Ready replies: versions per language, variables, suggestion and search.

A ready reply's title and versions are sealed with the organization's key like the
rest of its content, so everything here works on decrypted text inside a member's
request; writes go through ``cases/actions.py``. Search is a filter over the
decrypted replies: an organization keeps tens or a few hundred of them, not
thousands, so no blind index is needed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC

from django.utils import formats, translation

from haven.core.langs import DEFAULT_LANG, LANGS
from haven.vault import OrgVault

from .models import Case, SavedReply

# The variables a ready reply may hold, filled in when it is used on a case.
VARIABLES: tuple[str, ...] = ("case", "deadline", "organization")
# ``{word}``: a variable, known or not. Other braces (a lone "{", JSON) are left as text.
PLACEHOLDER = re.compile(r"\{(\w+)\}")
MARK = "haven-ready-reply"  # the key that tells a versioned body from a plain-text one


@dataclass
class ReadyReply:
    """One ready reply, decrypted for the member's request."""

    pk: int
    title: str
    category: str
    version: int
    versions: dict[str, str] = field(default_factory=dict)  # language -> text, never empty

    @property
    def langs(self) -> list[str]:
        return [lang for lang in LANGS if self.versions.get(lang)]

    def matches(self, query: str) -> bool:
        """Every word of the query is in the title or in one of the versions."""
        haystack = " ".join([self.title, *self.versions.values()]).casefold()
        return all(word in haystack for word in query.casefold().split())


def unknown_variables(text: str) -> list[str]:
    """The ``{names}`` in a text that are not variables Haven can fill, in order, once each."""
    found: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in VARIABLES and name not in found:
            found.append(name)
    return found


def pack(versions: dict[str, str]) -> str:
    """The plain text sealed into ``SavedReply.body``."""
    return json.dumps({MARK: 1, "versions": {lang: versions[lang] for lang in LANGS
                                             if versions.get(lang)}}, ensure_ascii=False)


def unpack(plain: str) -> dict[str, str]:
    """The versions of a sealed body; a plain-text body (from before versions) is the default language's."""
    try:
        data = json.loads(plain)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get(MARK) == 1 and isinstance(data.get("versions"), dict):
        return {lang: str(text) for lang, text in data["versions"].items() if lang in LANGS and text}
    return {DEFAULT_LANG: plain}


def decrypt(vault: OrgVault, row: SavedReply) -> ReadyReply:
    return ReadyReply(pk=row.pk, title=vault.decrypt_text(bytes(row.title)), category=row.category,
                      version=row.version, versions=unpack(vault.decrypt_text(bytes(row.body))))


def of_organization(vault: OrgVault, organization_id: int) -> list[ReadyReply]:
    rows = SavedReply.objects.filter(organization_id=organization_id).order_by("pk")
    return sorted((decrypt(vault, row) for row in rows), key=lambda r: r.title.casefold())


def get(vault: OrgVault, organization_id: int, pk: int | None) -> ReadyReply | None:
    row = SavedReply.objects.filter(pk=pk, organization_id=organization_id).first() if pk else None
    return decrypt(vault, row) if row else None


def suggested_first(replies: list[ReadyReply], category: str) -> tuple[list[ReadyReply],
                                                                       list[ReadyReply]]:
    """Replies for the case's category, then the others (those for any category among them)."""
    return ([r for r in replies if r.category == category],
            [r for r in replies if r.category != category])


def pick(reply: ReadyReply, lang: str) -> tuple[str, str]:
    """The version in the requester's language, else the default language's, else the first."""
    for candidate in (lang, DEFAULT_LANG, *LANGS):
        if reply.versions.get(candidate):
            return candidate, reply.versions[candidate]
    return "", ""  # not reached: a saved reply has at least one version


@dataclass
class Filled:
    text: str
    lang: str  # the language of the version used
    unfilled: list[str]  # variables the case cannot fill (no deadline yet), left in the text


def fill(reply: ReadyReply, case: Case, lang: str) -> Filled:
    """The reply's version for ``lang`` with the case's number, next deadline and organization."""
    used, text = pick(reply, lang)
    values = {"case": str(case.number), "organization": case.organization.name}
    if case.next_due is not None:
        with translation.override(used):
            values["deadline"] = formats.date_format(case.next_due.astimezone(UTC).date(), "j E Y")
    unfilled: list[str] = []

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in unfilled:
            unfilled.append(name)
        return match.group(0)

    return Filled(PLACEHOLDER.sub(one, text), used, unfilled)
