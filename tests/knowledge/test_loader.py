"""Loading the shipped articles into the database, and the ``haven kb`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from haven.knowledge import demo
from haven.knowledge.content import DEFAULT_ROOT
from haven.knowledge.loader import load_shipped
from haven.knowledge.models import Article
from tests.conftest import Persona

from .conftest import own_article

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of two articles in two languages, to break at will."""
    root = tmp_path / "knowledge"
    for lang in ("ru", "en"):
        (root / lang).mkdir(parents=True)
        for slug in ("acs-deadlines", "acs-appeal"):
            # Only ru and en are copied, so drop the links to the uk twins.
            text = (DEFAULT_ROOT / lang / f"{slug}.md").read_text(encoding="utf-8")
            (root / lang / f"{slug}.md").write_text(text.replace(f", uk/{slug}", ""),
                                                    encoding="utf-8")
    return root


def _shipped_keys() -> set[str]:
    return {a.key for a in Article.objects.filter(organization__isnull=True)}


def test_it_loads_every_shipped_article_once(db: None) -> None:
    first = load_shipped()
    assert first.errors == [] and first.created == first.loaded > 60
    again = load_shipped()
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert Article.objects.count() == first.created


def test_the_demo_loads_the_shipped_articles_idempotently(db: None) -> None:
    demo.load_shipped()
    demo.load_shipped()
    assert Article.objects.filter(organization__isnull=True, lang="uk").count() >= 7


def test_a_changed_file_updates_its_row_and_a_removed_file_its_row(db: None, content: Path) -> None:
    load_shipped(content)
    path = content / "en" / "acs-appeal.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: New ", 1),
                    encoding="utf-8")
    (content / "ru" / "acs-deadlines.md").unlink()
    (content / "en" / "acs-deadlines.md").write_text(
        (DEFAULT_ROOT / "en" / "acs-deadlines.md").read_text(encoding="utf-8").replace(
            "related: [ru/acs-deadlines, uk/acs-deadlines]", "related: []"), encoding="utf-8")
    report = load_shipped(content)
    assert (report.updated, report.removed) == (2, 1)
    assert Article.objects.get(lang="en", slug="acs-appeal").title.startswith("New ")
    assert _shipped_keys() == {"ru/acs-appeal", "en/acs-appeal", "en/acs-deadlines"}


def test_a_malformed_file_is_named_and_the_rest_still_load(db: None, content: Path) -> None:
    (content / "en" / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    (content / "ru" / "binary.md").write_bytes(b"\xff\xfe\x00\x00garbage")
    report = load_shipped(content)
    problems = {Path(str(e.path)).name: str(e) for e in report.errors}
    assert set(problems) == {"broken.md", "binary.md"}
    assert "not valid YAML" in problems["broken.md"] and "broken.md:" in problems["broken.md"]
    assert "not UTF-8" in problems["binary.md"]
    assert _shipped_keys() == {"ru/acs-deadlines", "ru/acs-appeal", "en/acs-deadlines", "en/acs-appeal"}


def test_a_broken_edit_keeps_the_last_good_version(db: None, content: Path) -> None:
    load_shipped(content)
    (content / "en" / "acs-appeal.md").write_text("no front matter\n", encoding="utf-8")
    report = load_shipped(content)
    assert "en/acs-appeal.md:1: file must start with a '---' line" in str(report.errors[0])
    assert "en/acs-appeal" in _shipped_keys()


def test_loading_never_touches_an_organizations_articles(alice: Persona, content: Path) -> None:
    own_article(alice.org, lang="en", slug="acs-deadlines", title="Ours")
    load_shipped(content)
    (content / "en" / "acs-deadlines.md").unlink()
    load_shipped(content)
    assert Article.objects.get(organization=alice.org, slug="acs-deadlines").title == "Ours"


def test_the_load_command_reports_problems_and_fails(db: None, content: Path) -> None:
    (content / "en" / "bad-topic.md").write_text(
        (content / "en" / "acs-appeal.md").read_text(encoding="utf-8").replace(
            "topic: acs", "topic: weather"), encoding="utf-8")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("kb", "load", "--root", str(content), stdout=out, stderr=err)
    assert "bad-topic.md:" in err.getvalue() and "unknown topic 'weather'" in err.getvalue()
    assert "4 articles loaded" in out.getvalue()
    assert len(_shipped_keys()) == 4


def test_the_search_command_prints_json(db: None) -> None:
    out = StringIO()
    call_command("kb", "search", "не опоздал ли я с заявлением на АГС?", "--lang", "ru", "--json",
                 stdout=out, stderr=StringIO())
    hits = json.loads(out.getvalue())
    assert hits[0] == {"slug": "acs-late-filing", "lang": "ru", "title": hits[0]["title"],
                       "score": hits[0]["score"]}
    assert 1 <= len(hits) <= 3


def test_the_search_command_searches_as_an_organization(alice: Persona) -> None:
    own_article(alice.org, title="Zanzibar ferry timetable")
    out = StringIO()
    call_command("kb", "search", "zanzibar ferry", "--org", "first", "--json", stdout=out,
                 stderr=StringIO())
    assert json.loads(out.getvalue())[0]["slug"] == "our-office"
    with pytest.raises(CommandError, match="no organization"):
        call_command("kb", "search", "zanzibar", "--org", "nobody", stdout=StringIO())


def test_the_search_command_refuses_a_bad_query_clearly(db: None) -> None:
    with pytest.raises(CommandError, match="empty"):
        call_command("kb", "search", "   ", stdout=StringIO(), stderr=StringIO())


def _haven(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(HAVEN_MODE="test", HAVEN_DATA=str(data), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "haven.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_search_command_works_on_a_fresh_data_folder(tmp_path: Path) -> None:
    done = _haven(tmp_path / "fresh", "kb", "search", "can I cross into the EU with only a birth "
                  "certificate?", "--lang", "en", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits[0]["slug"] == "ukrainian-documents"
    assert set(hits[0]) == {"slug", "lang", "title", "score"}


def test_the_command_loads_the_articles_into_an_empty_database(tmp_path: Path) -> None:
    data = tmp_path / "migrated"
    assert _haven(data, "migrate", "-v", "0").returncode == 0
    done = _haven(data, "kb", "search", "повестка", "--lang", "ru")
    assert done.returncode == 0, done.stderr
    assert "shipped ones were loaded" in done.stderr
    assert "ru/electronic-summons" in done.stdout
    loaded = _haven(data, "kb", "load")
    assert loaded.returncode == 0 and "0 new, 0 changed" in loaded.stdout
    bad = _haven(data, "kb", "search", "")
    assert bad.returncode != 0 and "empty" in bad.stderr and "Traceback" not in bad.stderr
