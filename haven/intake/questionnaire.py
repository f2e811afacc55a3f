"""Questionnaires as data: ``content/questionnaires/<id>.yaml``, one per case category.

Pure Python (no Django): the web intake, the Telegram bot and the tests load the
same files through the same checks. Every mistake is reported as
``path:line: what is wrong``, all of them at once, so an organization editing a
questionnaire learns everything it has to fix from one start-up.

The format (see content/questionnaires/README.md for a full example)::

    id: summons                # also the file name
    category: summons          # a slug from haven/cases/categories.yaml
    intro: {ru: ..., uk: ..., en: ...}
    attachments: {max_files: 3, text: {ru: ..., uk: ..., en: ...}}   # optional
    steps:
      - id: kind
        type: choice           # choice, multi_choice, short_text, long_text, date, number, yes_no
        text: {ru: ..., uk: ..., en: ...}
        sensitive: false       # required: true keeps it out of summaries and notifications
        choices: [{id: electronic, label: {ru: ..., uk: ..., en: ...}}, ...]
      - id: posted_on
        type: date
        when: {step: kind, is: electronic}   # or in: [a, b], or not: x; a list means all
        max: today
    deadlines:                 # answers that feed haven/cases/deadline_rules.yaml
      - {rule: summons-exit-ban, input: posted_on}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from haven.core.langs import LANGS

FIELD_TYPES = ("choice", "multi_choice", "short_text", "long_text", "date", "number", "yes_no")
CHOICE_TYPES = ("choice", "multi_choice", "yes_no")
FINGERPRINTS = ("phone", "telegram")
YES_NO = ("yes", "no")
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DATE_SPEC_RE = re.compile(r"^(today|[+-]\d{1,3}[dy]|\d{4}-\d{2}-\d{2})$")
TEXT_LIMITS = {"short_text": (200, 500), "long_text": (4000, 10000)}  # default, ceiling
MAX_STEPS = 40
MAX_CHOICES = 30

Text = Mapping[str, str]


class QuestionnaireError(Exception):
    """One mistake in one file, with the line it is on."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = str(path), line, message


class QuestionnaireErrors(Exception):
    """Every mistake found while loading; ``str()`` lists them one per line."""

    def __init__(self, errors: list[QuestionnaireError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Choice:
    id: str
    labels: Text


@dataclass(frozen=True)
class Condition:
    """``step``'s answer is (one of) ``values``, or with ``negate`` is none of them."""

    step: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.step)
        if answer is None:
            return False
        given = set(answer) if isinstance(answer, list) else {str(answer)}
        return bool(given & set(self.values)) != self.negate


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    text: Text
    sensitive: bool
    line: int
    help: Text | None = None
    optional: bool = False
    when: tuple[Condition, ...] = ()
    choices: tuple[Choice, ...] = ()
    min_length: int = 1
    max_length: int = 0
    min_value: int | None = None
    max_value: int | None = None
    min_date: str | None = None
    max_date: str | None = None
    min_choices: int = 1
    max_choices: int = 0
    pattern: str | None = None
    pattern_message: Text | None = None
    fingerprint: str | None = None
    summary: bool = False


@dataclass(frozen=True)
class DeadlineLink:
    rule: str
    input: str
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Attachments:
    max_files: int
    text: Text


@dataclass(frozen=True)
class Questionnaire:
    id: str
    category: str
    intro: Text
    steps: tuple[Step, ...]
    deadlines: tuple[DeadlineLink, ...] = ()
    attachments: Attachments | None = None
    path: str = ""
    digest: str = ""
    _index: dict[str, Step] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({s.id: s for s in self.steps})

    def step(self, step_id: str) -> Step:
        return self._index[step_id]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index


# --- YAML with line numbers -------------------------------------------------


class _Map(dict[str, Any]):
    line = 0
    lines: dict[str, int]


class _List(list[Any]):
    line = 0


class _Loader(yaml.SafeLoader):
    """Safe loading that remembers lines and reads ``yes``/``no`` as text, not booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line, result.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in result:
            raise QuestionnaireError("", line, f"“{key}” appears twice")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> _List:
    result = _List(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


# --- checking ---------------------------------------------------------------


class _Checker:
    """Collects errors for one file instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[QuestionnaireError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(QuestionnaireError(self.path, line, message))

    def line_of(self, node: Any, key: str | None = None) -> int:
        if isinstance(node, _Map) and key is not None and key in node.lines:
            return node.lines[key]
        return int(getattr(node, "line", 0))

    def mapping(self, node: Any, line: int, what: str, allowed: Iterable[str]) -> _Map | None:
        if not isinstance(node, _Map):
            self.error(line, f"{what} must be a mapping (key: value lines)")
            return None
        for key in node:
            if key not in allowed:
                self.error(node.lines[key], f"{what}: unknown key “{key}” "
                           f"(allowed: {', '.join(sorted(allowed))})")
        return node

    def text(self, parent: _Map, key: str, what: str, required: bool = True) -> Text | None:
        line = self.line_of(parent, key)
        value = parent.get(key)
        if value is None:
            if required:
                self.error(parent.line, f"{what}: “{key}” is missing (it needs ru, uk and en)")
            return None
        if not isinstance(value, _Map):
            self.error(line, f"{what}: “{key}” must give the text in ru, uk and en")
            return None
        missing = [lang for lang in LANGS if not str(value.get(lang) or "").strip()]
        extra = [k for k in value if k not in LANGS]
        if missing:
            self.error(line, f"{what}: “{key}” has no text in {', '.join(missing)}")
        if extra:
            self.error(line, f"{what}: “{key}” has unknown languages {', '.join(extra)}")
        return {lang: str(value.get(lang) or "").strip() for lang in LANGS}

    def integer(self, parent: _Map, key: str, what: str, low: int, high: int) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(self.line_of(parent, key),
                       f"{what}: “{key}” must be a whole number from {low} to {high}")
            return None
        return value

    def flag(self, parent: _Map, key: str, what: str, default: bool | None) -> bool:
        value = parent.get(key, default)
        if not isinstance(value, bool):
            where = self.line_of(parent, key) if key in parent else parent.line
            self.error(where, f"{what}: “{key}” must be true or false")
            return bool(default)
        return value


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def load_file(
    path: Path, *, categories: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
) -> Questionnaire:
    """Load and check one file. ``rules`` maps a deadline rule id to its input type."""
    from .questionnaire_check import check_questionnaire

    raw = path.read_bytes()
    checker = _Checker(path)
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except QuestionnaireError as exc:
        raise QuestionnaireErrors([QuestionnaireError(path, exc.line, exc.message)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise QuestionnaireErrors([QuestionnaireError(path, line, f"not valid YAML: {exc.problem}")]) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise QuestionnaireErrors([QuestionnaireError(path, 0, f"not valid YAML: {exc}")]) from exc
    questionnaire = check_questionnaire(checker, data, categories, rules, digest_of(raw))
    if checker.errors or questionnaire is None:
        raise QuestionnaireErrors(checker.errors or [QuestionnaireError(path, 0, "empty file")])
    return questionnaire


def load_dir(
    folder: Path, *, categories: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
) -> dict[str, Questionnaire]:
    """Load every ``*.yaml`` in ``folder``; raise QuestionnaireErrors listing all mistakes."""
    errors: list[QuestionnaireError] = []
    found: dict[str, Questionnaire] = {}
    by_category: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            questionnaire = load_file(path, categories=categories, rules=rules)
        except QuestionnaireErrors as exc:
            errors.extend(exc.errors)
            continue
        if questionnaire.category in by_category:
            errors.append(QuestionnaireError(path, 1, f"category “{questionnaire.category}” "
                                             f"already has {by_category[questionnaire.category]}"))
            continue
        by_category[questionnaire.category] = path.name
        found[questionnaire.id] = questionnaire
    if errors:
        raise QuestionnaireErrors(errors)
    return found
