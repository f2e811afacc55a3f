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
from urllib.parse import parse_qsl, urlsplit

import markdown
import nh3
import yaml

from haven.core.errors import Refusal
from haven.core.langs import LANGS

from .organizations import ORGANIZATIONS_FILE, Registry, RegistryError, registry

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "content" / "knowledge"
SYNONYMS_FILE = DEFAULT_ROOT / "synonyms.yaml"

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

_KEYS = ("title", "lang", "topic", "tags", "related", "sources", "organizations", "reviewed_on",
         "reviewed_by", "unverified")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RELATED_RE = re.compile(rf"^({'|'.join(LANGS)})/([a-z0-9]+(?:-[a-z0-9]+)*)$")
_MAX_FILE_BYTES = 64 * 1024
# A citation marker: [1] numbers the article's sources from 1 (never a link's [text](url)).
MARKER_RE = re.compile(r"\[(\d{1,3})\](?!\()")
# The bare language roots of a site, which are home pages, not the page that supports a claim.
_LANGUAGE_ROOTS = frozenset({
    "en", "eng", "english", "ru", "rus", "russian", "uk", "ukr", "ua", "ukrainian", "de", "deu",
    "ger", "german", "fr", "es", "it", "pl", "lt", "lv", "et", "ee", "ka", "be", "kk", "hy",
    "index.html", "index.php", "index.htm", "home", "main"})
_LANGUAGE_KEYS = frozenset({"lang", "language", "hl", "locale", "l", "utm_source", "utm_medium",
                            "utm_campaign", "ref"})

_ALLOWED_TAGS = {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "blockquote",
                 "code", "pre", "br"}
_LINK_REL = "noopener noreferrer nofollow"


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str | None
    consulted: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    lang: str
    title: str
    topic: str
    tags: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    organizations: tuple[str, ...]
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


class ArticleError(Refusal, ValueError):
    """One article file is broken; ``line`` is the file line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_articles(root: Path = DEFAULT_ROOT, today: dt.date | None = None) -> LoadResult:
    """Load every ``<root>/<lang>/*.md``; report broken files, keep the rest.

    Organizations are checked against ``<root>/organizations.yaml`` when it exists,
    else against the shipped one.
    """
    result = LoadResult()
    if not root.is_dir():
        result.errors.append(ContentError(root, None, "knowledge folder not found"))
        return result
    own = root / ORGANIZATIONS_FILE.name
    try:
        orgs = registry(own if own.is_file() else ORGANIZATIONS_FILE)
    except (RegistryError, OSError, yaml.YAMLError) as problem:
        result.errors.append(ContentError(own, None, str(problem)))
        return result
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name not in LANGS:
            message = f"unknown language folder {folder.name!r}; use one of {', '.join(LANGS)}"
            result.errors.append(ContentError(folder, None, message))
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                result.articles.append(parse_article(path, orgs, today))
            except ArticleError as problem:
                result.errors.append(ContentError(path, problem.line, problem.message))
    result.errors.extend(check_links(result.articles))
    return result


def parse_article(path: Path, orgs: Registry | None = None, today: dt.date | None = None
                  ) -> Article:
    """Parse and validate one article file; raise ``ArticleError`` at the first fault."""
    text = _read(path)
    meta, body, lines = _split_front_matter(text)
    line_of = _key_lines(lines)
    slug = path.stem
    if not _SLUG_RE.match(slug):
        raise ArticleError(f"file name {slug!r} is not a slug: use lower-case letters, digits, -")
    _check_keys(meta, line_of)
    lang = _check_lang(meta["lang"], path.parent.name, line_of)
    unverified = _check_unverified(meta["unverified"], body, lang, lines, line_of)
    orgs = orgs or registry()
    sources = _check_sources(meta["sources"], lines, line_of, today or dt.date.today())
    body_line = len(lines) + 3  # the file line of the body's first line
    check_citations(body, len(sources), body_line)
    _check_uncited(body, sources, lines, line_of)
    named = _check_organizations(meta["organizations"], orgs, line_of)
    _check_named(body, named, orgs, body_line)
    return Article(
        slug=slug, lang=lang,
        title=_text(meta["title"], "title", line_of),
        topic=_check_topic(meta["topic"], line_of),
        tags=_string_list(meta["tags"], "tags", line_of),
        related=_check_related(meta["related"], lang, line_of),
        sources=sources, organizations=named,
        reviewed_on=_check_date(meta["reviewed_on"], line_of),
        reviewed_by=_text(meta["reviewed_by"], "reviewed_by", line_of),
        unverified=unverified, body_markdown=body.strip() + "\n", path=path,
    )


def check_links(articles: Iterable[Article]) -> list[ContentError]:
    """Every ``related`` entry must name an existing article that links back and, being
    its translation, cites the same addresses and lists the same organizations."""
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
                message = _translation_problem(article, other)
            if message:
                errors.append(ContentError(article.path, None, message))
    return errors


def _translation_problem(article: Article, other: Article) -> str:
    if [s.url for s in article.sources] != [s.url for s in other.sources]:
        return (f"translation {other.key!r} cites other sources: list the same URLs in the "
                "same order in every language (titles may be translated)")
    if set(article.organizations) != set(other.organizations):
        return (f"translation {other.key!r} lists other organizations: every language "
                "lists the same ids")
    return ""


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


def strip_markers(text: str) -> str:
    """``text`` without citation markers: "in the register [1][2]." -> "in the register."."""
    return _MARKER_RUN_RE.sub("", text)


def render_article(text: str, source_count: int, lang: str) -> str:
    """An article body as safe HTML with its citations linked and unconfirmed claims marked.

    Markers [n] (1..source_count) become superscript links to ``#source-n`` in the
    numbered source list; the phrase "to be confirmed with a lawyer" (in ``lang``) is
    wrapped in ``<mark class="kb-confirm">``. Both are added after sanitising, only
    to text outside links and code, and carry nothing from the content but digits
    and the fixed phrase.
    """
    phrase = CONFIRMATION_PHRASES.get(lang)
    confirm = re.compile(r"\s+".join(map(re.escape, phrase.split())), re.IGNORECASE) \
        if phrase else None
    parts, skip = [], 0
    for part in _TAG_SPLIT_RE.split(render_markdown(text)):
        tag = _TAG_NAME_RE.match(part)
        if tag:
            name = tag.group(2).lower()
            if name in ("a", "code", "pre"):
                skip += -1 if tag.group(1) else 1
            parts.append(part)
            continue
        if skip <= 0:
            part = _SPACED_MARKER_RE.sub(lambda m: _citation_link(m, source_count), part)
            if confirm is not None:
                part = confirm.sub(lambda m: f'<mark class="kb-confirm">{m.group(0)}</mark>', part)
        parts.append(part)
    return "".join(parts)


def _citation_link(match: re.Match[str], source_count: int) -> str:
    number = int(match.group(1))
    if not 1 <= number <= source_count:
        return match.group(0)  # not a citation: left as written
    return f'<sup class="kb-cite"><a href="#source-{number}">[{number}]</a></sup>'


# A marker with the spaces before it: the superscript sits against the word it cites.
_SPACED_MARKER_RE = re.compile(r"[ \t]*\[(\d{1,3})\](?!\()")
_MARKER_RUN_RE = re.compile(r"[ \t]*(?:\[\d{1,3}\](?!\())+")
_TAG_SPLIT_RE = re.compile(r"(<[^>]*>)")
_TAG_NAME_RE = re.compile(r"<(/?)([a-zA-Z0-9]+)")


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


def _check_keys(meta: dict[str, Any], line_of: dict[str, int]) -> None:
    for key in _KEYS:
        if key not in meta:
            hint = " (a list of ids from organizations.yaml, or [] if it names none)" \
                if key == "organizations" else ""
            raise ArticleError(f"front matter has no {key!r}{hint}", 1)
    unknown = sorted(set(meta) - set(_KEYS))
    if unknown:
        raise ArticleError(f"unknown front-matter key {unknown[0]!r}", line_of.get(unknown[0]))


def _check_unverified(value: Any, body: str, lang: str, lines: list[str],
                      line_of: dict[str, int]) -> bool:
    if not isinstance(value, bool):
        raise ArticleError("'unverified' must be true or false", line_of.get("unverified"))
    if not body.strip():
        raise ArticleError("the article has no body", len(lines) + 2)
    if value and CONFIRMATION_PHRASES[lang] not in plain_text(body):
        phrase = CONFIRMATION_PHRASES[lang]
        raise ArticleError(f"unverified article must say {phrase!r} in its body",
                           line_of.get("unverified"))
    return value


def _check_sources(value: Any, lines: list[str], line_of: dict[str, int],
                   today: dt.date) -> tuple[Source, ...]:
    line = line_of.get("sources")
    if not isinstance(value, list) or not value:
        raise ArticleError("'sources' must list at least one {title, url, consulted}", line)
    item_lines = _item_lines(lines, "sources")
    sources = []
    for number, item in enumerate(value, start=1):
        at = item_lines[number - 1] if number <= len(item_lines) else line
        if not isinstance(item, dict) or set(item) - {"title", "url", "consulted"}:
            raise ArticleError(f"source {number} must be a mapping with 'title', 'url' and "
                               "'consulted'", at)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ArticleError(f"source {number} has no title", at)
        url = _check_url(item.get("url"), number, at)
        consulted = _check_consulted(item.get("consulted"), number, at, today)
        sources.append(Source(title.strip(), url, consulted))
    return tuple(sources)


def _check_url(url: Any, number: int, line: int | None) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ArticleError(f"source {number} has no url: give the address of the page that "
                           "supports the claim, or drop the source and mark the claim "
                           f"'({CONFIRMATION_PHRASES['en']})'", line)
    problem = url_problem(url.strip())
    if problem:
        raise ArticleError(f"source {number} url {url!r} {problem}", line)
    return url.strip()


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a deep link to a page, or None if it is one."""
    if "…" in url or "..." in url:
        return ("is cut short ('…' or '...'): find the full address of the page "
                "(the fact-check abbreviates many)")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        return "must be a web address starting with http:// or https://"
    parts = urlsplit(url)
    path = parts.path.strip("/")
    # A page named only by its query (WordPress ?p=421082) is a page; ?lang=en is not.
    named = [key for key, _value in parse_qsl(parts.query) if key.lower() not in _LANGUAGE_KEYS]
    if (not path or path.lower() in _LANGUAGE_ROOTS) and not named:
        return ("is a site's home page, not the page that supports the claim: "
                "link the article, law text or ruling itself")
    return None


def _check_consulted(value: Any, number: int, line: int | None, today: dt.date) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value or "").strip()
    how = ("needs 'consulted': when the source was checked, as YYYY-MM-DD or YYYY-MM "
           "(2026-03 for a source the fact-check consulted)")
    match = re.match(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$", text)
    if not match:
        raise ArticleError(f"source {number} {how}", line)
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        when = dt.date(year, month, day)
    except ValueError:
        raise ArticleError(f"source {number}: 'consulted' {text!r} is not a real date", line) \
            from None
    if when > today:
        raise ArticleError(f"source {number}: 'consulted' {text!r} is in the future", line)
    return text


def check_citations(body: str, count: int, first_line: int = 1) -> None:
    """Markers [n] point into the sources list (1..count) and never sit in a heading."""
    for offset, line in enumerate(body.splitlines()):
        for match in MARKER_RE.finditer(line):
            number = int(match.group(1))
            if line.lstrip().startswith("#"):
                raise ArticleError(f"citation [{number}] in a heading: put it after the "
                                   "claim in the text below", first_line + offset)
            if not 1 <= number <= count:
                raise ArticleError(f"citation [{number}] points past the sources list "
                                   f"({count} listed): number the sources from 1 and cite only "
                                   "those", first_line + offset)


def _check_uncited(body: str, sources: tuple[Source, ...], lines: list[str],
                   line_of: dict[str, int]) -> None:
    cited = {int(m.group(1)) for m in MARKER_RE.finditer(body)}
    item_lines = _item_lines(lines, "sources")
    for number, source in enumerate(sources, start=1):
        if number not in cited:
            at = item_lines[number - 1] if number <= len(item_lines) else line_of.get("sources")
            raise ArticleError(f"source {number} ({source.title!r}) is never cited: add "
                               f"[{number}] after the claim it supports, or remove it", at)


def _check_organizations(value: Any, orgs: Registry, line_of: dict[str, int]
                         ) -> tuple[str, ...]:
    line = line_of.get("organizations")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArticleError("'organizations' must be a list of ids from organizations.yaml "
                           "([] if the article names none)", line)
    for org_id in value:
        if orgs.get(org_id) is None:
            known = ", ".join(sorted(orgs.organizations))
            raise ArticleError(f"unknown organization {org_id!r}: use one of {known}, or add "
                               "it to organizations.yaml first", line)
    return tuple(dict.fromkeys(value))


def _check_named(body: str, listed: tuple[str, ...], orgs: Registry, first_line: int) -> None:
    for org_id, offset in sorted(orgs.detect(body).items(), key=lambda item: item[1]):
        if org_id not in listed:
            name = orgs.organizations[org_id].name("en")
            raise ArticleError(f"the body names {name} but 'organizations' does not list it: "
                               f"add {org_id!r} to organizations",
                               first_line + body.count("\n", 0, offset))


def _item_lines(front: list[str], key: str) -> list[int]:
    """File lines of the items of the block list under top-level ``key`` ("- ..." lines)."""
    found: list[int] = []
    inside = False
    for index, line in enumerate(front):
        if re.match(r"^[A-Za-z_][\w-]*\s*:", line):
            inside = line.split(":", 1)[0].strip() == key
        elif inside and re.match(r"^\s*-\s", line):
            found.append(index + 2)
    return found


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
