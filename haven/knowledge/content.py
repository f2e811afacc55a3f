"""Knowledge-base articles: loading, validating and rendering.

Articles live in ``content/knowledge/<lang>/<slug>.md``: YAML front matter
between ``---`` lines, then a short Markdown body. A broken file is reported
with its path, line and problem, and every other file still loads, so one bad
edit never takes the whole knowledge base down.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown
import nh3
import yaml

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "content" / "knowledge"
SYNONYMS_FILE = DEFAULT_ROOT / "synonyms.yaml"

LANGS: tuple[str, ...] = ("ru", "uk", "en")
TOPICS: frozenset[str] = frozenset(
    {
        "acs", "summons", "military-service", "criminal-law", "family", "leaving-russia",
        "refugees", "asylum", "digital-safety", "money",
    }
)
# Shown in the body of an article that relies on a fact not yet confirmed.
CONFIRMATION_PHRASES: dict[str, str] = {
    "ru": "требует подтверждения юристом",
    "uk": "потребує підтвердження юристом",
    "en": "to be confirmed with a lawyer",
}
# Every article ends with this note.
NOT_ADVICE_PHRASES: dict[str, str] = {
    "ru": "это общая информация, а не юридическая консультация",
    "uk": "це загальна інформація, а не юридична консультація",
    "en": "this is general information, not legal advice",
}
NOT_REVIEWED = "not yet reviewed"

_KEYS = ("title", "lang", "topic", "tags", "related", "sources", "reviewed_on",
         "reviewed_by", "unverified")
# Optional keys of the post-fact-check format (FORMAT.md); kb-review writes the real checks.
_OPTIONAL_KEYS = ("organizations",)
_CONSULTED_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RELATED_RE = re.compile(r"^(ru|uk|en)/([a-z0-9]+(?:-[a-z0-9]+)*)$")
_MAX_FILE_BYTES = 64 * 1024

_ALLOWED_TAGS = {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "blockquote",
                 "code", "pre", "br"}
_LINK_REL = "noopener noreferrer nofollow"


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    lang: str
    title: str
    topic: str
    tags: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed_on: dt.date | None
    reviewed_by: str
    unverified: bool
    body_markdown: str
    path: Path

    @property
    def key(self) -> str:
        """The "lang/slug" form used in ``related`` links."""
        return f"{self.lang}/{self.slug}"


@dataclass(frozen=True, slots=True)
class ContentError:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)


class ArticleError(ValueError):
    """One article file is broken; ``line`` is the file line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_articles(root: Path = DEFAULT_ROOT) -> LoadResult:
    """Load every ``<root>/<lang>/*.md``; report broken files, keep the rest."""
    result = LoadResult()
    if not root.is_dir():
        result.errors.append(ContentError(root, None, "knowledge folder not found"))
        return result
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name not in LANGS:
            message = f"unknown language folder {folder.name!r}; use one of {', '.join(LANGS)}"
            result.errors.append(ContentError(folder, None, message))
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                result.articles.append(parse_article(path))
            except ArticleError as problem:
                result.errors.append(ContentError(path, problem.line, problem.message))
    result.errors.extend(check_links(result.articles))
    return result


def parse_article(path: Path) -> Article:
    """Parse and validate one article file; raise ``ArticleError`` at the first fault."""
    text = _read(path)
    meta, body, lines = _split_front_matter(text)
    line_of = _key_lines(lines)
    slug = path.stem
    if not _SLUG_RE.match(slug):
        raise ArticleError(f"file name {slug!r} is not a slug: use lower-case letters, digits, -")
    for key in _KEYS:
        if key not in meta:
            raise ArticleError(f"front matter has no {key!r}", 1)
    unknown = sorted(set(meta) - set(_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise ArticleError(f"unknown front-matter key {unknown[0]!r}", line_of.get(unknown[0]))
    lang = _check_lang(meta["lang"], path.parent.name, line_of)
    organizations = meta.get("organizations", [])
    if not isinstance(organizations, list) or not all(isinstance(o, str) for o in organizations):
        raise ArticleError("'organizations' must be a list of ids", line_of.get("organizations"))
    unverified = meta["unverified"]
    if not isinstance(unverified, bool):
        raise ArticleError("'unverified' must be true or false", line_of.get("unverified"))
    if not body.strip():
        raise ArticleError("the article has no body", len(lines) + 2)
    if unverified and CONFIRMATION_PHRASES[lang] not in plain_text(body):
        phrase = CONFIRMATION_PHRASES[lang]
        raise ArticleError(f"unverified article must say {phrase!r} in its body",
                       line_of.get("unverified"))
    return Article(
        slug=slug, lang=lang,
        title=_text(meta["title"], "title", line_of),
        topic=_check_topic(meta["topic"], line_of),
        tags=_string_list(meta["tags"], "tags", line_of),
        related=_check_related(meta["related"], lang, line_of),
        sources=_check_sources(meta["sources"], line_of),
        reviewed_on=_check_date(meta["reviewed_on"], line_of),
        reviewed_by=_text(meta["reviewed_by"], "reviewed_by", line_of),
        unverified=unverified, body_markdown=body.strip() + "\n", path=path,
    )


def check_links(articles: Iterable[Article]) -> list[ContentError]:
    """Every ``related`` entry must name an existing article that links back."""
    by_key = {article.key: article for article in articles}
    errors: list[ContentError] = []
    for article in by_key.values():
        for key in article.related:
            other = by_key.get(key)
            if other is None:
                message = f"related article {key!r} does not exist"
            elif article.key not in other.related:
                message = f"related article {key!r} does not link back to {article.key!r}"
            else:
                continue
            errors.append(ContentError(article.path, None, message))
    return errors


def load_synonyms(path: Path = SYNONYMS_FILE) -> list[list[str]]:
    """Groups of equivalent terms from ``synonyms.yaml`` (a mapping name -> list)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of group name to a list of terms")
    groups: list[list[str]] = []
    for name, group_terms in data.items():
        if not isinstance(group_terms, list) or not all(isinstance(t, str) for t in group_terms):
            raise ValueError(f"{path}: group {name!r} must be a list of strings")
        groups.append(list(group_terms))
    return groups


def plain_text(text: str) -> str:
    """Lower-cased text with runs of whitespace (line breaks too) made one space."""
    return " ".join(text.lower().split())


def render_markdown(text: str) -> str:
    """Markdown to safe HTML: raw HTML is shown as text, then nh3 keeps a small allowlist."""
    md = markdown.Markdown()
    # Raw HTML in content must never come out as HTML: treat it as text.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    html = md.convert(text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=_LINK_REL,
    )


# -- helpers -------------------------------------------------------------------------------


def _read(path: Path) -> str:
    if path.stat().st_size > _MAX_FILE_BYTES:
        raise ArticleError(f"file is larger than {_MAX_FILE_BYTES // 1024} KB")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"file is not UTF-8 text ({exc.reason})") from None


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Return (front matter, body, front-matter lines). Lines count from file line 2."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError("file must start with a '---' line opening the front matter", 1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ArticleError("front matter is not closed by a '---' line", 1) from None
    front = lines[1:end]
    try:
        meta = yaml.safe_load("\n".join(front))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ArticleError(f"front matter is not valid YAML: {problem}", line) from None
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping of keys to values", 2)
    return meta, "\n".join(lines[end + 1:]), front


def _key_lines(front: list[str]) -> dict[str, int]:
    """File line number of each top-level front-matter key."""
    found: dict[str, int] = {}
    for index, line in enumerate(front):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if match:
            found.setdefault(match.group(1), index + 2)
    return found


def _text(value: Any, key: str, line_of: dict[str, int]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArticleError(f"{key!r} must be non-empty text", line_of.get(key))
    return value.strip()


def _check_lang(value: Any, folder: str, line_of: dict[str, int]) -> str:
    if value not in LANGS:
        raise ArticleError(f"unknown lang {value!r}; use one of {', '.join(LANGS)}",
                       line_of.get("lang"))
    if value != folder:
        raise ArticleError(f"lang {value!r} does not match the folder {folder!r}",
                       line_of.get("lang"))
    return str(value)


def _check_topic(value: Any, line_of: dict[str, int]) -> str:
    if value not in TOPICS:
        raise ArticleError(f"unknown topic {value!r}; use one of {', '.join(sorted(TOPICS))}",
                       line_of.get("topic"))
    return str(value)


def _string_list(value: Any, key: str, line_of: dict[str, int]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(_is_word(v) for v in value):
        raise ArticleError(f"{key!r} must be a list of words", line_of.get(key))
    return tuple(str(v).strip() for v in value if str(v).strip())


def _is_word(value: Any) -> bool:
    # YAML reads a tag such as 352.1 as a number; it is still a word people type.
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _check_related(value: Any, lang: str, line_of: dict[str, int]) -> tuple[str, ...]:
    related = _string_list(value, "related", line_of)
    for key in related:
        match = _RELATED_RE.match(key)
        if not match:
            raise ArticleError(f"related entry {key!r} must look like 'en/some-slug'",
                           line_of.get("related"))
        if match.group(1) == lang:
            raise ArticleError(f"related entry {key!r} must be in another language",
                           line_of.get("related"))
    return related


def _check_sources(value: Any, line_of: dict[str, int]) -> tuple[Source, ...]:
    line = line_of.get("sources")
    if not isinstance(value, list) or not value:
        raise ArticleError("'sources' must list at least one {title, url}", line)
    sources = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"title", "url", "consulted"}:
            raise ArticleError("each source must be a mapping with 'title' and 'url'", line)
        if "consulted" in item and not _is_consulted(item["consulted"]):
            raise ArticleError("a source's 'consulted' must be a date or YYYY-MM", line)
        title, url = item.get("title"), item.get("url")
        if not isinstance(title, str) or not title.strip():
            raise ArticleError("a source has no title", line)
        if url is not None and not (isinstance(url, str) and re.match(r"^https?://\S+$", url)):
            raise ArticleError(f"source url {url!r} must start with http:// or https://", line)
        sources.append(Source(title.strip(), url))
    return tuple(sources)


def _is_consulted(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    return isinstance(value, str) and bool(_CONSULTED_RE.match(value.strip()))


def _check_date(value: Any, line_of: dict[str, int]) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ArticleError(f"reviewed_on {value!r} must be a date like 2025-01-31, or null",
                   line_of.get("reviewed_on"))
