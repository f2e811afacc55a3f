"""``haven kb load`` and ``haven kb search "QUESTION" [--lang ru] [--org SLUG] [--json]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from haven.accounts.models import Organization
from haven.core.langs import LANGS
from haven.knowledge import service
from haven.knowledge.content import DEFAULT_ROOT, load_articles
from haven.knowledge.loader import ensure_shipped, load_shipped
from haven.knowledge.models import Article
from haven.knowledge.search import QueryError, SearchIndex


class Command(BaseCommand):
    help = "Knowledge base: load the shipped articles, or search from the command line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load content/knowledge into the database")
        load.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                          help="folder with <lang>/<slug>.md files (default: the shipped ones)")
        find = sub.add_parser("search", help="print the best articles for a question")
        find.add_argument("query")
        find.add_argument("--lang", choices=LANGS, help="preferred language")
        find.add_argument("--org", help="search as this organization (its own articles too)")
        find.add_argument("--limit", type=int, default=3)
        find.add_argument("--json", action="store_true", help="a JSON list of the hits")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "load":
            self._load(opts["root"])
        else:
            self._search(opts)

    def _load(self, root: Path) -> None:
        if not _has_tables():
            raise CommandError("the database is not set up yet: run `haven migrate` first")
        report = load_shipped(root)
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(str(report))
        if report.errors:
            raise CommandError(f"{len(report.errors)} file(s) had problems (listed above); "
                               "every other file was loaded", returncode=1)

    def _search(self, opts: dict[str, Any]) -> None:
        try:
            rows = self._hits(opts)
        except QueryError as error:
            raise CommandError(str(error), returncode=2) from None
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        elif not rows:
            self.stdout.write("Nothing found.")
        else:
            for row in rows:
                self.stdout.write(f"{row['score']:8.3f}  {row['lang']}/{row['slug']}  {row['title']}")

    def _hits(self, opts: dict[str, Any]) -> list[dict[str, Any]]:
        query, lang, limit = opts["query"], opts["lang"], opts["limit"]
        if not _has_tables():
            if opts["org"]:
                raise CommandError("the database is not set up yet: run `haven migrate` first")
            # A fresh data folder: answer from the shipped files, write nothing.
            index = SearchIndex().build(load_articles(DEFAULT_ROOT).articles)
            return [{"slug": h.slug, "lang": h.lang, "title": h.title, "score": h.score}
                    for h in index.search(query, lang=lang, limit=limit)]
        organization = None
        if opts["org"]:
            organization = Organization.objects.filter(slug=opts["org"]).first()
            if organization is None:
                raise CommandError(f"no organization {opts['org']!r}")
        if ensure_shipped():
            self.stderr.write("The database had no articles: the shipped ones were loaded.")
        hits = service.search_articles(query, lang=lang, organization=organization, limit=limit)
        return [hit.as_json() for hit in hits]


def _has_tables() -> bool:
    return Article._meta.db_table in connection.introspection.table_names()
