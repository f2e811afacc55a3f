"""The audit page speaks words: every event code the code base writes has a label in ru, uk, en."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

import haven
from haven.cases import actions
from haven.desk import audit_labels as labels
from tests.conftest import Persona, make_case

CODE = re.compile(r"^[a-z]+(\.[a-z_]+)+$")
RAW_CODE = re.compile(r"\b[a-z]+\.[a-z_]+(\.[a-z_]+)*\b")


def _audit_calls() -> list[ast.Call]:
    """Every ``chain.record(...)`` and ``_audit(...)`` call in the application's source."""
    calls = []
    for path in Path(haven.__file__).parent.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(getattr(func, "value", None), "id", "")
            if (name, owner) == ("record", "chain") or name == "_audit":
                calls.append(node)
    return calls


def _written_codes() -> set[str]:
    return {node.value for call in _audit_calls() for arg in call.args for node in ast.walk(arg)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)}


def _written_detail_keys() -> set[str]:
    keys = set()
    for call in _audit_calls():
        for kw in call.keywords:
            if kw.arg == "detail" and isinstance(kw.value, ast.Dict):
                keys |= {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
            elif kw.arg not in (None, "detail", "case_id", "actor_id"):
                keys.add(kw.arg)
    return keys


def test_every_event_code_the_code_base_writes_has_a_label() -> None:
    codes = _written_codes()
    assert len(codes) > 40  # the scan found the calls (a broken scan must not pass)
    assert {"case.created", "case.read", "funds.payout.paid", "kb.post.failed"} <= codes
    assert sorted(codes - set(labels.EVENTS)) == []


def test_every_detail_the_code_base_writes_has_a_label() -> None:
    keys = _written_detail_keys()
    assert {"deadline", "old", "new", "category"} <= keys
    assert sorted(keys - set(labels.DETAILS)) == []


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_every_label_is_translated(lang: str) -> None:
    untranslated = []
    for table in (labels.EVENTS, labels.DETAILS):
        for code, label in table.items():
            with translation.override("en"):
                english = str(label)
            with translation.override(lang):
                if str(label) == english:
                    untranslated.append(code)
    assert untranslated == []


def _audit_page(client: Client, number: int, lang: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client.get(f"/desk/cases/{number}/audit/").content.decode()


def test_the_audit_page_shows_events_and_details_in_words(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    case = make_case(alice, category="acs")
    actions.set_status(alice.member, case, "triage", None)
    bob_client.get(f"/desk/cases/{case.number}/")
    english = _audit_page(alice_client, case.number, "en")
    assert "Case created" in english and "Case opened and read" in english
    assert "Status changed" in english and "Before:" in english and "Triage" in english
    assert "Bob" in english
    russian = _audit_page(alice_client, case.number, "ru")
    assert "Дело создано" in russian and "Статус изменён" in russian
    for page in (english, russian):
        table = page[page.index("<tbody>"):page.index("</tbody>")]
        visible = re.sub(r"<[^>]+>", " ", table)
        assert not RAW_CODE.search(visible), RAW_CODE.search(visible)
        assert "=" not in visible
