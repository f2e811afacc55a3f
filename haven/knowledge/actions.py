"""Changes a coordinator makes to the knowledge base, each audited in its transaction.

Views never change articles by hand: they call these. Audit entries name the
article (lang, slug), not its content. Every write sets ``updated`` so that the
search index of every process is rebuilt on its next search.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from haven.accounts.models import Member, Role
from haven.audit import chain

from .models import Article

EDITORS = (Role.ADMIN, Role.COORDINATOR)


class ArticleExists(ValueError):
    """The organization already has its own article with this language and slug."""


@dataclass
class ArticleData:
    title: str
    topic: str
    body_markdown: str
    tags: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    unverified: bool = False

    @classmethod
    def of(cls, article: Article) -> ArticleData:
        return cls(article.title, article.topic, article.body_markdown, list(article.tags),
                   list(article.related), [dict(s) for s in article.sources], article.unverified)


def can_edit(member: Member) -> bool:
    return member.is_authenticated and member.has_role(*EDITORS)


def own_article(member: Member, lang: str, slug: str) -> Article:
    """The member's organization's own article, or 404 (also for another's)."""
    article = Article.objects.filter(organization_id=member.organization_id, lang=lang,
                                     slug=slug).first()
    if article is None:
        raise Http404
    return article


def shipped_article(lang: str, slug: str) -> Article:
    article = Article.objects.filter(organization__isnull=True, lang=lang, slug=slug).first()
    if article is None:
        raise Http404
    return article


def create_article(member: Member, lang: str, slug: str, data: ArticleData) -> Article:
    with transaction.atomic():
        if Article.objects.filter(organization_id=member.organization_id, lang=lang,
                                  slug=slug).exists():
            raise ArticleExists(f"{lang}/{slug}")
        article = Article.objects.create(organization_id=member.organization_id, lang=lang,
                                         slug=slug, updated=timezone.now(), **_fields(data))
        _audit(member, "kb.article.created", article)
    return article


def update_article(member: Member, article: Article, data: ArticleData) -> Article:
    _require_own(member, article)
    with transaction.atomic():
        for name, value in _fields(data).items():
            setattr(article, name, value)
        article.updated = timezone.now()
        article.save()
        _audit(member, "kb.article.edited", article)
    return article


def override_article(member: Member, shipped: Article) -> Article:
    """The organization's copy of a shipped article (made now, or the existing one)."""
    if not shipped.is_shipped:
        raise Http404
    with transaction.atomic():
        existing = Article.objects.filter(organization_id=member.organization_id,
                                          lang=shipped.lang, slug=shipped.slug).first()
        if existing is not None:
            return existing
        copy = Article.objects.create(
            organization_id=member.organization_id, lang=shipped.lang, slug=shipped.slug,
            reviewed_on=shipped.reviewed_on, reviewed_by=shipped.reviewed_by,
            updated=timezone.now(), **_fields(ArticleData.of(shipped)))
        _audit(member, "kb.article.overridden", copy)
    return copy


def mark_reviewed(member: Member, lang: str, slug: str, today: dt.date | None = None) -> Article:
    """Reviewed today by the member's organization; a shipped article is copied first."""
    with transaction.atomic():
        article = Article.objects.filter(organization_id=member.organization_id, lang=lang,
                                         slug=slug).first()
        if article is None:
            article = override_article(member, shipped_article(lang, slug))
        article.reviewed_on = today or timezone.localdate()
        article.reviewed_by = member.organization.name
        article.unverified = False  # reviewed means the organization confirmed it
        article.updated = timezone.now()
        article.save()
        _audit(member, "kb.article.reviewed", article)
    return article


def delete_article(member: Member, article: Article) -> None:
    """Remove the organization's own article; a shipped one it overrode shows again."""
    _require_own(member, article)
    with transaction.atomic():
        _audit(member, "kb.article.deleted", article)
        article.delete()


def _fields(data: ArticleData) -> dict[str, Any]:
    return {"title": data.title, "topic": data.topic, "body_markdown": data.body_markdown,
            "tags": data.tags, "related": data.related, "sources": data.sources,
            "unverified": data.unverified}


def _require_own(member: Member, article: Article) -> None:
    if article.organization_id != member.organization_id:
        raise Http404


def _audit(member: Member, action: str, article: Article) -> None:
    chain.record(member.organization_id, action, actor_id=member.pk,
                 detail={"lang": article.lang, "slug": article.slug})
