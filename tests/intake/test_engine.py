"""The engine, without Django: every branch of every shipped questionnaire, and its rules."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from haven.intake import fields, registry
from haven.intake.engine import CONFIRM, CONSENT, STEPS, Engine, State, StateError
from haven.intake.questionnaire import LANGS, Questionnaire, Step

TODAY = date(2026, 11, 27)
QUESTIONNAIRES = registry.ordered()


def engine_for(q: Questionnaire) -> Engine:
    return Engine(q, today=lambda: TODAY)


def inputs(step: Step) -> list[Any]:
    """Valid inputs covering every option of a step (and skipping, when it may be skipped)."""
    ids = [c[0] for c in fields.choices_of(step, "en")]
    samples: list[Any]
    if step.type in ("choice", "yes_no"):
        samples = ids
    elif step.type == "multi_choice":
        samples = [[i] for i in ids] + [ids[: step.max_choices or len(ids)]]
    elif step.type == "date":
        low = fields.resolve_date_spec(step.min_date, TODAY) if step.min_date else date(2000, 1, 1)
        samples = [max(low, min(TODAY, fields.resolve_date_spec(step.max_date or "today", TODAY))).isoformat()]
    elif step.type == "number":
        samples = [str(step.min_value if step.min_value is not None else 1)]
    elif step.fingerprint == "phone":
        samples = ["+7 900 123-45-67"]
    elif step.fingerprint == "telegram":
        samples = ["@helper_01"]
    else:
        samples = ["Ответ на вопрос, достаточно длинный."]
    return samples + ([""] if step.optional else [])


def branch_steps(q: Questionnaire) -> set[str]:
    referenced = {c.step for s in q.steps for c in s.when}
    return referenced | {c.step for d in q.deadlines for c in d.when}


class Explorer:
    """Walks every path through the branch steps; other steps rotate through their inputs."""

    def __init__(self, q: Questionnaire, lang: str) -> None:
        self.q, self.engine, self.lang = q, engine_for(q), lang
        self.branching = branch_steps(q)
        self.used: dict[str, set[str]] = defaultdict(set)
        self.turn: dict[str, int] = defaultdict(int)
        self.finished: list[Any] = []

    def run(self) -> None:
        state = self.engine.start(self.lang)
        prompt = self.engine.prompt(state)
        assert prompt.kind == CONSENT and not prompt.can_go_back
        self.walk(self.engine.answer(state, "yes").state, depth=0)

    def walk(self, state: State, depth: int) -> None:
        assert depth <= len(self.q.steps)
        state = State.from_json(json.loads(json.dumps(state.to_json())))  # as stored
        if state.phase == CONFIRM:
            self.finish(state)
            return
        prompt = self.engine.prompt(state)
        step = self.q.step(str(state.current))
        assert prompt.text == step.text[self.lang] and prompt.position >= 1
        options = inputs(step)
        if step.id not in self.branching:
            options = [options[self.turn[step.id] % len(options)]]
            self.turn[step.id] += 1
        for raw in options:
            result = self.engine.answer(state, raw)
            assert result.error is None, (self.q.id, step.id, raw, result.error)
            self.used[step.id].add(json.dumps(raw))
            back = self.engine.back(result.state)
            assert back.current == step.id or result.state.phase == CONFIRM
            self.walk(result.state, depth + 1)

    def finish(self, state: State) -> None:
        review = self.engine.prompt(state)
        assert review.kind == CONFIRM
        result = self.engine.answer(state, "no")
        assert result.error and result.finished is None
        finished = self.engine.answer(state, "yes").finished
        assert finished is not None
        asked = {s.id for s in self.engine.path(state.answers)}
        record = finished.record()
        assert record["questionnaire"] == self.q.id and record["lang"] == self.lang
        assert {i["key"] for i in record["items"]} <= asked
        for item in record["items"]:
            assert item["question"] == self.q.step(item["key"]).text[self.lang]
            assert item["sensitive"] == self.q.step(item["key"]).sensitive and item["answer"]
        self.finished.append(finished)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("q", QUESTIONNAIRES, ids=[q.id for q in QUESTIONNAIRES])
def test_every_branch_of_every_questionnaire_finishes(q: Questionnaire, lang: str) -> None:
    explorer = Explorer(q, lang)
    explorer.run()
    for _round in range(6):  # let the rotating steps reach each of their options
        if all(len(explorer.used[s.id]) == len(inputs(s)) for s in q.steps):
            break
        explorer.run()
    missing = {s.id: len(inputs(s)) - len(explorer.used[s.id]) for s in q.steps
               if len(explorer.used[s.id]) < len(inputs(s))}
    assert not missing, f"options never tried: {missing}"
    rules = {rule for f in explorer.finished for rule, _value in f.deadline_inputs}
    assert rules == {d.rule for d in q.deadlines}
    prints = {kind for f in explorer.finished for kind, _v in f.fingerprints}
    assert prints == {s.fingerprint for s in q.steps if s.fingerprint}
    for finished in explorer.finished:  # summaries are shown in lists: never a sensitive answer
        assert finished.summary_answer in {i.answer for i in finished.items if not i.sensitive}


def test_every_category_of_the_desk_has_a_questionnaire() -> None:
    from haven.cases.categories import all_categories

    assert set(registry.by_category()) == set(all_categories())


def _summons() -> Engine:
    return engine_for(registry.by_category()["summons"])


def _at(engine: Engine, *answers: Any, lang: str = "ru") -> State:
    state = engine.answer(engine.start(lang), "yes").state
    for raw in answers:
        result = engine.answer(state, raw)
        assert result.error is None, result.error
        state = result.state
    return state


@pytest.mark.parametrize(("lang", "message"), [
    ("ru", "На этот вопрос нужно ответить."), ("uk", "На це запитання потрібно відповісти."),
    ("en", "This question needs an answer."),
])
def test_errors_come_in_the_requesters_language(lang: str, message: str) -> None:
    engine = _summons()
    state = _at(engine, lang=lang)
    assert engine.answer(state, "").error == message
    assert engine.answer(state, ["a", "b"]).error


@pytest.mark.parametrize(("raw", "error"), [
    ("31.02.2026", "Напишите дату в виде 27.11.2026 или 2026-11-27."),
    ("2026-12-01", "Дата не может быть позже 27.11.2026."),
    ("2020-01-01", "Дата не может быть раньше 27.11.2025."),
    ("вчера", "Напишите дату в виде 27.11.2026 или 2026-11-27."),
])
def test_dates_are_checked(raw: str, error: str) -> None:
    engine = _summons()
    state = _at(engine, "electronic")
    assert engine.answer(state, raw).error == error
    assert engine.answer(state, "02.11.2026").state.answers["posted_on"] == "2026-11-02"


def test_choices_accept_ids_numbers_and_labels() -> None:
    engine = _summons()
    state = _at(engine)
    for raw in ("electronic", "1", "Электронную (в реестре / Госуслугах)", " ELECTRONIC "):
        assert engine.answer(state, raw).state.answers["kind"] == "electronic"
    assert engine.answer(state, "5").error == "Выберите один из вариантов."


def test_yes_no_understands_every_language() -> None:
    engine = _summons()
    state = _at(engine, "expecting")
    for raw, value in [("да", "yes"), ("так", "yes"), ("Yes", "yes"), ("нет", "no"), ("ні", "no"), ("2", "no")]:
        assert engine.answer(state, raw).state.answers["abroad"] == value


def test_numbers_and_texts_have_limits() -> None:
    engine = engine_for(registry.by_category()["money"])
    state = _at(engine, ["tickets"], "eur")
    assert engine.answer(state, "12 000").state.answers["amount"] == 12000
    assert engine.answer(state, "1.5").error == "Напишите целое число, только цифрами."
    assert engine.answer(state, "0").error == "Число должно быть не меньше 1."
    state = _at(engine, ["tickets"], "eur", "100", "no")
    assert "например +7 900" in str(engine.answer(state, "call me").error)
    state = engine.answer(state, "").state  # optional
    assert "слишком короткий" in str(engine.answer(state, "мало").error)
    assert "слишком длинный" in str(engine.answer(state, "я" * 3001).error)
    text = engine.answer(state, "  Строка\x00 один\r\n\r\n\r\n\r\nстрока два\u202e ").state.answers["situation"]
    assert text == "Строка один\n\nстрока два"


def test_multi_choice_limits() -> None:
    engine = engine_for(registry.by_category()["money"])
    state = _at(engine)
    assert engine.answer(state, ["food", "tickets", "food"]).state.answers["purpose"] == ["tickets", "food"]
    assert engine.answer(state, "1, 3").state.answers["purpose"] == ["tickets", "housing"]
    assert engine.answer(state, ["nothing"]).error == "Выберите один из вариантов."
    assert engine.answer(state, ["tickets"] * 50).error == "Выберите из предложенных вариантов."


def test_back_goes_to_consent_and_keeps_answers() -> None:
    engine = _summons()
    state = _at(engine, "electronic", "2026-11-02")
    state = engine.back(engine.back(state))
    assert (state.phase, state.current, state.answers["posted_on"]) == (STEPS, "kind", "2026-11-02")
    assert engine.prompt(state).value == "electronic"
    assert engine.back(state).phase == CONSENT
    assert engine.back(engine.back(state)).phase == CONSENT
    with pytest.raises(StateError):
        engine.goto(state, "purpose")  # not reached yet


def test_a_state_that_was_tampered_with_is_refused() -> None:
    good = _at(_summons(), "electronic").to_json()
    bad: Any
    for bad in [None, [], {**good, "a": {"kind": {"x": 1}}}, {**good, "phase": "done"},
                {**good, "lang": "de"}, {**good, "extra": 1}, {**good, "a": {"kind": True}}]:
        with pytest.raises(StateError):
            State.from_json(bad)
    engine = _summons()
    with pytest.raises(StateError):
        engine.resume(replace(State.from_json(good), current="nope"))
    with pytest.raises(StateError):
        engine_for(registry.by_category()["acs"]).resume(State.from_json(good))


def test_a_changed_questionnaire_keeps_the_answers_that_still_fit() -> None:
    engine = _summons()
    state = _at(engine, "electronic", "2026-11-02", "", "medical")
    old = replace(state, version="older", answers={**state.answers, "gone": "x", "purpose": "launch"})
    moved = engine.resume(old)
    assert moved.version == engine.q.digest
    assert moved.answers == {"kind": "electronic", "posted_on": "2026-11-02", "report_date": None}
    assert moved.current == "purpose"


def test_summary_never_uses_a_sensitive_answer() -> None:
    engine = engine_for(registry.by_category()["other"])
    finished = engine.answer(_at(engine, "legal", "Мне нужна помощь юриста"), "yes").finished
    assert finished is not None and finished.summary_answer == "Юридический вопрос"


def test_the_engine_knows_nothing_of_django_http_or_telegram() -> None:
    import ast
    from pathlib import Path

    import haven.intake

    folder = Path(haven.intake.__file__).parent
    for name in ("engine.py", "fields.py", "questionnaire.py", "questionnaire_check.py", "i18n.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported -= {"haven.core.langs"}  # the one language list: plain data, checked below
        assert not {m for m in imported if m.split(".")[0] in {"django", "haven", "telegram"}}, name
    langs = ast.parse((folder.parent / "core" / "langs.py").read_text(encoding="utf-8"))
    assert {getattr(node, "module", None) for node in ast.walk(langs)
            if isinstance(node, ast.Import | ast.ImportFrom)} == {"__future__"}
