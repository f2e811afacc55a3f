"""Every deliberate departure from plain Django is listed in docs/dangerous-constructs.md.

The scan below finds raw SQL, HTML marked safe or built in Python, references
without constraints, CSRF exemptions, the hand-written Shamir code, the demo
marker and redirects taken from the request. A file that has one and is not
listed in the document under that construct fails the test: write down why it
is safe and which test holds it, then add it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from haven.core.worker import refresh_planner_statistics
from haven.telegram import pacing, render

ROOT = Path(__file__).resolve().parents[2]
HAVEN = ROOT / "haven"
DOC = ROOT / "docs" / "dangerous-constructs.md"
HTML = ("mark_safe", "format_html", "|safe", "HTML built in Python")
_TAGS = "a|b|i|u|s|em|strong|span|small|time|code|pre|svg|br|p|div|ul|li|ol|h[1-6]|sup|section|table"

# construct: (pattern, the document's construct names a file may be listed under)
CONSTRUCTS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "raw SQL": (re.compile(r"\.cursor\(\)|\.raw\(|\bRawSQL\b|\.extra\(|\bRunSQL\b|"
                           r"schema_editor\.execute"), ("raw SQL",)),
    "mark_safe": (re.compile(r"\bmark_safe\(|\bSafeString\(|\bSafeText\("), HTML),
    "format_html": (re.compile(r"\bformat_html(_join)?\("), HTML),
    "|safe": (re.compile(r"\|\s*safe(seq)?\b|autoescape\s+off"), ("|safe",)),
    "HTML built in Python": (re.compile(rf"""[f]?["']</?({_TAGS})[ >/]"""), HTML),
    "db_constraint=False": (re.compile(r"db_constraint\s*=\s*False"), ("db_constraint=False",)),
    "csrf_exempt": (re.compile(r"\bcsrf_exempt\b"), ("csrf_exempt",)),
    "Shamir": (re.compile(r"shamir|GF\(2\^8\)|GF\(256\)", re.IGNORECASE), ("Shamir",)),
    "DEMO marker": (re.compile(r"\bDEMO_MARKER\b"), ("DEMO marker",)),
    "redirect from the request": (re.compile(
        r"redirect\([^)\n]*request\.|HttpResponseRedirect\([^)\n]*request\.|"
        r"""(POST|GET)\.get\(\s*["']next["']|url_has_allowed_host_and_scheme"""),
        ("redirect from the request",)),
}


def _documented() -> dict[str, set[str]]:
    """construct name -> files listed for it in the document's tables."""
    listed: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = line.replace("\\|", "\0").split("|")
        if not line.startswith("| ") or len(cells) < 4 or cells[1].strip() == "construct":
            continue
        name = cells[1].strip().replace("\0", "|")
        listed.setdefault(name, set()).update(re.findall(r"`(haven/[^`]+?)`", cells[2]))
    return listed


def _found() -> dict[str, set[str]]:
    """construct name -> files under haven/ that contain it."""
    found: dict[str, set[str]] = {name: set() for name in CONSTRUCTS}
    for path in sorted([*HAVEN.rglob("*.py"), *HAVEN.rglob("*.html")]):
        text = path.read_text(encoding="utf-8")
        for name, (pattern, _names) in CONSTRUCTS.items():
            if pattern.search(text):
                found[name].add(str(path.relative_to(ROOT)))
    return found


def test_every_dangerous_construct_is_listed_with_its_file() -> None:
    listed, missing = _documented(), []
    for name, files in _found().items():
        allowed = set().union(*(listed.get(n, set()) for n in CONSTRUCTS[name][1]))
        missing += [f"{name}: {path}" for path in sorted(files - allowed)]
    assert not missing, f"add these to docs/dangerous-constructs.md, with why and the test: {missing}"


def test_the_scan_finds_what_the_document_lists() -> None:
    # Guards the scan itself: a pattern that matched nothing would pass the test above.
    listed, found = _documented(), _found()
    for name in CONSTRUCTS:
        assert found[name], f"the pattern for {name!r} finds nothing"
    for name, files in listed.items():
        assert name in CONSTRUCTS, f"the document lists an unknown construct {name!r}"
        for path in files:
            assert (ROOT / path).exists(), f"{path} is listed but does not exist"
        assert files & set().union(*(found[n] for n in CONSTRUCTS if name in CONSTRUCTS[n][1])), \
            f"nothing listed under {name!r} still has it"


def test_the_document_names_only_tests_that_exist() -> None:
    text = DOC.read_text(encoding="utf-8")
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text):
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M), \
            f"{path}::{name} is named in the document but does not exist"


def test_telegram_markup_escapes_what_it_wraps() -> None:
    hostile = '<a href="x">&'
    escaped = '&lt;a href="x"&gt;&amp;'  # text between tags: quotes need no escaping
    assert render.bold(hostile) == f"<b>{escaped}</b>"
    assert render.italic(hostile) == f"<i>{escaped}</i>"
    assert render.code(hostile) == f"<code>{escaped}</code>"


@pytest.mark.django_db
def test_sqlite_statistics_are_refreshed_and_postgresql_is_left_alone() -> None:
    assert refresh_planner_statistics() == (1 if connection.vendor == "sqlite" else 0)


@pytest.mark.django_db(transaction=True)
def test_pacing_turns_off_the_disk_flush_only_in_its_own_transaction() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    with transaction.atomic():
        pacing.no_fsync()
        assert setting() == "off"
    assert setting() == "on"


def _haven(data: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "haven.cli", "--data", str(data), *args], cwd=ROOT,
        env={**base, "DATABASE_URL": "", **env}, capture_output=True, text=True, timeout=120,
        check=False)


def test_a_demo_folder_runs_in_demo_mode_but_an_explicit_mode_wins(tmp_path: Path) -> None:
    show = ("shell", "-c", "from django.conf import settings; print(settings.MODE)")
    (tmp_path / "DEMO").write_text("This data folder belongs to a Haven demo.\n")
    demo = _haven(tmp_path, {}, *show)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip().splitlines()[-1] == "demo"
    explicit = _haven(tmp_path, {"HAVEN_MODE": "production"}, *show)
    assert explicit.returncode != 0
    assert "refusing to start: HAVEN_SECRET_KEY is not set" in explicit.stderr
