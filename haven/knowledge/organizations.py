"""Organizations that articles name, and their legal status in Russia.

``content/knowledge/organizations.yaml`` lists each organization an article may
name: its names in ru/uk/en, the aliases that detect it in a body, and its
status in Russia (``undesirable``, ``foreign-agent`` or ``unknown``) with the
sources that say so. The validator checks that an article lists every
organization its body names; the page, the bot, channel posts and the desk show
each one's status and what it means for a reader in Russia, in the article's
language.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from haven.core.langs import LANGS

ORGANIZATIONS_FILE = Path(__file__).resolve().parents[2] / "content" / "knowledge" / \
    "organizations.yaml"
STATUSES = ("undesirable", "foreign-agent", "unknown")
# A reader in Russia is warned about these in short texts too (Telegram, replies).
WARN_STATUSES = frozenset({"undesirable", "foreign-agent"})
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SINCE_RE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")


@dataclass(frozen=True, slots=True)
class OrgSource:
    title: str
    url: str
    consulted: str


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    names: dict[str, str]
    status: str
    whose: str
    since: str
    sources: tuple[OrgSource, ...]
    patterns: tuple[re.Pattern[str], ...]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True, slots=True)
class Registry:
    organizations: dict[str, Organization]
    texts: dict[str, dict[str, dict[str, str]]]  # status -> "label"/"meaning" -> lang -> text

    def get(self, org_id: str) -> Organization | None:
        return self.organizations.get(org_id)

    def detect(self, text: str) -> dict[str, int]:
        """Ids of the organizations ``text`` names, each with the offset of its first mention."""
        found: dict[str, int] = {}
        for org in self.organizations.values():
            starts = [m.start() for p in org.patterns for m in [p.search(text)] if m]
            if starts:
                found[org.id] = min(starts)
        return found

    def label(self, org: Organization, lang: str) -> str:
        texts = self.texts[org.status]
        key = "label_founder" if org.whose == "founder" and "label_founder" in texts else "label"
        return texts[key][lang].format(since=format_since(org.since, lang) if org.since else "")

    def meaning(self, org: Organization, lang: str) -> str:
        return self.texts[org.status]["meaning"][lang]


class RegistryError(ValueError):
    """organizations.yaml is broken: the message names the entry and what to do."""


def format_since(since: str, lang: str) -> str:
    """2023-09-01 -> 01.09.2023 (ru, uk) or 1 September 2023 (en); 2023-11 -> 11.2023 / November 2023."""
    parts = [int(p) for p in since.split("-")]
    if lang == "en":
        month = dt.date(parts[0], parts[1], 1).strftime("%B")
        return f"{parts[2]} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"
    return ".".join(f"{p:02d}" for p in reversed(parts[1:])) + f".{parts[0]}"


@functools.cache
def registry(path: Path = ORGANIZATIONS_FILE) -> Registry:
    """The organizations file, read once per process."""
    return parse_registry(yaml.safe_load(path.read_text(encoding="utf-8")), path)


def parse_registry(data: Any, path: Path) -> Registry:
    if not isinstance(data, dict) or not isinstance(data.get("organizations"), list):
        raise RegistryError(f"{path}: expected 'statuses' and a list 'organizations'")
    texts = _check_texts(data.get("statuses"), path)
    organizations: dict[str, Organization] = {}
    for entry in data["organizations"]:
        org = _check_entry(entry, path)
        if org.id in organizations:
            raise RegistryError(f"{path}: organization {org.id!r} is listed twice")
        organizations[org.id] = org
    return Registry(organizations, texts)


def _check_texts(value: Any, path: Path) -> dict[str, dict[str, dict[str, str]]]:
    if not isinstance(value, dict) or set(value) != set(STATUSES):
        raise RegistryError(f"{path}: 'statuses' must give texts for {', '.join(STATUSES)}")
    for status, texts in value.items():
        for key in ("label", "meaning"):
            langs = texts.get(key) if isinstance(texts, dict) else None
            if not isinstance(langs, dict) or not all(
                    isinstance(langs.get(lang), str) and langs[lang].strip() for lang in LANGS):
                raise RegistryError(f"{path}: status {status!r} needs {key!r} in ru, uk and en")
    return value


def _check_entry(entry: Any, path: Path) -> Organization:
    org_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(org_id, str) or not _ID_RE.match(org_id):
        raise RegistryError(f"{path}: every organization needs an 'id' such as free-buryatia")
    where = f"{path}: organization {org_id!r}"
    names = entry.get("names")
    if not isinstance(names, dict) or not all(isinstance(names.get(x), str) for x in LANGS):
        raise RegistryError(f"{where} needs 'names' in ru, uk and en")
    status = entry.get("status")
    if status not in STATUSES:
        raise RegistryError(f"{where}: status must be one of {', '.join(STATUSES)}")
    sources = _check_org_sources(entry.get("sources") or [], where)
    since, whose = str(entry.get("since") or ""), str(entry.get("whose") or "organization")
    if status != "unknown" and (not sources or not _SINCE_RE.match(since)):
        raise RegistryError(f"{where}: a status other than 'unknown' needs 'since' "
                            "(YYYY-MM-DD or YYYY-MM) and at least one source; if it cannot "
                            "be sourced, the status is 'unknown'")
    if whose not in ("organization", "founder"):
        raise RegistryError(f"{where}: 'whose' must be organization or founder")
    patterns = _patterns(entry.get("aliases") or [], re.IGNORECASE, where)
    patterns += _patterns(entry.get("case_sensitive_aliases") or [], 0, where)
    return Organization(org_id, dict(names), status, whose, since, sources, patterns)


def _check_org_sources(value: Any, where: str) -> tuple[OrgSource, ...]:
    if not isinstance(value, list):
        raise RegistryError(f"{where}: 'sources' must be a list of title, url, consulted")
    found = []
    for item in value:
        if not isinstance(item, dict) or not all(item.get(k) for k in ("title", "url", "consulted")):
            raise RegistryError(f"{where}: each source needs a title, a url and 'consulted'")
        found.append(OrgSource(str(item["title"]), str(item["url"]), str(item["consulted"])))
    return tuple(found)


def _patterns(aliases: Iterable[Any], flags: int, where: str) -> tuple[re.Pattern[str], ...]:
    """Whole-word patterns; a trailing * on a word lets it continue (Russian endings)."""
    patterns = []
    for alias in aliases:
        if not isinstance(alias, str) or not alias.strip("* "):
            raise RegistryError(f"{where}: aliases must be non-empty text")
        words = []
        for word in alias.split():
            stem = re.escape(word.rstrip("*"))
            words.append(stem + r"\w*" if word.endswith("*") else stem)
        patterns.append(re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", flags))
    return tuple(patterns)


@dataclass(frozen=True, slots=True)
class OrgNote:
    """What a page, a message or the desk says about one organization an article names."""

    id: str
    name: str
    status: str
    label: str
    meaning: str
    sources: tuple[OrgSource, ...]

    @property
    def warn(self) -> bool:
        return self.status in WARN_STATUSES

    @property
    def undesirable(self) -> bool:
        return self.status == "undesirable"

    def warning_line(self) -> str:
        """One line for a short text: name, status, what it means."""
        return f"⚠ {self.name}: {self.label}. {self.meaning}"


_SEVERITY = {status: rank for rank, status in enumerate(STATUSES)}


def notes_for(listed: Iterable[str], body: str, lang: str, orgs: Registry | None = None
              ) -> list[OrgNote]:
    """Notes on the organizations an article lists or its body names, gravest first.

    The body is searched too, so an organization's own article (written on the
    desk, with no list) still shows the status of every organization it names.
    """
    orgs = orgs or registry()
    named = sorted(orgs.detect(body).items(), key=lambda item: item[1])
    ids = dict.fromkeys([*listed, *(org_id for org_id, _ in named)])
    found = [org for org in (orgs.get(org_id) for org_id in ids) if org is not None]
    found.sort(key=lambda org: _SEVERITY[org.status])
    return [OrgNote(org.id, org.name(lang), org.status, orgs.label(org, lang),
                    orgs.meaning(org, lang), org.sources) for org in found]
