"""Knowledge-base search: morphology, synonyms, typos, languages, query errors, speed."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.core import text
from haven.knowledge.content import load_articles
from haven.knowledge.search import MAX_QUERY_CHARS, QueryError, SearchIndex


@dataclass(frozen=True)
class Doc:
    """The least an article needs to be indexed (no ``related``: same slug groups it)."""

    slug: str
    lang: str
    title: str
    body_markdown: str
    tags: tuple[str, ...] = ()
    topic: str = "acs"


@pytest.fixture(scope="module")
def shipped() -> SearchIndex:
    return SearchIndex().build(load_articles().articles)


def _top(index: SearchIndex, query: str, lang: str | None = None) -> str:
    hits = index.search(query, lang=lang)
    assert hits, f"nothing found for {query!r}"
    return hits[0].slug


# -- tokenising and stemming -------------------------------------------------------------


def test_it_lowercases_folds_yo_and_strips_punctuation() -> None:
    assert text.words("Ещё, ПРИЗЫВ! «АГС»?") == ["еще", "призыв", "агс"]


def test_it_keeps_ukrainian_apostrophe_words_whole() -> None:
    assert text.words("ім'я") == text.words("ім’я") == text.words("імʼя") == ["імя"]


def test_it_keeps_article_numbers() -> None:
    assert "352.1" in text.words("Статья 352.1 УК.")


def test_it_guesses_the_language_of_each_word() -> None:
    assert text.script_of("повістка") == "uk"
    assert text.script_of("повестка") == "ru"
    assert text.script_of("summons") == "en"
    assert text.script_of("2026") is None


def test_it_reads_ambiguous_cyrillic_words_by_their_text() -> None:
    # «документи» has no Ukrainian-only letter; «які» marks the query as Ukrainian.
    ukrainian = dict(text.analyze("які документи"))
    assert ukrainian["документи"] == text.stem("документів", "uk")


def test_it_matches_russian_word_forms(shipped: SearchIndex) -> None:
    forms = ["заявление", "заявления", "заявлением"]
    assert len({text.stem(form) for form in forms}) == 1
    results = [shipped.search(form, lang="ru") for form in forms]
    assert results[0] and results[0] == results[1] == results[2]


def test_it_matches_russian_word_forms_in_a_small_index() -> None:
    index = SearchIndex(synonyms=[]).build([
        Doc("a", "ru", "Подача", "Как подать заявление в военкомат."),
        Doc("b", "ru", "Телефон", "Проверка телефона на границе."),
    ])
    for form in ("заявление", "заявления", "заявлением", "заявлений"):
        assert _top(index, form) == "a"


def test_it_matches_ukrainian_word_forms() -> None:
    index = SearchIndex(synonyms=[]).build([
        Doc("a", "uk", "Шифрування", "Листування з ботом не захищене наскрізним шифруванням."),
        Doc("b", "uk", "Кордон", "На кордоні перевіряють телефони."),
    ])
    for form in ("шифрування", "шифрується", "шифруванням"):
        assert _top(index, form) == "a"
    assert _top(index, "кордону") == "b"


def test_it_matches_english_word_forms() -> None:
    index = SearchIndex(synonyms=[]).build([
        Doc("a", "en", "Desertion", "A deserter faces a long sentence."),
        Doc("b", "en", "Phones", "Phones are checked at the border."),
    ])
    for form in ("desertion", "deserters", "deserted"):
        assert _top(index, form) == "a"


# -- synonyms ----------------------------------------------------------------------------


def test_acs_abbreviation_finds_the_acs_article(shipped: SearchIndex) -> None:
    assert _top(shipped, "АГС", lang="en").startswith("acs-")


def test_soch_finds_the_awol_article(shipped: SearchIndex) -> None:
    assert _top(shipped, "СОЧ") == "article-337-awol"
    assert _top(shipped, "СОЧ", lang="en") == "article-337-awol"


def test_synonyms_cross_languages() -> None:
    index = SearchIndex(synonyms=[["АГС", "alternative civilian service", "ACS"],
                                  ["СОЧ", "самовольное оставление части", "AWOL"]]).build([
        Doc("acs", "en", "Civilian work", "Alternative civilian service lasts long."),
        Doc("awol", "en", "Leaving the unit", "AWOL is a crime under mobilization."),
    ])
    assert _top(index, "агс") == "acs"
    assert _top(index, "СОЧ") == "awol"
    assert _top(index, "самовольное оставление части") == "awol"


def test_expansions_count_less_than_typed_words() -> None:
    index = SearchIndex(synonyms=[["повестка", "summons"]]).build([
        Doc("typed", "ru", "Повестка", "Что делать с повесткой."),
        Doc("synonym", "en", "Summons", "What to do with a summons."),
    ])
    hits = index.search("повестка")
    assert [hit.slug for hit in hits] == ["typed", "synonym"]
    assert hits[0].score > hits[1].score


def test_the_shipped_synonyms_cover_common_abbreviations(shipped: SearchIndex) -> None:
    assert _top(shipped, "мобик агс") == "acs-mobilized"
    assert _top(shipped, "госизмена донат") == "donations-treason"
    assert _top(shipped, "загранпаспорт повестка") in {"electronic-summons",
                                                       "summons-leaving-russia"}


# -- typos -------------------------------------------------------------------------------


def test_it_tolerates_typos(shipped: SearchIndex) -> None:
    assert _top(shipped, "дизертирство") == "article-338-desertion"
    assert _top(shipped, "desertoin") == "article-338-desertion"
    assert _top(shipped, "fundraisre") == "check-fundraiser"


def test_it_allows_two_edits_only_in_long_words() -> None:
    index = SearchIndex(synonyms=[]).build([
        Doc("a", "en", "Fingerprints", "Fingerprints are taken at the border."),
        Doc("b", "en", "Visa", "A humanitarian visa is rare."),
    ])
    assert _top(index, "fingreprinst") == "a"  # 12 letters: two edits allowed
    assert index.search("vsia") != []  # 4 letters: one transposition
    assert index.search("vxsx") == []  # 4 letters, two edits: no


def test_it_does_not_correct_words_shorter_than_four_letters() -> None:
    index = SearchIndex(synonyms=[]).build([Doc("a", "en", "Visa", "A visa.")])
    assert index.search("vis") == []


# -- languages ---------------------------------------------------------------------------


def test_it_answers_in_the_preferred_language(shipped: SearchIndex) -> None:
    hits = shipped.search("альтернативная гражданская служба", lang="en")
    assert hits and all(hit.lang == "en" for hit in hits)
    assert shipped.search("Telegram bot encryption", lang="uk")[0].lang == "uk"


def test_it_falls_back_to_another_language() -> None:
    # An article with no Ukrainian translation is still found, in the language it has.
    index = SearchIndex(synonyms=[]).build([
        Doc("awol", "ru", "СОЧ", "Самоволка: самовольное оставление части."),
        Doc("bots", "uk", "Боти", "Листування з ботом не зашифроване."),
        Doc("bots", "ru", "Боты", "Переписка с ботом не зашифрована."),
    ])
    hit = index.search("СОЧ самоволка", lang="uk")[0]
    assert (hit.slug, hit.lang) == ("awol", "ru")


def test_the_soldiers_articles_answer_in_ukrainian(shipped: SearchIndex) -> None:
    hit = shipped.search("СОЧ самоволка", lang="uk")[0]
    assert (hit.slug, hit.lang) == ("article-337-awol", "uk")


def test_it_returns_each_article_once_across_translations(shipped: SearchIndex) -> None:
    hits = shipped.search("telegram телеграм телеграмі", limit=10)
    slugs = [hit.slug for hit in hits]
    assert len(slugs) == len(set(slugs))


def test_hits_are_ordered_and_limited(shipped: SearchIndex) -> None:
    hits = shipped.search("повестка призыв АГС", limit=5)
    assert 1 <= len(hits) <= 5
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(round(score, 3) == score for score in scores)


def test_unknown_words_find_nothing(shipped: SearchIndex) -> None:
    assert shipped.search("qwx zzv") == []
    assert shipped.search("!!! ???") == []


def test_an_empty_index_finds_nothing() -> None:
    assert SearchIndex(synonyms=[]).build([]).search("повестка") == []


# -- query errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("a" * (MAX_QUERY_CHARS + 1), "too long"),
        ("повестка\x00", "control characters"),
        ("\x07\x1b[31m", "control characters"),
        (b"bytes", "must be text"),
    ],
)
def test_it_rejects_bad_queries(shipped: SearchIndex, query: object, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        shipped.search(query)  # type: ignore[arg-type]


def test_it_rejects_an_unknown_language_and_limit(shipped: SearchIndex) -> None:
    with pytest.raises(QueryError, match="Unknown language"):
        shipped.search("повестка", lang="de")
    with pytest.raises(QueryError, match="at least one"):
        shipped.search("повестка", limit=0)


def test_it_accepts_the_longest_allowed_query(shipped: SearchIndex) -> None:
    shipped.search(("повестка " * 100)[:MAX_QUERY_CHARS])


def test_it_accepts_line_breaks_and_tabs(shipped: SearchIndex) -> None:
    assert shipped.search("повестка\nзагранпаспорт\tвыезд")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffd"),
               max_size=80))  # U+FFFD stands for undecodable bytes: refused (test_service)
def test_any_plain_text_query_is_answered(query: str) -> None:
    index = _hypothesis_index()
    if not query.strip():
        return
    hits = index.search(query, limit=3)
    assert len(hits) <= 3


_INDEX: list[SearchIndex] = []


def _hypothesis_index() -> SearchIndex:
    if not _INDEX:
        _INDEX.append(SearchIndex().build(load_articles().articles))
    return _INDEX[0]


# -- speed -------------------------------------------------------------------------------


def test_it_stays_fast_with_a_thousand_articles() -> None:
    # A guard against accidental quadratic work; bench/kb_search.py measures properly.
    articles = load_articles().articles
    vocabulary = [w for a in articles for w in text.words(a.body_markdown)]
    rng = random.Random(7)
    filler = [Doc(f"f{i}", rng.choice(["ru", "en", "uk"]), " ".join(rng.choices(vocabulary, k=5)),
                  " ".join(rng.choices(vocabulary, k=250))) for i in range(1000 - len(articles))]
    index = SearchIndex().build([*articles, *filler])
    timings = []
    for _ in range(60):
        query = " ".join(rng.choices(vocabulary, k=rng.randint(1, 6)))
        started = time.perf_counter()
        index.search(query)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[int(len(timings) * 0.95)] < 0.1
