"""Knowledge-base content: the shipped articles, the loader's errors, safe rendering."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import markdown
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from haven.knowledge.content import (
    CONFIRMATION_PHRASES,
    DEFAULT_ROOT,
    NOT_ADVICE_PHRASES,
    NOT_REVIEWED,
    SYNONYMS_FILE,
    TOPICS,
    Article,
    load_articles,
    load_synonyms,
    plain_text,
    render_markdown,
)

# Nothing in Haven may serve sabotage or violence (see who-uses-it.md, "Out of scope").
DENYLIST = (
    "sabotage", "saboteur", "arson", "explosive", "bomb", "derail", "railway",
    "диверс", "саботаж", "поджог", "взрыв", "подрыв", "рельс", "железная дорог",
    "підпал", "вибух", "підрив", "залізниц", "диверсі",
)

REQUIRED_TOPICS = {"acs", "summons", "military-service", "criminal-law", "family",
                   "refugees", "asylum", "digital-safety", "money"}
UKRAINIAN_REQUIRED = {"leaving-russia-ukrainians", "ukrainian-documents", "asylum-germany",
                      "telegram-bots-not-encrypted", "telegram-hide-number",
                      "border-phone-checks", "check-fundraiser"}


@pytest.fixture(scope="module")
def shipped() -> list[Article]:
    result = load_articles(DEFAULT_ROOT)
    assert [str(e) for e in result.errors] == []
    return result.articles


def _slugs(articles: list[Article], lang: str) -> set[str]:
    return {a.slug for a in articles if a.lang == lang}


# -- the shipped articles ----------------------------------------------------------------


def test_it_ships_the_same_topics_in_russian_and_english(shipped: list[Article]) -> None:
    assert len(_slugs(shipped, "ru")) >= 25
    assert _slugs(shipped, "ru") == _slugs(shipped, "en")


def test_it_ships_refugee_and_digital_safety_articles_in_ukrainian(
    shipped: list[Article],
) -> None:
    assert UKRAINIAN_REQUIRED <= _slugs(shipped, "uk")
    topics = {a.topic for a in shipped if a.lang == "uk"}
    assert {"refugees", "asylum", "digital-safety"} <= topics


def test_it_covers_every_required_topic(shipped: list[Article]) -> None:
    assert {a.topic for a in shipped} >= REQUIRED_TOPICS
    assert {a.topic for a in shipped} <= TOPICS


def test_it_covers_each_criminal_article(shipped: list[Article]) -> None:
    text = " ".join(a.body_markdown for a in shipped if a.topic == "criminal-law")
    for number in ("328", "332", "337", "338", "339", "352.1", "78.1"):
        assert number in text


def test_every_related_link_resolves_and_links_back(shipped: list[Article]) -> None:
    by_key = {a.key: a for a in shipped}
    for article in shipped:
        for key in article.related:
            assert key in by_key, f"{article.key} links to missing {key}"
            assert article.key in by_key[key].related, f"{key} does not link back"
            assert by_key[key].slug == article.slug


def test_every_translation_links_to_the_others(shipped: list[Article]) -> None:
    langs_by_slug: dict[str, set[str]] = {}
    for article in shipped:
        langs_by_slug.setdefault(article.slug, set()).add(article.lang)
    for article in shipped:
        expected = {f"{lang}/{article.slug}" for lang in langs_by_slug[article.slug]}
        assert set(article.related) == expected - {article.key}


def test_every_article_has_sources(shipped: list[Article]) -> None:
    for article in shipped:
        assert article.sources, article.key
        urls = [s.url for s in article.sources if s.url]
        assert urls, f"{article.key} cites no address"
        assert all(url.startswith("https://") for url in urls), article.key


def test_every_article_ends_with_a_not_legal_advice_line(shipped: list[Article]) -> None:
    for article in shipped:
        last_line = article.body_markdown.strip().splitlines()[-1]
        assert NOT_ADVICE_PHRASES[article.lang] in plain_text(last_line), article.key


def test_unverified_articles_say_to_confirm_with_a_lawyer(shipped: list[Article]) -> None:
    # FORMAT.md: every unsourced claim carries the phrase; only an article whose main
    # point rests on one is also marked unverified, so the phrase alone does not imply it.
    for article in shipped:
        if article.unverified:
            assert CONFIRMATION_PHRASES[article.lang] in plain_text(article.body_markdown), article.key


def test_the_unverified_age_limit_is_flagged(shipped: list[Article]) -> None:
    # facts.md marks "Age limit 65" (unverified): any article stating it must say so.
    for article in shipped:
        if re.search(r"\b65\b", article.body_markdown):
            assert article.unverified, article.key


def test_no_shipped_article_claims_a_review(shipped: list[Article]) -> None:
    for article in shipped:
        assert article.reviewed_by == NOT_REVIEWED
        assert article.reviewed_on is None


def test_article_bodies_are_short(shipped: list[Article]) -> None:
    for article in shipped:
        count = len(re.findall(r"\w+", article.body_markdown))
        assert 150 <= count <= 400, f"{article.key}: {count} words"


def test_no_article_mentions_sabotage(shipped: list[Article]) -> None:
    for article in shipped:
        text = " ".join([article.title, *article.tags, article.body_markdown]).lower()
        found = [word for word in DENYLIST if word in text]
        assert not found, f"{article.key} mentions {found}"


def test_synonyms_mention_no_sabotage() -> None:
    text = SYNONYMS_FILE.read_text(encoding="utf-8").lower()
    assert not [word for word in DENYLIST if word in text]


def test_synonym_groups_are_lists_of_distinct_terms() -> None:
    groups = load_synonyms()
    assert len(groups) >= 20
    for group in groups:
        assert len(group) >= 2
        counts = Counter(term.lower() for term in group)
        assert max(counts.values()) == 1, group


def test_shipped_articles_use_only_markup_the_sanitiser_keeps(shipped: list[Article]) -> None:
    # Checked before sanitising: a table or image would otherwise vanish silently.
    allowed = {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code",
               "pre", "br"}
    for article in shipped:
        tags = set(re.findall(r"</?([a-z0-9]+)", markdown.markdown(article.body_markdown)))
        assert tags <= allowed, (article.key, tags - allowed)


# -- the loader's errors -----------------------------------------------------------------

GOOD: dict[str, object] = {
    "title": "A title", "lang": "en", "topic": "acs", "tags": ["ACS"], "related": [],
    "sources": [{"title": "Law", "url": "https://www.consultant.ru/"}],
    "reviewed_on": None, "reviewed_by": NOT_REVIEWED, "unverified": False,
}
BODY = "Some words about the topic.\n\n*This is general information, not legal advice.*\n"


def _write(
    root: Path, folder: str, slug: str, meta: dict[str, object] | str, body: str = BODY
) -> Path:
    path = root / folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = meta if isinstance(meta, str) else yaml.safe_dump(meta, allow_unicode=True)
    path.write_text(f"---\n{front}---\n\n{body}", encoding="utf-8")
    return path


def _only_error(root: Path, path: Path) -> str:
    result = load_articles(root)
    assert [a.slug for a in result.articles] == ["good"], "the good file must still load"
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    assert result.errors[0].path == path
    return str(result.errors[0])


def test_it_loads_a_good_article(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", GOOD)
    result = load_articles(tmp_path)
    assert result.errors == []
    (article,) = result.articles
    assert (article.slug, article.lang, article.title) == ("good", "en", "A title")
    assert article.sources[0].url == "https://www.consultant.ru/"


def test_it_reports_bad_yaml_with_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", GOOD)
    bad = _write(tmp_path, "en", "bad", "title: A\nlang: en\ntags: [unclosed\n")
    message = _only_error(tmp_path, bad)
    assert "bad.md:" in message
    assert "not valid YAML" in message
    assert re.search(r"bad\.md:[2-5]:", message)


@pytest.mark.parametrize(
    ("change", "folder", "expected"),
    [
        ({"title": None}, "en", "'title'"),
        ({"lang": "de"}, "en", "unknown lang 'de'"),
        ({"lang": "ru"}, "en", "does not match the folder 'en'"),
        ({"reviewed_on": "31/01/2025"}, "en", "reviewed_on"),
        ({"unverified": True}, "en", "to be confirmed with a lawyer"),
        ({"topic": "sabotage"}, "en", "unknown topic"),
        ({"sources": []}, "en", "sources"),
        ({"sources": [{"title": "x", "url": "javascript:alert(1)"}]}, "en", "http"),
        ({"related": ["en/self"]}, "en", "another language"),
        ({"reviewd_by": "typo"}, "en", "unknown front-matter key 'reviewd_by'"),
        ({"organizations": "far"}, "en", "'organizations'"),
        ({"sources": [{"title": "x", "url": "https://a.example/p", "consulted": "March"}]},
         "en", "consulted"),
    ],
)
def test_it_names_the_file_and_problem_and_loads_the_rest(
    tmp_path: Path, change: dict[str, object], folder: str, expected: str
) -> None:
    _write(tmp_path, "en", "good", GOOD)
    bad = _write(tmp_path, folder, "bad", {**GOOD, **change})
    message = _only_error(tmp_path, bad)
    assert "bad.md" in message
    assert expected in message


def test_it_loads_the_organizations_and_consulted_dates_of_the_new_format(
    tmp_path: Path,
) -> None:
    # FORMAT.md: organizations by id; each source says when it was checked.
    sources = [{"title": "a", "url": "https://a.example/p", "consulted": "2026-03"},
               {"title": "b", "url": "https://b.example/p", "consulted": dt.date(2026, 12, 4)}]
    _write(tmp_path, "en", "good", {**GOOD, "sources": sources, "organizations": ["far"]})
    result = load_articles(tmp_path)
    assert result.errors == []
    assert [s.url for s in result.articles[0].sources] == ["https://a.example/p",
                                                            "https://b.example/p"]


def test_it_reports_a_missing_key(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", GOOD)
    meta = {k: v for k, v in GOOD.items() if k != "title"}
    message = _only_error(tmp_path, _write(tmp_path, "en", "bad", meta))
    assert "no 'title'" in message


def test_it_reports_a_file_without_front_matter(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", GOOD)
    bad = tmp_path / "en" / "bad.md"
    bad.write_text("# Just markdown\n", encoding="utf-8")
    assert "must start with a '---' line" in _only_error(tmp_path, bad)


def test_it_accepts_the_confirmation_phrase_across_a_line_break(tmp_path: Path) -> None:
    body = "The limit is 65 (to be confirmed\nwith a lawyer).\n\n" + BODY
    _write(tmp_path, "en", "good", {**GOOD, "unverified": True}, body)
    result = load_articles(tmp_path)
    assert result.errors == []
    assert result.articles[0].unverified


def test_it_reports_a_dangling_related_link(tmp_path: Path) -> None:
    path = _write(tmp_path, "en", "good", {**GOOD, "related": ["ru/missing"]})
    result = load_articles(tmp_path)
    assert [a.slug for a in result.articles] == ["good"]
    assert [str(e) for e in result.errors] == [f"{path}: related article 'ru/missing' "
                                               "does not exist"]


def test_it_reports_a_related_link_that_does_not_link_back(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", {**GOOD, "related": ["ru/good"]})
    _write(tmp_path, "ru", "good", {**GOOD, "lang": "ru"})
    result = load_articles(tmp_path)
    assert len(result.articles) == 2
    assert ["does not link back" in str(e) for e in result.errors] == [True]


def test_it_reports_an_unknown_language_folder(tmp_path: Path) -> None:
    _write(tmp_path, "en", "good", GOOD)
    _write(tmp_path, "de", "other", {**GOOD, "lang": "de"})
    result = load_articles(tmp_path)
    assert [a.slug for a in result.articles] == ["good"]
    assert ["unknown language folder 'de'" in str(e) for e in result.errors] == [True]


# -- rendering ---------------------------------------------------------------------------


def test_sanitising_strips_script_tags() -> None:
    html = render_markdown("Hello\n\n<script>alert('x')</script>\n\nbye")
    assert "<script" not in html.lower()


def test_sanitising_strips_event_handlers() -> None:
    html = render_markdown('<a href="https://e.org" onclick="steal()">x</a> <b onmouseover=y>z</b>')
    assert not re.search(r"<[^>]*\son\w+\s*=", html)


def test_sanitising_strips_javascript_links() -> None:
    html = render_markdown("[click](javascript:alert(1)) and [ok](https://peaceplea.org/)")
    assert "javascript:" not in html.lower()
    assert 'href="https://peaceplea.org/"' in html


def test_links_get_a_safe_rel() -> None:
    html = render_markdown("[site](https://stoparmy.org/eng)")
    assert 'rel="noopener noreferrer nofollow"' in html


def test_raw_html_in_content_is_shown_as_text() -> None:
    html = render_markdown("A <strong>raw</strong> tag and <iframe src=x></iframe>")
    assert "<strong>" not in html
    assert "<iframe" not in html
    assert "&lt;strong&gt;" in html


def test_markdown_structure_survives() -> None:
    html = render_markdown("## Heading\n\n- **one**\n- *two*\n\n> quote\n\n`code`")
    for tag in ("<h2>", "<ul>", "<li>", "<strong>", "<em>", "<blockquote>", "<code>"):
        assert tag in html


_HTMLISH = st.text(alphabet=st.sampled_from(list("<>\"'=/ :()[]abcjsvpitonrlkx\n")),
                  max_size=200)


@given(st.one_of(_HTMLISH, st.text(max_size=200)))
def test_rendering_never_emits_script_or_handlers(text: str) -> None:
    html = render_markdown(text).lower()
    assert "<script" not in html
    assert not re.search(r"<[^>]*\son\w+\s*=", html)
    assert 'href="javascript' not in html
