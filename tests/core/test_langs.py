"""The language list is defined once (haven/core/langs.py); nothing else spells it out."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings
from django.test import Client

from haven.core.langs import DEFAULT_LANG, LANGS, LANGUAGE_NAMES
from haven.knowledge.models import Lang
from haven.telegram.management.commands.chat import Command as ChatCommand
from tests.conftest import Persona, make_case

HAVEN = Path(__file__).resolve().parents[2] / "haven"
HOME = HAVEN / "core" / "langs.py"


def _constants(nodes: list[ast.expr | None]) -> list[object]:
    return [n.value if isinstance(n, ast.Constant) else None for n in nodes]


def _per_language_values(tree: ast.AST) -> set[int]:
    """Values of dicts keyed by language (each language's own text or order): data, not a list."""
    return {id(value) for node in ast.walk(tree) if isinstance(node, ast.Dict)
            and set(_constants(node.keys)) <= set(LANGS) for value in node.values}


def _names_languages(node: ast.AST) -> bool:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        codes = _constants(node.elts)
        return len(codes) >= 2 and set(codes) <= set(LANGS)
    if isinstance(node, ast.Dict):  # a table of language names
        return len(node.keys) >= 2 and set(_constants(node.values)) <= set(LANGUAGE_NAMES.values())
    return False


def _language_lists(path: Path) -> list[int]:
    """Lines where a literal tuple, list or set of language codes, or of their names, appears."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _per_language_values(tree)
    return [getattr(node, "lineno", 0) for node in ast.walk(tree)
            if id(node) not in skip and _names_languages(node)]


def test_no_module_but_langs_py_lists_the_languages() -> None:
    found = {f"{path.relative_to(HAVEN)}:{line}"
             for path in HAVEN.rglob("*.py") if path != HOME and "migrations" not in path.parts
             for line in _language_lists(path)}
    assert not found, f"import LANGS or LANGUAGE_NAMES from haven.core.langs instead: {sorted(found)}"
    assert _language_lists(HOME)  # the scan does see a list where there is one


def test_settings_and_models_follow_the_one_list() -> None:
    assert settings.LANGUAGES == list(LANGUAGE_NAMES.items())
    assert DEFAULT_LANG == LANGS[0] == "ru"  # tests/settings.py switches the tests to English
    assert list(Lang.choices) == list(LANGUAGE_NAMES.items())


def test_the_demo_chat_offers_every_language() -> None:
    parser = ChatCommand().create_parser("haven", "chat")
    action = next(a for a in parser._actions if a.dest == "lang")
    assert tuple(action.choices or ()) == LANGS


def test_the_case_page_offers_the_articles_in_every_language(alice: Persona,
                                                             alice_client: Client) -> None:
    case = make_case(alice)
    page = alice_client.get(f"/desk/cases/{case.number}/?kb_lang=uk").content.decode()
    select = page.split('<select id="kb-panel-lang" name="kb_lang">', 1)[1].split("</select>", 1)[0]
    assert select == ('<option value="ru" lang="ru">Русский</option>'
                      '<option value="uk" selected lang="uk">Українська</option>'
                      '<option value="en" lang="en">English</option>')
