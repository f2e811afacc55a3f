"""Loading the shipped articles from ``content/knowledge`` into the database.

Idempotent: an unchanged file changes nothing (so the search index is not
rebuilt for nothing), a changed file updates its row, a removed file removes
its row. A broken file is reported with its path and problem and keeps its
last good row, if any; every other file still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from haven.core.langs import LANGS

from .content import DEFAULT_ROOT, Article, ContentError, load_articles
from .models import Article as ArticleRow

_FIELDS = ("title", "topic", "tags", "related", "sources", "organizations", "body_markdown",
           "reviewed_on", "reviewed_by", "unverified")


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[ContentError] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return (f"{self.loaded} articles loaded ({self.created} new, {self.updated} changed, "
                f"{self.unchanged} unchanged), {self.removed} removed, "
                f"{len(self.errors)} with problems")


def load_shipped(root: Path = DEFAULT_ROOT) -> LoadReport:
    """Bring the shipped rows (organization NULL) in line with the files under ``root``."""
    result = load_articles(root)
    report = LoadReport(errors=list(result.errors))
    if not root.is_dir():
        return report  # nothing to compare with: never wipe the rows for a missing folder
    keep = {(a.lang, a.slug) for a in result.articles}
    # A broken file keeps its last good row: it is still "present".
    keep |= {(e.path.parent.name, e.path.stem) for e in result.errors if e.path.suffix == ".md"}
    with transaction.atomic():
        existing = {(row.lang, row.slug): row
                    for row in ArticleRow.objects.filter(organization__isnull=True)}
        for article in result.articles:
            _sync(article, existing.get((article.lang, article.slug)), report)
        gone = [row.pk for key, row in existing.items() if key not in keep and key[0] in LANGS]
        report.removed = ArticleRow.objects.filter(pk__in=gone).delete()[0]
    return report


def ensure_shipped() -> bool:
    """Load the shipped articles if the database has none; True if it loaded them."""
    if ArticleRow.objects.filter(organization__isnull=True).exists():
        return False
    try:
        return load_shipped().created > 0
    except IntegrityError:
        return False  # another process loaded them at the same moment


def _values(article: Article) -> dict[str, Any]:
    return {
        "title": article.title, "topic": article.topic, "tags": list(article.tags),
        "related": list(article.related),
        "sources": [{"title": s.title, "url": s.url, "consulted": s.consulted}
                    for s in article.sources],
        "organizations": list(article.organizations),
        "body_markdown": article.body_markdown, "reviewed_on": article.reviewed_on,
        "reviewed_by": article.reviewed_by, "unverified": article.unverified,
    }


def _sync(article: Article, row: ArticleRow | None, report: LoadReport) -> None:
    values = _values(article)
    if row is None:
        ArticleRow.objects.create(organization=None, lang=article.lang, slug=article.slug,
                                  updated=timezone.now(), **values)
        report.created += 1
    elif any(getattr(row, name) != values[name] for name in _FIELDS):
        for name, value in values.items():
            setattr(row, name, value)
        row.updated = timezone.now()
        row.save()
        report.updated += 1
    else:
        report.unchanged += 1
