"""The layers the build enforces: a package imports only its own layer and the ones below.

    vault, env < core < audit < accounts < outbox < cases < intake, knowledge, funds
        < desk, telegram, notify < demo, cli, settings, urls, wsgi

(docs/architecture.md, "Layers" draws the same picture.) Every module under
``haven/`` is read with ``ast``, migrations included: imports at module level and
imports inside functions count alike, because a lazy import is still a
dependency. Imports under ``if TYPE_CHECKING:`` are skipped: they never run and
only name a type for an annotation (``haven/outbox`` names ``Case`` that way).
Packages of one layer may import each other, but the package graph must have no
cycle at all. A new package must be given a layer here before the test passes.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAYERS: list[set[str]] = [
    {"vault", "env"},
    {"core"},
    {"audit"},
    {"accounts"},
    {"outbox"},
    {"cases"},
    {"intake", "knowledge", "funds", "broadcast"},
    {"desk", "telegram", "notify", "network"},
    {"demo", "cli", "settings", "urls", "wsgi"},
]
LAYER = {package: level for level, layer in enumerate(LAYERS) for package in layer}
NOT_CODE = {"__init__", "locale", "static", "templates"}  # haven/__init__.py holds the version


@dataclass(frozen=True)
class Edge:
    source: str  # package importing
    target: str  # package imported
    where: str  # path:line

    def __str__(self) -> str:
        return f"{self.where}: {self.source} (layer {LAYER.get(self.source)}) imports " \
               f"{self.target} (layer {LAYER.get(self.target)})"


def _module_name(root: Path, path: Path) -> list[str]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def _targets(node: ast.Import | ast.ImportFrom, module: list[str], is_package: bool) -> list[str]:
    """The dotted names an import statement reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module if is_package else module[:-1]
        anchor = anchor[:len(anchor) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if base == "haven":  # from haven import vault, outbox
        return [f"haven.{alias.name}" for alias in node.names]
    return [base]


def edges(root: Path) -> list[Edge]:
    """Every import from one top-level package of ``root/haven`` into another."""
    found: list[Edge] = []
    for path in sorted((root / "haven").rglob("*.py")):
        module = _module_name(root, path)
        if len(module) < 2:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in skipped:
                continue
            for target in _targets(node, module, path.name == "__init__.py"):
                parts = target.split(".")
                if parts[0] == "haven" and len(parts) > 1 and parts[1] != module[1]:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    found.append(Edge(module[1], parts[1], where))
    return found


def packages(root: Path) -> set[str]:
    return {p.stem for p in (root / "haven").iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"} - NOT_CODE


def upward(found: list[Edge]) -> list[Edge]:
    return [e for e in found if LAYER.get(e.target, -1) > LAYER.get(e.source, len(LAYERS))]


def cycles(found: list[Edge]) -> list[list[str]]:
    """The package groups that import each other (strongly connected, more than one)."""
    graph: dict[str, set[str]] = {}
    for e in found:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    reach = {p: _reachable(graph, p) for p in graph}
    groups = {frozenset(q for q in reach[p] if p in reach[q]) | {p} for p in graph}
    return sorted(sorted(g) for g in groups if len(g) > 1)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(graph[p])
    return seen


def test_every_package_has_a_layer() -> None:
    assert sorted(packages(ROOT) - set(LAYER)) == []


def test_no_package_imports_a_higher_layer() -> None:
    assert [str(e) for e in upward(edges(ROOT))] == []


def test_the_package_graph_has_no_cycle() -> None:
    assert cycles(edges(ROOT)) == []


# The checker itself, on small trees: it must see what it claims to see.

def _tree(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp / "haven" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp).parents:
            if parent != Path("."):
                (tmp / parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return tmp


def test_the_checker_finds_upward_imports_also_inside_functions(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "core/a.py": "from haven.desk import views\n",
        "vault/b.py": "def f():\n    from haven import accounts\n",
        "cases/c.py": "from ..funds import ledger\n",
        "accounts/d.py": "from haven.core import worker\nfrom . import models\n",
    })
    assert sorted(str(e) for e in upward(edges(root))) == [
        "haven/cases/c.py:1: cases (layer 5) imports funds (layer 6)",
        "haven/core/a.py:1: core (layer 1) imports desk (layer 7)",
        "haven/vault/b.py:2: vault (layer 0) imports accounts (layer 3)",
    ]


def test_the_checker_allows_type_checking_imports_and_finds_cycles(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "outbox/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                       "    from haven.cases.models import Case\n",
        "intake/b.py": "from haven.funds import ledger\n",
        "funds/c.py": "import haven.intake.engine\n",
    })
    found = edges(root)
    assert upward(found) == []
    assert cycles(found) == [["funds", "intake"]]


def test_a_violation_planted_in_a_copy_of_haven_fails(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "haven", tmp_path / "haven",
                    ignore=shutil.ignore_patterns("locale", "static", "templates", "__pycache__"))
    worker = tmp_path / "haven" / "core" / "worker.py"
    worker.write_text(worker.read_text(encoding="utf-8")
                      + "\n\ndef planted():\n    from haven.funds import ledger\n", encoding="utf-8")
    found = edges(tmp_path)
    assert [str(e) for e in upward(found)] == [
        f"haven/core/worker.py:{worker.read_text().count(chr(10))}: core (layer 1) imports "
        "funds (layer 6)"]
    assert cycles(found) == [["accounts", "cases", "core", "funds", "outbox"]]
