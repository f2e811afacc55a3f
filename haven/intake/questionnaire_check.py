"""The checks behind :func:`haven.intake.questionnaire.load_file`, one function per part."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .questionnaire import (
    CHOICE_TYPES,
    DATE_SPEC_RE,
    FIELD_TYPES,
    FINGERPRINTS,
    ID_RE,
    MAX_CHOICES,
    MAX_STEPS,
    TEXT_LIMITS,
    YES_NO,
    Attachments,
    Choice,
    Condition,
    DeadlineLink,
    Questionnaire,
    Step,
    Text,
    _Checker,
    _List,
    _Map,
)

TOP_KEYS = {"id", "category", "intro", "attachments", "steps", "deadlines"}
STEP_KEYS = {
    "id", "type", "text", "help", "sensitive", "optional", "when", "choices", "min_length",
    "max_length", "min", "max", "min_choices", "max_choices", "pattern", "pattern_message",
    "fingerprint", "summary",
}
RULE_INPUT = {"year": "number", "date": "date"}
OPTIONAL_MARK = re.compile(r"\((optional|необязательно|необов['’]язково)\)", re.IGNORECASE)


def check_questionnaire(
    c: _Checker, data: Any, categories: Iterable[str] | None,
    rules: Mapping[str, str] | None, digest: str,
) -> Questionnaire | None:
    top = c.mapping(data, 1, "questionnaire", TOP_KEYS)
    if top is None:
        return None
    qid = _identifier(c, top, "id", "questionnaire")
    if qid and qid.replace("_", "-") != c.path.stem.replace("_", "-"):
        c.error(top.lines["id"], f"id “{qid}” must match the file name “{c.path.stem}”")
    category = str(top.get("category") or "")
    known = set(categories) if categories is not None else None
    if not category:
        c.error(top.line, "questionnaire: “category” is missing")
    elif known is not None and category not in known:
        c.error(top.lines["category"], f"category “{category}” is not one of {', '.join(sorted(known))}")
    intro = c.text(top, "intro", "questionnaire")
    steps = _steps(c, top)
    deadlines = _deadlines(c, top, steps, rules)
    attachments = _attachments(c, top)
    if c.errors or not qid or intro is None:
        return None
    return Questionnaire(id=qid, category=category, intro=intro, steps=tuple(steps),
                         deadlines=tuple(deadlines), attachments=attachments,
                         path=str(c.path), digest=digest)


def _identifier(c: _Checker, node: _Map, key: str, what: str) -> str:
    value = node.get(key)
    if value is None:
        c.error(node.line, f"{what}: “{key}” is missing")
        return ""
    text = str(value)
    if not ID_RE.match(text.replace("-", "_")):
        c.error(c.line_of(node, key), f"{what}: “{key}” must be lowercase letters, digits, - or _ "
                "(starting with a letter, at most 40)")
        return ""
    return text


def _steps(c: _Checker, top: _Map) -> list[Step]:
    raw = top.get("steps")
    if not isinstance(raw, _List) or not raw:
        c.error(c.line_of(top, "steps") or top.line, "questionnaire: “steps” must be a non-empty list")
        return []
    if len(raw) > MAX_STEPS:
        c.error(raw.line, f"a questionnaire may have at most {MAX_STEPS} steps")
    steps: list[Step] = []
    for node in raw:
        step = _step(c, node, {s.id: s for s in steps}, raw.line)
        if step is not None:
            if any(s.id == step.id for s in steps):
                c.error(step.line, f"step id “{step.id}” is used twice")
            steps.append(step)
    return steps


def _step(c: _Checker, node: Any, earlier: dict[str, Step], list_line: int) -> Step | None:
    named = f"step “{node['id']}”" if isinstance(node, _Map) and "id" in node else "step"
    m = c.mapping(node, list_line, named, STEP_KEYS)
    if m is None:
        return None
    sid = _identifier(c, m, "id", "step")
    what = f"step “{sid or '?'}”"
    ftype = str(m.get("type") or "")
    if ftype not in FIELD_TYPES:
        c.error(c.line_of(m, "type") or m.line, f"{what}: “type” must be one of {', '.join(FIELD_TYPES)}")
        return None
    if "sensitive" not in m:
        c.error(m.line, f"{what}: say whether the answer is sensitive (sensitive: true or false)")
    text = c.text(m, "text", what)
    help_text = c.text(m, "help", what, required=False)
    fields: dict[str, Any] = {
        "sensitive": c.flag(m, "sensitive", what, True), "optional": c.flag(m, "optional", what, False),
        "summary": c.flag(m, "summary", what, False),
        "when": _conditions(c, m, "when", what, earlier),
    }
    _no_optional_marker(c, m, text, what)
    fields.update(_choices(c, m, ftype, what))
    fields.update(_limits(c, m, ftype, what))
    fields.update(_text_rules(c, m, ftype, what))
    if not sid or text is None:
        return None
    return Step(id=sid, type=ftype, text=text, help=help_text, line=m.line, **fields)


def _no_optional_marker(c: _Checker, m: _Map, text: Text | None, what: str) -> None:
    """The web page and the bot mark optional questions themselves; a second mark reads twice."""
    for lang, words in (text or {}).items():
        if OPTIONAL_MARK.search(words):
            c.error(c.line_of(m, "text") or m.line, f"{what}: the {lang} text says “optional” itself; "
                    "write optional: true and leave the mark to the form")


def _choices(c: _Checker, m: _Map, ftype: str, what: str) -> dict[str, Any]:
    if ftype not in ("choice", "multi_choice"):
        if "choices" in m:
            c.error(m.lines["choices"], f"{what}: only choice questions have “choices”")
        return {}
    raw = m.get("choices")
    if not isinstance(raw, _List) or len(raw) < 2:
        c.error(c.line_of(m, "choices") or m.line, f"{what}: “choices” must list at least two options")
        return {}
    if len(raw) > MAX_CHOICES:
        c.error(raw.line, f"{what}: at most {MAX_CHOICES} choices")
    choices: list[Choice] = []
    for item in raw:
        cm = c.mapping(item, raw.line, f"{what} choice", {"id", "label"})
        if cm is None:
            continue
        cid = _identifier(c, cm, "id", f"{what} choice")
        label = c.text(cm, "label", f"{what} choice “{cid}”")
        if cid and any(ch.id == cid for ch in choices):
            c.error(cm.line, f"{what}: choice id “{cid}” is used twice")
        if cid and label is not None:
            choices.append(Choice(cid, label))
    out: dict[str, Any] = {"choices": tuple(choices)}
    if ftype == "multi_choice":
        low = c.integer(m, "min_choices", what, 0, MAX_CHOICES)
        out["min_choices"] = 1 if low is None else low
        out["max_choices"] = c.integer(m, "max_choices", what, 1, MAX_CHOICES) or 0
    return out


def _limits(c: _Checker, m: _Map, ftype: str, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ftype == "number":
        out["min_value"] = c.integer(m, "min", what, -(10**12), 10**12)
        out["max_value"] = c.integer(m, "max", what, -(10**12), 10**12)
        if out["min_value"] is not None and out["max_value"] is not None \
                and out["min_value"] > out["max_value"]:
            c.error(m.lines["max"], f"{what}: “max” is below “min”")
    elif ftype == "date":
        for key in ("min", "max"):
            if key in m:
                spec = str(m[key])
                if not DATE_SPEC_RE.match(spec):
                    c.error(m.lines[key], f"{what}: “{key}” must be today, +Nd, -Nd, +Ny, -Ny "
                            "or a date like 2024-01-31")
                out[f"{key}_date"] = spec
    elif ("min" in m or "max" in m):
        c.error(m.lines.get("min", m.lines.get("max", m.line)),
                f"{what}: only number and date questions have “min” and “max”")
    return out


def _text_rules(c: _Checker, m: _Map, ftype: str, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = TEXT_LIMITS.get(ftype)
    if limits is None:
        for key in ("pattern", "fingerprint", "min_length", "max_length"):
            if key in m:
                c.error(m.lines[key], f"{what}: only text questions have “{key}”")
        return out
    default, ceiling = limits
    out["max_length"] = c.integer(m, "max_length", what, 1, ceiling) or default
    out["min_length"] = c.integer(m, "min_length", what, 1, ceiling) or 1
    pattern = m.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
            out["pattern"] = str(pattern)
        except re.error as exc:
            c.error(m.lines["pattern"], f"{what}: “pattern” is not a valid regular expression: {exc}")
        out["pattern_message"] = c.text(m, "pattern_message", what)
    fingerprint = m.get("fingerprint")
    if fingerprint is not None:
        if ftype != "short_text" or fingerprint not in FINGERPRINTS:
            c.error(m.lines["fingerprint"], f"{what}: “fingerprint” must be one of "
                    f"{', '.join(FINGERPRINTS)}, on a short_text question")
        elif m.get("sensitive") is not True:
            c.error(m.lines["fingerprint"], f"{what}: an identifier used as a fingerprint must be "
                    "marked sensitive: true")
        out["fingerprint"] = str(fingerprint)
    return out


def _conditions(
    c: _Checker, parent: _Map, key: str, what: str, earlier: Mapping[str, Step],
) -> tuple[Condition, ...]:
    raw = parent.get(key)
    if raw is None:
        return ()
    items = raw if isinstance(raw, _List) else [raw]
    out = []
    for item in items:
        cond = _condition(c, item, c.line_of(parent, key), what, earlier)
        if cond is not None:
            out.append(cond)
    return tuple(out)


def _condition(
    c: _Checker, item: Any, line: int, what: str, earlier: Mapping[str, Step],
) -> Condition | None:
    m = c.mapping(item, line, f"{what}: condition", {"step", "is", "in", "not"})
    if m is None:
        return None
    target = earlier.get(str(m.get("step") or ""))
    if target is None:
        c.error(m.line, f"{what}: a condition must name an earlier step (“step: …”)")
        return None
    ops = [k for k in ("is", "in", "not") if k in m]
    if len(ops) != 1:
        c.error(m.line, f"{what}: a condition needs exactly one of is, in, not")
        return None
    raw = m[ops[0]]
    values = tuple(str(v) for v in (raw if isinstance(raw, _List) else [raw]))
    allowed = YES_NO if target.type == "yes_no" else tuple(ch.id for ch in target.choices)
    if target.type not in CHOICE_TYPES:
        c.error(m.line, f"{what}: a condition can only look at a choice or yes/no question")
        return None
    for value in values:
        if value not in allowed:
            c.error(m.lines[ops[0]], f"{what}: “{value}” is not an answer of step “{target.id}” "
                    f"({', '.join(allowed)})")
    return Condition(target.id, values, negate=ops[0] == "not")


def _deadlines(
    c: _Checker, top: _Map, steps: list[Step], rules: Mapping[str, str] | None,
) -> list[DeadlineLink]:
    raw = top.get("deadlines")
    if raw is None:
        return []
    if not isinstance(raw, _List):
        c.error(top.lines["deadlines"], "“deadlines” must be a list")
        return []
    by_id = {s.id: s for s in steps}
    out = []
    for item in raw:
        m = c.mapping(item, raw.line, "deadline", {"rule", "input", "when"})
        if m is None:
            continue
        rule, step = str(m.get("rule") or ""), by_id.get(str(m.get("input") or ""))
        if rules is not None and rule not in rules:
            c.error(m.line, f"deadline: “{rule}” is not a rule in deadline_rules.yaml")
        elif step is None:
            c.error(m.line, "deadline: “input” must name a step of this questionnaire")
        elif rules is not None and RULE_INPUT.get(rules[rule]) != step.type:
            c.error(m.line, f"deadline: rule “{rule}” needs a {RULE_INPUT.get(rules[rule])} "
                    f"question, step “{step.id}” is {step.type}")
        else:
            out.append(DeadlineLink(rule, step.id, _conditions(c, m, "when", "deadline", by_id)))
    return out


def _attachments(c: _Checker, top: _Map) -> Attachments | None:
    m = c.mapping(top.get("attachments"), c.line_of(top, "attachments"), "attachments",
                  {"max_files", "text"}) if "attachments" in top else None
    if m is None:
        return None
    max_files = c.integer(m, "max_files", "attachments", 1, 10)
    text = c.text(m, "text", "attachments")
    if max_files is None or text is None:
        if max_files is None:
            c.error(m.line, "attachments: “max_files” (1 to 10) is missing")
        return None
    return Attachments(max_files, text)
