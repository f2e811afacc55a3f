"""What a requester reads: one name for the codename, marks and hints said once and right."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

import haven
from haven.intake import orgpage

from .conftest import Visitor

pytestmark = pytest.mark.django_db

ROOT = Path(haven.__file__).parent
# The codename is several words: calling it "a code word" misleads. One name per language.
OTHER_NAMES = {
    "ru": re.compile(r"кодов\w* слов|секретн\w* фраз", re.IGNORECASE),
    "uk": re.compile(r"кодов\w* слів|кодов\w* слов\w*|секретн\w* фраз", re.IGNORECASE),
}


def _texts(lang: str) -> dict[Path, str]:
    catalogs = ROOT.rglob(f"locale/{lang}/LC_MESSAGES/django.po")
    return {path: path.read_text(encoding="utf-8") for path in [
        *catalogs, *(ROOT.parent / "content" / "questionnaires").glob("*.yaml")]}


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_the_codename_has_one_name_everywhere(lang: str) -> None:
    found = {str(path): OTHER_NAMES[lang].findall(text.replace('"\n"', ""))
             for path, text in _texts(lang).items()}
    assert {path: words for path, words in found.items() if words} == {}


def _step_page(visitor: Visitor, category: str, lang: str, answers: list[tuple[str, str]]) -> str:
    visitor.start(category, lang)
    for step, value in answers:
        visitor.answer(step, value)
    return visitor.get(visitor.url("step/"), follow=True).content.decode()


def test_an_optional_question_says_optional_once(visitor: Visitor) -> None:
    page = _step_page(visitor, "money", "ru", [])
    while 'name="step" value="phone"' not in page:
        step = re.search(r'name="step" value="([a-z_]+)"', page)
        assert step, page[:1500]
        choice = re.search(r'name="value" value="([a-z_]+)"', page)
        visitor.answer(step.group(1), choice.group(1) if choice else "1")
        page = visitor.get(visitor.url("step/"), follow=True).content.decode()
    assert page.count("необязательно") == 1


def test_each_step_shows_how_far_the_requester_is(visitor: Visitor) -> None:
    page = _step_page(visitor, "summons", "en", [])
    assert re.search(r"Question 1 of \d+", page)
    page = _step_page(Visitor(visitor.slug), "summons", "ru", [("kind", "electronic")])
    assert re.search(r"Вопрос 2 из \d+", page)


def test_the_date_hint_uses_this_year(visitor: Visitor) -> None:
    page = _step_page(visitor, "summons", "ru", [("kind", "electronic")])
    assert 'type="date"' in page
    assert f"Например, {datetime.date.today():%d.%m.%Y}." in page
    assert "2024" not in page


def test_a_number_field_shows_its_range_before_any_mistake(visitor: Visitor) -> None:
    page = _step_page(visitor, "acs", "ru", [])
    while 'inputmode="numeric"' not in page:
        step = re.search(r'name="step" value="([a-z_]+)"', page)
        assert step, page[:1500]
        choice = re.search(r'name="value" value="([a-z_]+)"', page)
        visitor.answer(step.group(1), choice.group(1) if choice else "x")
        page = visitor.get(visitor.url("step/"), follow=True).content.decode()
    assert re.search(r'<small id="q-hint" class="range">Число от \d+ до \d+\.</small>', page)
    assert re.search(r'aria-describedby="[^"]*q-hint"', page) and 'role="alert"' not in page


@pytest.mark.parametrize(("days", "words"), [(180, "180 дней"), (21, "21 день"), (3, "3 дня")])
def test_consent_says_the_retention_as_a_phrase(
    visitor: Visitor, monkeypatch: pytest.MonkeyPatch, days: int, words: str
) -> None:
    monkeypatch.setattr(orgpage, "retention_days", lambda org: days)
    visitor.get(visitor.url("?lang=ru"))
    page = visitor.get(visitor.url("consent/?topic=summons")).content.decode()
    assert f"через {words} после закрытия" in page and "дней:" not in page
