"""Changes to the knowledge base (articles, reviews, review age), each audited in its transaction.

Views never change articles by hand: they call these. Audit entries name the
article (lang, slug), not its content. Every write sets ``updated`` so that the
search index of every process is rebuilt on its next search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from haven.accounts.models import Member
from haven.accounts.rights import Right, can
from haven.audit import chain

from . import reviews
from .models import Article, ArticleReview, KnowledgeSettings, ReviewStatus


class TextChanged(ValueError):
    """The article changed after the reviewer opened it: look again before reviewing."""


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
    return can(member, Right.KNOWLEDGE_EDIT)


def can_review(member: Member) -> bool:
    """Given the reviewer right by an administrator; a role alone does not give it."""
    return member.is_authenticated and member.is_active and member.can_review_knowledge


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
    """The organization's copy of a shipped article (made now, or the existing one).

    The copy starts unreviewed: reviews of the shipped text stay with it.
    """
    if not shipped.is_shipped:
        raise Http404
    with transaction.atomic():
        existing = Article.objects.filter(organization_id=member.organization_id,
                                          lang=shipped.lang, slug=shipped.slug).first()
        if existing is not None:
            return existing
        copy = Article.objects.create(
            organization_id=member.organization_id, lang=shipped.lang, slug=shipped.slug,
            updated=timezone.now(), **_fields(ArticleData.of(shipped)))
        _audit(member, "kb.article.overridden", copy)
    return copy


def record_review(member: Member, article: Article, status: str, note: str = "",
                  seen: str | None = None) -> ArticleReview:
    """The member's organization reviewed ``article`` as shown now (or marks the law changed).

    Only a member given the reviewer right; the article must be one the
    organization shows (shipped or its own), else 404. ``seen`` is the
    ``text_digest`` of the text the reviewer read: if it changed since, nothing
    is recorded and ``TextChanged`` is raised.
    """
    if not can_review(member) or article.organization_id not in (None, member.organization_id):
        raise Http404
    if status not in ReviewStatus.values:
        raise ValueError(status)
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if seen is not None and seen != reviews.text_digest(article):
            raise TextChanged(article.key)
        review = ArticleReview.objects.create(
            organization_id=member.organization_id, article=article, status=status,
            title=article.title, body_markdown=article.body_markdown, sources=article.sources,
            reviewer_name=member.display_name or member.username, note=note.strip()[:300])
        action = "kb.article.reviewed" if status == ReviewStatus.REVIEWED else "kb.article.law_changed"
        chain.record(member.organization_id, action, actor_id=member.pk,
                     detail={"lang": article.lang, "slug": article.slug,
                             "own": not article.is_shipped})
    return review


def set_review_age(member: Member, months: int) -> None:
    """After how many months the organization's reviews are overdue."""
    if not can_edit(member):
        raise Http404
    if not reviews.REVIEW_AGE_MIN <= months <= reviews.REVIEW_AGE_MAX:
        raise ValueError(months)
    with transaction.atomic():
        KnowledgeSettings.objects.update_or_create(organization_id=member.organization_id,
                                                   defaults={"review_age_months": months})
        chain.record(member.organization_id, "kb.review_age", actor_id=member.pk,
                     detail={"months": months})


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
