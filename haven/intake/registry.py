"""The shipped questionnaires, loaded and checked once per process."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from haven.cases import categories, rules

from .engine import Engine
from .questionnaire import Questionnaire, load_dir

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "content" / "questionnaires"


def folder() -> Path:
    return Path(os.environ.get("HAVEN_QUESTIONNAIRES", "") or DEFAULT_DIR)


@cache
def by_category() -> dict[str, Questionnaire]:
    """Every questionnaire keyed by its category; raises QuestionnaireErrors on any mistake."""
    rule_inputs = {rule.id: rule.input_type for rule in rules.all_rules().values()}
    loaded = load_dir(folder(), categories=categories.all_categories(), rules=rule_inputs)
    return {q.category: q for q in loaded.values()}


def get(category: str) -> Questionnaire | None:
    return by_category().get(category)


def engine(category: str) -> Engine:
    questionnaire = get(category)
    if questionnaire is None:
        raise KeyError(category)
    return Engine(questionnaire)


def category_of(questionnaire_id: str) -> str:
    """The category a questionnaire id belongs to (a stored state names the questionnaire)."""
    for category, questionnaire in by_category().items():
        if questionnaire.id == questionnaire_id:
            return category
    raise KeyError(questionnaire_id)


def ordered() -> list[Questionnaire]:
    """Questionnaires in the order of categories.yaml (the order the desk uses)."""
    loaded = by_category()
    return [loaded[slug] for slug in categories.all_categories() if slug in loaded]
