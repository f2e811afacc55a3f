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
    url_problem,
)
from haven.knowledge.organizations import (
    ORGANIZATIONS_FILE,
    RegistryError,
    parse_registry,
    registry,
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


def test_all_shipped_content_loads_with_no_errors() -> None:
    # Every shipped article follows the format the validator enforces (FORMAT.md, README.md
    # in content/knowledge): deep-linked, dated sources, citation markers, organizations.
    # Issue 17: this fails on the kb-format branch alone, whose articles are still in the
    # old format; it passes once the content branches (kb-acs, kb-summons, kb-soldiers)
    # that rewrite them are merged.
    result = load_articles(DEFAULT_ROOT)
    assert [str(e) for e in result.errors] == []
    assert len(result.articles) >= 25


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
    # FORMAT.md: any unsourced claim carries the phrase; only an article whose main
    # point rests on one is marked unverified. So the flag implies the phrase, not back.
    for article in shipped:
        has_phrase = CONFIRMATION_PHRASES[article.lang] in plain_text(article.body_markdown)
        if article.unverified:
            assert has_phrase, article.key


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

LAW_URL = ("https://www.consultant.ru/document/cons_doc_LAW_18260/"
           "dc940acbd42ce7edc1bdb8be8fcb13e3bd02820d/")
GOOD: dict[str, object] = {
    "title": "A title", "lang": "en", "topic": "acs", "tags": ["ACS"], "related": [],
    "sources": [{"title": "Law", "url": LAW_URL, "consulted": "2026-03"}],
    "organizations": [],
    "reviewed_on": None, "reviewed_by": NOT_REVIEWED, "unverified": False,
}
BODY = "Some words about the topic [1].\n\n*This is general information, not legal advice.*\n"


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
    assert article.sources[0].url == LAW_URL
    assert article.sources[0].consulted == "2026-03"
    assert article.organizations == ()


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
        ({"sources": [{"title": "x", "url": "javascript:alert(1)", "consulted": "2026-03"}]},
         "en", "http"),
        ({"related": ["en/self"]}, "en", "another language"),
        ({"reviewd_by": "typo"}, "en", "unknown front-matter key 'reviewd_by'"),
        ({"organizations": "far"}, "en", "'organizations' must be a list"),
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


# -- the article format: sources, citations, organizations -----------------------------


def _source(**change: object) -> dict[str, object]:
    return {"title": "Law", "url": LAW_URL, "consulted": "2026-03", **change}


def _bad_article(tmp_path: Path, meta: dict[str, object], body: str = BODY) -> str:
    _write(tmp_path, "en", "good", GOOD)
    return _only_error(tmp_path, _write(tmp_path, "en", "bad", {**GOOD, **meta}, body))


def _line(message: str) -> int:
    match = re.search(r"bad\.md:(\d+):", message)
    assert match, message
    return int(match.group(1))


@pytest.mark.parametrize("url", [None, ""])
def test_a_source_without_url_is_refused(tmp_path: Path, url: object) -> None:
    message = _bad_article(tmp_path, {"sources": [_source(url=url)]})
    assert "source 1 has no url" in message
    assert "to be confirmed with a lawyer" in message  # says what to do instead
    assert _line(message) == _body_line(tmp_path, "- consulted")  # the source's own line


@pytest.mark.parametrize("url", [
    "https://meduza.io/", "https://meduza.io", "https://stoparmy.org/eng",
    "https://peaceplea.org/en/", "https://www.gosuslugi.ru/ru", "https://ovd.info/?lang=en",
    "https://www.consultant.ru/index.php",
])
def test_a_home_page_url_is_refused(tmp_path: Path, url: str) -> None:
    message = _bad_article(tmp_path, {"sources": [_source(url=url)]})
    assert "home page" in message


@pytest.mark.parametrize("url", [
    "https://meduza.io/amp/news/2023/09/01/…",
    "https://www.consultant.ru/document/cons_doc_LAW_18260/dc940acb…/",
    "https://zakonrf.info/.../sravnenie-100597",
])
def test_a_truncated_url_is_refused(tmp_path: Path, url: str) -> None:
    assert "cut short" in _bad_article(tmp_path, {"sources": [_source(url=url)]})


@pytest.mark.parametrize("url", [
    "https://en.connection-ev.org/article-3818", "https://en.protothema.gr/?p=421082",
    "https://de.connection-ev.org/view.php?rs=ObjectWarCampaign&sa=24",
])
def test_a_deep_link_is_accepted(tmp_path: Path, url: str) -> None:
    _write(tmp_path, "en", "good", {**GOOD, "sources": [_source(url=url)]})
    assert load_articles(tmp_path).errors == []


@pytest.mark.parametrize(("consulted", "expected"), [
    (None, "needs 'consulted'"), ("March 2026", "needs 'consulted'"),
    ("2026-13", "not a real date"), ("2999-01", "in the future"),
])
def test_a_source_without_a_valid_consulted_date_is_refused(
    tmp_path: Path, consulted: object, expected: str
) -> None:
    source = {k: v for k, v in _source(consulted=consulted).items() if v is not None}
    assert expected in _bad_article(tmp_path, {"sources": [source]})


def test_consulted_may_be_a_day_or_a_month(tmp_path: Path) -> None:
    sources = [_source(consulted="2026-03"), _source(consulted="2026-12-04", title="Page")]
    body = "One [1], two [2].\n\n*This is general information, not legal advice.*\n"
    _write(tmp_path, "en", "good", {**GOOD, "sources": sources}, body)
    result = load_articles(tmp_path, today=dt.date(2026, 12, 4))
    assert result.errors == []
    assert [s.consulted for s in result.articles[0].sources] == ["2026-03", "2026-12-04"]


def test_a_marker_past_the_source_list_is_refused_with_its_line(tmp_path: Path) -> None:
    body = "First claim [1].\n\nSecond claim [1][2].\n\n" + BODY
    message = _bad_article(tmp_path, {}, body)
    assert "citation [2] points past the sources list (1 listed)" in message
    assert _line(message) == _body_line(tmp_path, "Second claim")


def test_an_uncited_source_is_refused(tmp_path: Path) -> None:
    message = _bad_article(tmp_path, {"sources": [_source(), _source(title="Meduza")]})
    assert "source 2 ('Meduza') is never cited: add [2]" in message
    assert _line(message) == _body_line(tmp_path, "- consulted", nth=2)


def test_a_marker_in_a_heading_is_refused(tmp_path: Path) -> None:
    message = _bad_article(tmp_path, {}, "## Deadlines [1]\n\n" + BODY)
    assert "citation [1] in a heading" in message


def test_a_link_is_not_taken_for_a_marker(tmp_path: Path) -> None:
    body = "See [2](https://example.org/page) and the law [1].\n\n" + BODY
    _write(tmp_path, "en", "good", GOOD, body)
    assert load_articles(tmp_path).errors == []


@pytest.mark.parametrize("mention", [
    "the Free Buryatia Foundation", "FREE BURYATIA", "фонда «Свободная Бурятия»",
    "«Медиазоны»", "Feminist Anti-War Resistance (FAR)", "Феминистского антивоенного сопротивления",
])
def test_an_unlisted_organization_named_in_the_body_is_refused(tmp_path: Path, mention: str) -> None:
    body = f"Some words [1].\n\nAsk {mention} for help.\n\n" + BODY
    message = _bad_article(tmp_path, {}, body)
    assert "but 'organizations' does not list it: add" in message
    assert _line(message) == _body_line(tmp_path, "for help")


def test_a_listed_organization_is_accepted_and_kept(tmp_path: Path) -> None:
    body = "Ask the Free Buryatia Foundation [1].\n\n" + BODY
    _write(tmp_path, "en", "good", {**GOOD, "organizations": ["free-buryatia"]}, body)
    result = load_articles(tmp_path)
    assert result.errors == []
    assert result.articles[0].organizations == ("free-buryatia",)


def test_an_ordinary_word_is_not_taken_for_an_organization(tmp_path: Path) -> None:
    # "ФАС" is also the Federal Antimonopoly Service, which rules on VPN advertising.
    body = "So far, so good: a good connection; ФАС fined a channel [1].\n\n" + BODY
    _write(tmp_path, "en", "good", GOOD, body)
    assert load_articles(tmp_path).errors == []


def test_an_unknown_organization_id_is_refused(tmp_path: Path) -> None:
    message = _bad_article(tmp_path, {"organizations": ["free-buriatia"]})
    assert "unknown organization 'free-buriatia'" in message


def test_the_organizations_key_is_required(tmp_path: Path) -> None:
    meta = {k: v for k, v in GOOD.items() if k != "organizations"}
    _write(tmp_path, "en", "good", GOOD)
    message = _only_error(tmp_path, _write(tmp_path, "en", "bad", meta))
    assert "no 'organizations'" in message and "[] if it names none" in message


def _body_line(root: Path, words: str, nth: int = 1) -> int:
    """The file line of the ``nth`` line of bad.md that contains ``words``."""
    lines = (root / "en" / "bad.md").read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(lines, start=1) if words in line][nth - 1]


# -- the organizations file --------------------------------------------------------------


def test_every_shipped_organization_status_is_sourced_with_deep_links() -> None:
    orgs = registry(ORGANIZATIONS_FILE)
    assert set(orgs.organizations) == {
        "appeal-to-conscience", "stoparmy", "idite-lesom", "free-buryatia", "far",
        "helping-to-leave", "connection", "pro-asyl", "ovd-info", "mediazona"}
    assert orgs.organizations["far"].status == "undesirable"
    assert orgs.organizations["free-buryatia"].status == "undesirable"
    assert orgs.organizations["stoparmy"].status == "foreign-agent"
    for org in orgs.organizations.values():
        assert org.status == "unknown" or org.sources, org.id
        for source in org.sources:
            assert url_problem(source.url) is None, (org.id, source.url)
            assert re.match(r"^\d{4}-\d{2}(-\d{2})?$", source.consulted), org.id
        for lang in ("ru", "uk", "en"):
            assert orgs.label(org, lang) and orgs.meaning(org, lang)


def test_the_undesirable_meaning_names_the_articles_of_law() -> None:
    orgs = registry(ORGANIZATIONS_FILE)
    far = orgs.organizations["far"]
    for lang in ("ru", "uk", "en"):
        assert "20.33" in orgs.meaning(far, lang) and "284.1" in orgs.meaning(far, lang)
    assert orgs.label(far, "ru") == "«Нежелательная» организация в России с 25.04.2024"


def test_a_status_without_a_source_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(ORGANIZATIONS_FILE.read_text(encoding="utf-8"))
    far = next(o for o in data["organizations"] if o["id"] == "far")
    del far["sources"]
    with pytest.raises(RegistryError, match=r"'far'.*status is 'unknown'"):
        parse_registry(data, tmp_path / "organizations.yaml")


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


def test_translations_must_cite_the_same_addresses_and_organizations(tmp_path: Path) -> None:
    body = "Ask the Free Buryatia Foundation [1].\n\n" + BODY
    en = {**GOOD, "related": ["ru/good"], "organizations": ["free-buryatia"]}
    ru = {**en, "lang": "ru", "related": ["en/good"]}
    ru_body = "Спросите фонд «Свободная Бурятия» [1].\n\n*Это общая информация, а не юридическая консультация.*\n"
    _write(tmp_path, "en", "good", en, body)
    _write(tmp_path, "ru", "good", {**ru, "sources": [_source(title="Закон")]}, ru_body)
    assert load_articles(tmp_path).errors == []  # titles may be translated
    _write(tmp_path, "ru", "good", {**ru, "sources": [_source(url=LAW_URL + "x/")]}, ru_body)
    assert any("cites other sources" in str(e) for e in load_articles(tmp_path).errors)
    _write(tmp_path, "ru", "good", {**ru, "organizations": ["free-buryatia", "far"]}, ru_body)
    assert any("lists other organizations" in str(e) for e in load_articles(tmp_path).errors)
