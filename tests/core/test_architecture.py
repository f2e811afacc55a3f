"""One write path per aggregate, checked by reading the code.

- Views parse the request, call an action and render: a views module writes no
  model and no audit entry itself.
- A case and everything it owns (the models of ``haven/cases/models.py``) are
  written only by ``haven/cases/actions.py``, which writes the audit entry in the
  same transaction.
- The books (``haven/funds/models.py``) are written only by ``haven/funds/actions.py``
  and ``haven/funds/ledger.py``, and the import wizard's encrypted uploads only by
  ``haven/funds/drafts.py``.

What must stay elsewhere is listed below, each with its reason. The checker reads
the source with ``ast``: it follows imports and, inside a function, which name holds
a model, a query set or an instance of it. It cannot see writes made through
``getattr`` or raw SQL; nothing in Haven writes that way.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"create", "update", "delete", "save", "bulk_create", "bulk_update", "get_or_create",
          "update_or_create"}
# Query set methods that keep the model a chain is about (``Case.objects.filter(...).update``).
CHAINED = {"objects", "filter", "exclude", "all", "select_for_update", "select_related",
           "prefetch_related", "order_by", "only", "defer", "distinct", "get", "first", "last",
           "iterator", "none", "annotate", "using"}
CASES_MODELS, FUNDS_MODELS = "haven/cases/models.py", "haven/funds/models.py"
CASE_ACTIONS = {"haven/cases/actions.py"}
FUNDS_ACTIONS = {"haven/funds/actions.py", "haven/funds/ledger.py", "haven/funds/drafts.py"}
VIEWS = re.compile(r"(^|_)views(_|$)")  # views.py, case_views.py, views_desk.py; not reviews.py
RECORD = "haven.audit.chain.record"

# Not application code that runs on a request or in the worker: skipped entirely.
SKIPPED = {
    "migrations": "schema history; data migrations use historical models (apps.get_model)",
}

# Writes of a views module that are not model writes, by the call as written.
VIEW_CALLS: dict[tuple[str, str], str] = {
    ("haven/intake/views.py", "conv.save"):
        "web.Conversation.save hands the answered step to intake/conversations.save, the "
        "requester's conversation store (no case exists yet, no member is present)",
}

# Writes of case models outside the cases actions, by (module, model): why each stays.
CASE_WRITERS: dict[tuple[str, str], str] = {
    ("haven/cases/search.py", "SearchToken"):
        "the blind index is derived from the content and rebuilt from it at any time; it is "
        "written inside the actions' transactions (index_text, forget) or when a member's key "
        "indexes what intake sealed (index_case)",
    ("haven/cases/search.py", "Case.indexed"):
        "index_case notes that the blind index now holds the case; nothing a person wrote changes",
    ("haven/cases/delivery.py", "CaseRecord.delivery,delivery_error"):
        "the worker notes whether a reply was delivered (the outbox's sent/failed signals); the "
        "record's content does not change",
    ("haven/cases/delivery.py", "Reminder"):
        "a notice to the desk that a reply could not be delivered, not case state",
    ("haven/cases/tasks.py", "Reminder"): "a deadline notice raised by the worker, not case state",
    ("haven/cases/tasks.py", "Deadline.reminded"):
        "the worker notes which reminder it raised, so each is raised once",
    ("haven/intake/fingerprints.py", "Reminder"):
        "a notice to the desk that a new case may duplicate an open one, not case state",
    ("haven/telegram/links.py", "Reminder"): "a notice to the desk about a chat, not case state",
}

# Writes of funds models outside its actions and ledger.
FUNDS_WRITERS: dict[tuple[str, str], str] = {
}


@dataclass(frozen=True)
class Write:
    path: str
    line: int
    what: str  # the model (``Case``, ``Case.indexed`` for an update of named fields) or the call

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.what}"


@dataclass
class Module:
    path: str  # relative to the root, with forward slashes
    name: str  # dotted
    tree: ast.Module
    imports: dict[str, str]  # local name -> dotted name it was imported as


def load(root: Path, path: Path) -> Module:
    rel = path.relative_to(root).as_posix()
    parts = rel[:-3].split("/")
    package = parts[:-1]
    name = ".".join(package if parts[-1] == "__init__" else parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    imports: dict[str, str] = {}
    for node in ast.walk(tree):  # lazy imports inside functions count as well
        if isinstance(node, ast.Import):
            for alias in node.names:
                imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname \
                    else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                imports[alias.asname or alias.name] = f"{base}.{alias.name}"
    return Module(rel, name, tree, imports)


def models_of(module: Module) -> dict[str, str]:
    """Dotted model name -> short name, and each reverse accessor (related_name) -> model."""
    found: dict[str, str] = {}
    for node in module.tree.body:
        if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Attribute) and b.attr == "Model" for b in node.bases):
            found[f"{module.name}.{node.name}"] = node.name
            for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                for kw in call.keywords:
                    if kw.arg == "related_name" and isinstance(kw.value, ast.Constant) \
                            and kw.value.value != "+":
                        found[f"related:{kw.value.value}"] = node.name
    return found


def dotted(expr: ast.expr, module: Module) -> str:
    """The dotted name an expression refers to, through the module's imports."""
    if isinstance(expr, ast.Name):
        return module.imports.get(expr.id, f"{module.name}.{expr.id}")
    if isinstance(expr, ast.Attribute):
        return f"{dotted(expr.value, module)}.{expr.attr}"
    return ""


class Scope:
    """Which model a name holds (the class, a query set or an instance) inside one function."""

    def __init__(self, module: Module, models: dict[str, str], names: dict[str, str]) -> None:
        self.module, self.models, self.names = module, models, dict(names)

    def model(self, expr: ast.expr | None) -> str | None:
        if isinstance(expr, ast.Name) and expr.id in self.names:
            return self.names[expr.id]
        if isinstance(expr, ast.Attribute):
            if expr.attr in CHAINED:
                return self.model(expr.value)
            if f"related:{expr.attr}" in self.models:
                return self.models[f"related:{expr.attr}"]
        if isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Name) and expr.func.id == "get_object_or_404" and expr.args:
                return self.model(expr.args[0])
            return self.model(expr.func)
        if isinstance(expr, ast.Subscript):
            return self.model(expr.value)
        if isinstance(expr, ast.BinOp):  # an annotation such as ``Case | None``
            return self.model(expr.left) or self.model(expr.right)
        if isinstance(expr, (ast.Name, ast.Attribute)):
            return self.models.get(dotted(expr, self.module))
        return None

    def bind(self, func: ast.AST) -> Scope:
        """A scope for ``func`` knowing its annotated parameters and assigned names."""
        inner = Scope(self.module, self.models, self.names)
        args = func.args if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs] if args else []:
            if (found := inner.model(arg.annotation)) is not None:
                inner.names[arg.arg] = found
        nodes = [n for n in _own_nodes(func) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.For))]
        for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            value = node.iter if isinstance(node, ast.For) else node.value
            if isinstance(target, ast.Tuple) and target.elts:  # ``row, created = ...get_or_create``
                target = target.elts[0]
            if not isinstance(target, ast.Name):
                continue
            if isinstance(value, ast.Dict) or (isinstance(value, ast.Call)
                                               and getattr(value.func, "id", "") == "dict"):
                inner.names[target.id] = "dict"
            elif (found := inner.model(value)) is not None:
                inner.names[target.id] = found
        return inner


def _own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or module) outside the functions defined in it."""
    for child in ast.iter_child_nodes(func):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield child
            yield from _own_nodes(child)


def calls(module: Module, models: dict[str, str]) -> Iterator[tuple[ast.Call, Scope]]:
    """Every call of the module with the scope of the function it is in."""

    def visit(node: ast.AST, scope: Scope) -> Iterator[tuple[ast.Call, Scope]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, scope.bind(child))
                continue
            if isinstance(child, ast.Call):
                yield child, scope
            yield from visit(child, scope)

    yield from visit(module.tree, Scope(module, models, {}).bind(module.tree))


def model_writes(module: Module, found: list[tuple[ast.Call, Scope]],
                 models: dict[str, str]) -> Iterator[Write]:
    """Writes of one of ``models``: the model, and for an update the fields it sets."""
    short = set(models.values())
    for call, scope in found:
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in WRITES:
            continue
        model = scope.model(func.value)
        if model not in short:
            continue
        fields = sorted(kw.arg for kw in call.keywords if kw.arg)
        what = f"{model}.{','.join(fields)}" if func.attr == "update" and fields else model
        yield Write(module.path, call.lineno, what)


def view_writes(module: Module, found: list[tuple[ast.Call, Scope]],
                allowed: dict[tuple[str, str], str]) -> Iterator[Write]:
    """In a views module: any call of a write method, and any audit entry written by hand."""
    for call, scope in found:
        func = call.func
        if dotted(func, module) == RECORD:
            yield Write(module.path, call.lineno, ast.unparse(func))
        if not isinstance(func, ast.Attribute) or func.attr not in WRITES:
            continue
        receiver = func.value
        if isinstance(receiver, ast.Name) and (receiver.id in module.imports
                                               or scope.names.get(receiver.id) == "dict"):
            continue  # a function of another module (``conversations.create``), or a dict
        if (module.path, ast.unparse(func)) not in allowed:
            yield Write(module.path, call.lineno, ast.unparse(func))


def modules(root: Path) -> list[Module]:
    paths = sorted((root / "haven").rglob("*.py"))
    return [load(root, p) for p in paths if not set(p.relative_to(root).parts) & set(SKIPPED)]


def violations(root: Path, view_calls: dict[tuple[str, str], str] = VIEW_CALLS,
               case_writers: dict[tuple[str, str], str] = CASE_WRITERS,
               funds_writers: dict[tuple[str, str], str] = FUNDS_WRITERS) -> list[Write]:
    """Every write outside its aggregate's actions that the allow-lists do not explain."""
    found = modules(root)
    by_path = {m.path: m for m in found}
    cases, funds = models_of(by_path[CASES_MODELS]), models_of(by_path[FUNDS_MODELS])
    wrong: list[Write] = []
    for module in found:
        scanned = list(calls(module, {**cases, **funds}))  # scopes know both apps' models
        if VIEWS.search(Path(module.path).stem):
            wrong += view_writes(module, scanned, view_calls)
        if module.path not in CASE_ACTIONS:
            wrong += [w for w in model_writes(module, scanned, cases)
                      if not _allowed(w, case_writers)]
        if module.path not in FUNDS_ACTIONS:
            wrong += [w for w in model_writes(module, scanned, funds)
                      if not _allowed(w, funds_writers)]
    return wrong


def _allowed(write: Write, allowed: dict[tuple[str, str], str]) -> bool:
    """Allowed by (module, model) for any write of it, or by (module, model.fields) for an update."""
    return (write.path, write.what) in allowed or (write.path, write.what.split(".")[0]) in allowed


def test_models_are_written_only_by_the_actions() -> None:
    problems = [str(w) for w in violations(ROOT)]
    assert not problems, "move these writes into the app's actions:\n" + "\n".join(problems)


def test_every_allowance_is_still_needed() -> None:
    """An allowance that matches no write any more is removed, so the lists do not rot."""
    found = {(w.path, w.what) for w in violations(ROOT, {}, {}, {})}
    models = {(path, what.split(".")[0]) for path, what in found}
    for table in (VIEW_CALLS, CASE_WRITERS, FUNDS_WRITERS):
        assert [key for key in table if key not in found | models] == []


FAKE_MODELS = """
from django.db import models

class Case(models.Model):
    number = models.IntegerField()

class CaseRecord(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="records")
"""
FAKE_WRITERS = {
    "haven/cases/actions.py": "from .models import Case\n\ndef ok():\n    Case.objects.create(number=1)\n",
    "haven/desk/views.py": """
from django.shortcuts import get_object_or_404
from haven.audit import chain
from haven.cases.models import Case

def view(request):
    context: dict = {}
    context.update(a=1)
    Case.objects.filter(pk=1).update(number=2)
    chain.record(1, "case.read")
""",
    "haven/intake/helpers.py": """
from django.shortcuts import get_object_or_404
from haven.cases import models as m
from haven.cases.models import Case

def add(case: Case | None, pk):
    case.records.create(body=b"")
    get_object_or_404(m.Case, pk=pk).delete()
    for row in Case.objects.filter(number=1).iterator():
        row.save()
""",
    "haven/funds/other.py": "def pay(p):\n    from .models import Payout\n    Payout(p).save()\n",
}


def _fake_tree(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


def test_the_checker_finds_each_kind_of_write_in_a_small_tree(tmp_path: Path) -> None:
    _fake_tree(tmp_path, {CASES_MODELS: FAKE_MODELS, **FAKE_WRITERS, FUNDS_MODELS:
                          "from django.db import models\n\nclass Payout(models.Model):\n    pass\n"})
    found = sorted(str(w) for w in violations(tmp_path, {}, {}, {}))
    assert found == sorted([
        "haven/desk/views.py:9 Case.number",  # as a write of the model
        "haven/desk/views.py:9 Case.objects.filter(pk=1).update",  # as a view that writes
        "haven/desk/views.py:10 chain.record",  # context.update (a dict) is not reported
        "haven/funds/other.py:3 Payout",
        "haven/intake/helpers.py:7 CaseRecord",
        "haven/intake/helpers.py:8 Case",
        "haven/intake/helpers.py:10 Case",
    ])


def test_a_write_planted_in_a_copy_of_haven_is_reported(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "haven", tmp_path / "haven",
                    ignore=shutil.ignore_patterns("migrations", "locale", "static", "templates",
                                                  "__pycache__"))
    views = tmp_path / "haven/desk/views.py"
    views.write_text(views.read_text(encoding="utf-8") + PLANTED_VIEW, encoding="utf-8")
    (tmp_path / "haven/telegram/planted.py").write_text(PLANTED_MODULE, encoding="utf-8")
    lines = len(views.read_text(encoding="utf-8").splitlines())
    assert sorted(str(w) for w in violations(tmp_path)) == [
        f"haven/desk/views.py:{lines} Reminder.dismissed",
        f"haven/desk/views.py:{lines} Reminder.objects.filter(pk=reminder_id).update",
        "haven/telegram/planted.py:5 Case.fraud_suspected",
    ]


PLANTED_VIEW = """

def planted(request, reminder_id):
    Reminder.objects.filter(pk=reminder_id).update(dismissed=True)
"""
PLANTED_MODULE = """from haven.cases.models import Case


def flag(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(fraud_suspected=True)
"""


if __name__ == "__main__":  # python tests/core/test_architecture.py [root]: list the writes
    import sys

    problems = violations(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
    print("\n".join(map(str, problems)) or "no writes outside the actions")
    sys.exit(1 if problems else 0)
