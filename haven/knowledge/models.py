"""Knowledge-base articles and channel posts.

Knowledge content is public guidance, not requester data: articles, their
review dates and the text of posts to an organization's public Telegram
channel are stored in clear, so that the web pages, the bot and the worker
can read them with no member present. Nothing a requester wrote is kept here.

An article with ``organization`` NULL is shipped with Haven (loaded from
``content/knowledge``); an organization's own article with the same
(lang, slug) overrides it for that organization's pages, bot and desk.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.langs import LANGUAGE_NAMES


class Lang(models.TextChoices):
    RU = "ru", LANGUAGE_NAMES["ru"]
    UK = "uk", LANGUAGE_NAMES["uk"]
    EN = "en", LANGUAGE_NAMES["en"]


class Article(models.Model):
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=100)
    lang = models.CharField(max_length=2, choices=Lang.choices)
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=40)
    tags = models.JSONField(default=list)  # ["ACS", "deadline", ...]
    related = models.JSONField(default=list)  # ["en/acs-deadlines", ...]: translations
    sources = models.JSONField(default=list)  # [{"title": ..., "url": ..., "consulted": ...}]
    # Ids from content/knowledge/organizations.yaml that the body names.
    organizations = models.JSONField(default=list, blank=True)
    body_markdown = models.TextField()
    # The front matter's sign-off of a shipped article (a lawyer, in the repository).
    # An organization's review is an ArticleReview; its own rows leave these empty.
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=200, blank=True)
    unverified = models.BooleanField(default=False)
    # Every write sets this: the search index is rebuilt when it moves.
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "lang", "slug"],
                                    name="kb_article_unique"),
            # NULLs are distinct in a unique constraint: shipped rows need their own.
            models.UniqueConstraint(fields=["lang", "slug"], condition=Q(organization__isnull=True),
                                    name="kb_shipped_article_unique"),
        ]
        indexes = [models.Index(fields=["organization", "lang", "topic"])]

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.slug}"

    @property
    def is_shipped(self) -> bool:
        return self.organization_id is None


class ReviewStatus(models.TextChoices):
    REVIEWED = "reviewed", _("Reviewed")
    LAW_CHANGED = "law_changed", _("Law changed — under review")


class ArticleReview(models.Model):
    """One organization's review of one article row (a shipped one or its own override).

    The reviewed text is kept so that the next reviewer sees what changed since.
    It is public content, stored in clear like the article. The reviewer's
    display name is copied so that the record reads the same after they leave.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices)
    title = models.CharField(max_length=200)
    body_markdown = models.TextField()
    sources = models.JSONField(default=list)
    reviewer_name = models.CharField(max_length=100)
    note = models.CharField(max_length=300, blank=True)
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "article", "-reviewed_at"])]


class KnowledgeSettings(models.Model):
    """An organization's knowledge-base settings: after how long a review is overdue."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="+")
    review_age_months = models.PositiveSmallIntegerField(default=6)


class PostStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Being posted")
    POSTED = "posted", _("Posted")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ChannelPost(models.Model):
    """An article or a short text to be posted to the organization's Telegram channel.

    The text goes to a public channel, so it is stored in clear like the articles.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    text = models.TextField(blank=True)
    lang = models.CharField(max_length=2, choices=Lang.choices)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=20, choices=PostStatus.choices,
                              default=PostStatus.SCHEDULED)
    error = models.CharField(max_length=200, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # The outbox row carrying the post while it is queued.
    outbox_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "scheduled_for"]),
                   models.Index(fields=["organization", "-scheduled_for"])]
