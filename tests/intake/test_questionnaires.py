"""Loading questionnaires: every mistake reported with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from haven.intake import registry
from haven.intake.questionnaire import QuestionnaireErrors, load_dir, load_file

RULES = {"summons-served": "date", "acs-spring-callup": "year"}
CATEGORIES = ["summons", "acs", "other"]
GOOD = """\
id: summons
category: summons
intro: {ru: "Вступление", uk: "Вступ", en: "Intro"}
steps:
  - id: kind
    type: choice
    sensitive: false
    text: {ru: "Какая?", uk: "Яка?", en: "Which?"}
    choices:
      - {id: electronic, label: {ru: "Эл.", uk: "Ел.", en: "El."}}
      - {id: paper, label: {ru: "Бум.", uk: "Пап.", en: "Paper"}}
  - id: posted_on
    type: date
    sensitive: false
    max: today
    when: {step: kind, is: electronic}
    text: {ru: "Когда?", uk: "Коли?", en: "When?"}
deadlines:
  - {rule: summons-served, input: posted_on}
"""


def _write(tmp_path: Path, text: str, name: str = "summons.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _errors(tmp_path: Path, text: str, name: str = "summons.yaml") -> list[str]:
    path = _write(tmp_path, text, name)
    with pytest.raises(QuestionnaireErrors) as caught:
        load_file(path, categories=CATEGORIES, rules=RULES)
    return [str(e) for e in caught.value.errors]


def test_a_good_file_loads(tmp_path: Path) -> None:
    q = load_file(_write(tmp_path, GOOD), categories=CATEGORIES, rules=RULES)
    assert [s.id for s in q.steps] == ["kind", "posted_on"]
    assert q.step("posted_on").when[0].values == ("electronic",)
    assert q.deadlines[0].rule == "summons-served" and len(q.digest) == 16


def test_mistakes_point_at_file_and_line(tmp_path: Path) -> None:
    text = GOOD.replace("    type: date\n", "    type: datum\n") \
               .replace('text: {ru: "Какая?", uk: "Яка?", en: "Which?"}', 'text: {ru: "Какая?", en: "Which?"}') \
               .replace("is: electronic", "is: fax")
    errors = _errors(tmp_path, text)
    path = str(tmp_path / "summons.yaml")
    assert f"{path}:8: step “kind”: “text” has no text in uk" in errors
    assert f"{path}:13: step “posted_on”: “type” must be one of choice, multi_choice, short_text, " \
           "long_text, date, number, yes_no" in errors


def test_conditions_must_look_back_at_real_answers(tmp_path: Path) -> None:
    text = GOOD.replace("is: electronic", "is: fax")
    errors = _errors(tmp_path, text)
    assert any(":16: step “posted_on”: “fax” is not an answer of step “kind”" in e for e in errors), errors
    later = GOOD.replace("when: {step: kind, is: electronic}", "when: {step: posted_on, is: x}")
    assert any("must name an earlier step" in e for e in _errors(tmp_path, later))


def test_deadlines_must_name_a_rule_and_a_fitting_question(tmp_path: Path) -> None:
    unknown = GOOD.replace("rule: summons-served", "rule: no-such-rule")
    assert any(":19: deadline: “no-such-rule” is not a rule" in e for e in _errors(tmp_path, unknown))
    wrong_type = GOOD.replace("rule: summons-served", "rule: acs-spring-callup")
    assert any("needs a number question, step “posted_on” is date" in e
               for e in _errors(tmp_path, wrong_type))


def test_sensitivity_must_be_declared(tmp_path: Path) -> None:
    text = GOOD.replace("    sensitive: false\n    max: today\n", "    max: today\n")
    assert any(":12: step “posted_on”: say whether the answer is sensitive" in e
               for e in _errors(tmp_path, text))


def test_unknown_keys_duplicates_and_bad_yaml(tmp_path: Path) -> None:
    typo = GOOD.replace("    max: today\n", "    maximum: today\n")
    assert any(":15: step “posted_on”: unknown key “maximum”" in e for e in _errors(tmp_path, typo))
    twice = GOOD.replace("  - id: posted_on", "  - id: kind")
    assert any("step id “kind” is used twice" in e for e in _errors(tmp_path, twice))
    broken = GOOD.replace("steps:\n", "steps:\n  - [unclosed\n")
    assert any("summons.yaml:5: not valid YAML" in e or "summons.yaml:6: not valid YAML" in e
               for e in _errors(tmp_path, broken))
    key_twice = GOOD.replace("category: summons\n", "category: summons\ncategory: acs\n")
    assert any("summons.yaml:3: “category” appears twice" in e for e in _errors(tmp_path, key_twice))


def test_the_file_name_category_and_fingerprints_are_checked(tmp_path: Path) -> None:
    assert any("must match the file name" in e for e in _errors(tmp_path, GOOD, name="other.yaml"))
    unknown = GOOD.replace("category: summons", "category: knitting")
    assert any("category “knitting” is not one of" in e for e in _errors(tmp_path, unknown))
    fingerprint = GOOD.replace("    max: today\n", "    fingerprint: phone\n")
    assert any("only text questions have “fingerprint”" in e for e in _errors(tmp_path, fingerprint))


def test_a_folder_reports_every_file_and_two_files_for_one_category(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    _write(tmp_path, GOOD.replace("id: summons", "id: summons-b"), "summons-b.yaml")
    _write(tmp_path, "id: acs\ncategory: acs\n", "acs.yaml")
    with pytest.raises(QuestionnaireErrors) as caught:
        load_dir(tmp_path, categories=CATEGORIES, rules=RULES)
    text = str(caught.value)
    assert "acs.yaml:1: questionnaire: “intro” is missing" in text
    assert "acs.yaml:1: questionnaire: “steps” must be a non-empty list" in text
    assert "summons.yaml:1: category “summons” already has summons-b.yaml" in text


def test_the_shipped_questionnaires_load() -> None:
    registry.by_category.cache_clear()
    assert len(registry.by_category()) == 7


def test_a_question_may_not_mark_itself_optional(tmp_path: Path) -> None:
    marked = GOOD.replace('text: {ru: "Когда?", uk: "Коли?", en: "When?"}',
                          'optional: true\n    text: {ru: "Когда? (необязательно)", uk: "Коли?", en: "When?"}')
    assert any("the ru text says “optional” itself" in e for e in _errors(tmp_path, marked))
