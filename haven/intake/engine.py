"""The intake engine: given a conversation state and an input, what comes next.

Channel-agnostic and pure Python (no Django, no HTTP, no Telegram): the web
intake and the bot both drive it, and tests run it over every branch of every
questionnaire without a server. A conversation goes through three phases:

``consent``  the channel shows who reads the answers and for how long; "yes" goes on;
``steps``    one question at a time; only steps whose conditions hold are asked;
``confirm``  the answers are shown back; "yes" finishes.

:class:`State` is plain JSON so a channel can store it (encrypted) between
messages and across workers. An answer is kept when the requester goes back, and
an answer to a step that a later change made irrelevant is dropped at the end,
never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from haven.core.langs import LANGS

from . import fields
from .i18n import gettext_noop, translate
from .questionnaire import Questionnaire, Step

CONSENT, STEPS, CONFIRM = "consent", "steps", "confirm"
PHASES = (CONSENT, STEPS, CONFIRM)
Value = str | int | list[str] | None


class StateError(ValueError):
    """The stored state is malformed or belongs to another questionnaire."""


@dataclass(frozen=True)
class State:
    questionnaire: str
    version: str
    lang: str
    phase: str
    current: str | None = None
    answers: dict[str, Value] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"q": self.questionnaire, "v": self.version, "lang": self.lang,
                "phase": self.phase, "cur": self.current, "a": dict(self.answers)}

    @classmethod
    def from_json(cls, data: Any) -> State:
        """Rebuild a state, refusing anything that is not exactly what to_json makes."""
        if not isinstance(data, dict) or set(data) != {"q", "v", "lang", "phase", "cur", "a"}:
            raise StateError("not an intake state")
        answers = data["a"]
        if not (isinstance(data["q"], str) and isinstance(data["v"], str)
                and data["lang"] in LANGS and data["phase"] in PHASES
                and (data["cur"] is None or isinstance(data["cur"], str))
                and isinstance(answers, dict) and all(_is_value(v) for v in answers.values())):
            raise StateError("malformed intake state")
        return cls(data["q"], data["v"], data["lang"], data["phase"], data["cur"], dict(answers))


def _is_value(value: Any) -> bool:
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass(frozen=True)
class Item:
    """One answer as the desk shows it."""

    key: str
    question: str
    answer: str
    sensitive: bool


@dataclass(frozen=True)
class Prompt:
    """What to show next. ``kind`` is consent, question or confirm."""

    kind: str
    lang: str
    can_go_back: bool
    step: Step | None = None
    text: str = ""
    help: str = ""
    field: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    value: Value = None
    position: int = 0
    total: int = 0  # questions on the path the answers so far lead to
    review: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Finished:
    """The answers of a completed conversation, ready to become a case."""

    questionnaire: Questionnaire
    lang: str
    items: tuple[Item, ...]
    values: Mapping[str, Value]
    deadline_inputs: tuple[tuple[str, date | int], ...]
    fingerprints: tuple[tuple[str, str], ...]
    summary_answer: str

    def record(self) -> dict[str, Any]:
        """The answers record stored (sealed) on the case; the desk renders its items."""
        return {"questionnaire": self.questionnaire.id, "lang": self.lang,
                "items": [{"key": i.key, "question": i.question, "answer": i.answer,
                           "sensitive": i.sensitive} for i in self.items]}


@dataclass(frozen=True)
class Result:
    state: State
    error: str | None = None
    finished: Finished | None = None


class Engine:
    """Runs one questionnaire. ``today`` is injectable so date limits are testable."""

    def __init__(self, questionnaire: Questionnaire,
                 today: Callable[[], date] = date.today) -> None:
        self.q = questionnaire
        self.today = today

    # --- moving through the questionnaire ---------------------------------

    def start(self, lang: str, *, consent: bool = True) -> State:
        if lang not in LANGS:
            raise StateError(f"unknown language {lang!r}")
        state = State(self.q.id, self.q.digest, lang, CONSENT)
        return state if consent else self._begin(state)

    def resume(self, state: State) -> State:
        """Check a stored state; carry it over if the questionnaire changed since."""
        if state.questionnaire != self.q.id:
            raise StateError("the state belongs to another questionnaire")
        if state.version == self.q.digest:
            if state.phase == STEPS and (state.current is None or not self.q.has_step(state.current)):
                raise StateError("the state points at no step")
            return state
        return self._migrate(state)

    def set_lang(self, state: State, lang: str) -> State:
        return replace(state, lang=lang) if lang in LANGS and lang != state.lang else state

    def path(self, answers: Mapping[str, Value]) -> list[Step]:
        """The steps asked, in order, given these answers."""
        asked: dict[str, Value] = {}
        out = []
        for step in self.q.steps:
            if all(cond.holds(asked) for cond in step.when):
                out.append(step)
                asked[step.id] = answers.get(step.id)
        return out

    def answer(self, state: State, raw: Any) -> Result:
        state = self.resume(state)
        if state.phase == CONSENT:
            if _agrees(raw):
                return Result(self._begin(state))
            return Result(state, translate(state.lang, gettext_noop(
                "To go on, confirm that you have read who will see your answers.")))
        if state.phase == CONFIRM:
            if _agrees(raw):
                return Result(state, finished=self._finish(state))
            return Result(state, translate(state.lang, gettext_noop(
                "To send your request, confirm it; to change an answer, go back.")))
        return self._answer_step(state, raw)

    def back(self, state: State) -> State:
        state = self.resume(state)
        path = self.path(state.answers)
        if state.phase == CONFIRM:
            return replace(state, phase=STEPS, current=path[-1].id)
        if state.phase == STEPS:
            ids = [s.id for s in path]
            index = ids.index(state.current) if state.current in ids else 0
            if index > 0:
                return replace(state, current=path[index - 1].id)
            return replace(state, phase=CONSENT, current=None)
        return state

    def goto(self, state: State, step_id: str) -> State:
        """Return to an earlier step (the web's browser history); later answers are kept."""
        state = self.resume(state)
        ids = [s.id for s in self.path(state.answers)]
        if step_id not in ids:
            raise StateError("that step is not part of this conversation")
        if state.phase == STEPS and ids.index(step_id) > ids.index(str(state.current)):
            raise StateError("that step has not been reached yet")
        if state.phase == CONSENT:
            raise StateError("that step has not been reached yet")
        return replace(state, phase=STEPS, current=step_id)

    def fast_forward(self, state: State) -> State:
        """Skip the steps that already have an answer (after changing one from the review)."""
        if state.phase != STEPS:
            return state
        path = self.path(state.answers)
        index = [s.id for s in path].index(str(state.current))
        while index < len(path) and path[index].id in state.answers and (
                state.answers[path[index].id] is not None or path[index].optional):
            index += 1
        if index < len(path):
            return replace(state, current=path[index].id)
        return replace(state, phase=CONFIRM, current=None)

    def reachable(self, state: State) -> list[str]:
        """Step ids the requester may return to from here."""
        ids = [s.id for s in self.path(state.answers)]
        if state.phase == CONFIRM:
            return ids
        if state.phase == STEPS and state.current in ids:
            return ids[: ids.index(state.current) + 1]
        return []

    # --- what to show ------------------------------------------------------

    def prompt(self, state: State) -> Prompt:
        state = self.resume(state)
        lang = state.lang
        if state.phase == CONSENT:
            return Prompt(CONSENT, lang, can_go_back=False)
        if state.phase == CONFIRM:
            return Prompt(CONFIRM, lang, can_go_back=True, review=self._items(state))
        step = self.q.step(str(state.current))
        ids = [s.id for s in self.path(state.answers)]
        return Prompt(
            "question", lang, can_go_back=True, step=step, text=step.text[lang],
            help=(step.help or {}).get(lang, ""), field=step.type,
            choices=tuple(fields.choices_of(step, lang)), optional=step.optional,
            value=state.answers.get(step.id), position=ids.index(step.id) + 1, total=len(ids),
        )

    # --- internals ------------------------------------------------------------

    def _begin(self, state: State) -> State:
        first = self.path(state.answers)[0]
        return replace(state, phase=STEPS, current=first.id)

    def _answer_step(self, state: State, raw: Any) -> Result:
        step = self.q.step(str(state.current))
        if fields.is_empty(raw):
            if not step.optional:
                return Result(state, translate(state.lang, gettext_noop(
                    "This question needs an answer.")))
            value: Value = None
        else:
            try:
                value = fields.validate(step, raw, state.lang, self.today())
            except fields.FieldError as exc:
                return Result(state, exc.message)
        answers = {**state.answers, step.id: value}
        path = self.path(answers)
        ids = [s.id for s in path]
        position = ids.index(step.id)
        if position + 1 < len(path):
            return Result(replace(state, answers=answers, current=path[position + 1].id))
        return Result(replace(state, answers=answers, phase=CONFIRM, current=None))

    def _asked(self, state: State) -> list[tuple[Step, Value]]:
        return [(s, state.answers.get(s.id)) for s in self.path(state.answers)
                if state.answers.get(s.id) is not None]

    def _items(self, state: State) -> tuple[Item, ...]:
        lang = state.lang
        return tuple(Item(s.id, s.text[lang], fields.display(s, v, lang), s.sensitive)
                     for s, v in self._asked(state))

    def _finish(self, state: State) -> Finished:
        asked = self._asked(state)
        values = {s.id: v for s, v in asked}
        deadlines: list[tuple[str, date | int]] = []
        for link in self.q.deadlines:
            value = values.get(link.input)
            if value is None or not all(c.holds(values) for c in link.when):
                continue
            if isinstance(value, str):
                deadlines.append((link.rule, date.fromisoformat(value)))
            elif isinstance(value, int):
                deadlines.append((link.rule, value))
        prints = tuple((s.fingerprint, fp) for s, v in asked if s.fingerprint
                       for fp in [fields.fingerprint_value(s.fingerprint, str(v))] if fp)
        return Finished(self.q, state.lang, self._items(state), values, tuple(deadlines),
                        prints, self._summary(asked, state.lang))

    def _summary(self, asked: list[tuple[Step, Value]], lang: str) -> str:
        marked = [(s, v) for s, v in asked if s.summary and not s.sensitive]
        plain = [(s, v) for s, v in asked if not s.sensitive and s.type != "long_text"]
        for step, value in marked or plain:
            return fields.display(step, value, lang)
        return ""

    def _migrate(self, state: State) -> State:
        """Keep the answers that still fit the changed questionnaire; resume at the first gap."""
        kept: dict[str, Value] = {}
        for step_id, value in state.answers.items():
            if not self.q.has_step(step_id):
                continue
            step = self.q.step(step_id)
            try:
                kept[step_id] = None if value is None and step.optional else \
                    fields.validate(step, value, state.lang, self.today())
            except fields.FieldError:
                continue
        moved = State(self.q.id, self.q.digest, state.lang, state.phase, None, kept)
        if state.phase == CONSENT:
            return moved
        for step in self.path(kept):
            if step.id not in kept:
                return replace(moved, phase=STEPS, current=step.id)
        return replace(moved, phase=CONFIRM)


def _agrees(raw: Any) -> bool:
    return isinstance(raw, str | bool) and (raw is True or str(raw).strip().casefold() in
                                            fields.YES_WORDS | {"agree", "send", "confirm"})
