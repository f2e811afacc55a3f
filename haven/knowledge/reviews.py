"""An organization's review of its articles, as the web pages, the bot and the desk show it.

Each organization reviews the articles it shows: a shipped article reviewed
by organization A is reviewed for A only, and A's own copy of it carries its
own reviews. The latest record decides the state: "law changed — under
review" until the next review, else "changed since the review" when the text
differs from the one reviewed, else "reviewed", or "overdue" once older than
the organization's review age. Writes go through ``actions``.

Readers (the public pages and the bot) see which organization reviewed an
article and when; the reviewer's name is for colleagues only (it is the "name
shown to colleagues" and may be a real name), so ``public=True`` leaves it out.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Organization

from .models import Article, ArticleReview, KnowledgeSettings, ReviewStatus

REVIEW_AGE_DEFAULT = 6
REVIEW_AGE_MIN, REVIEW_AGE_MAX = 1, 36  # months
DIFF_CONTEXT = 2  # unchanged lines shown around a change

NO_ORGANIZATION = "none"
UNREVIEWED = "unreviewed"
OVERDUE = "overdue"
CHANGED = "changed"  # edited (or updated by Haven) after the last review
LAW_CHANGED = ReviewStatus.LAW_CHANGED.value
REVIEWED = ReviewStatus.REVIEWED.value


@dataclass(frozen=True)
class ReviewState:
    state: str
    organization: str = ""
    reviewed_on: dt.date | None = None
    reviewer: str = ""
    note: str = ""

    @property
    def is_warning(self) -> bool:
        return self.state in (UNREVIEWED, OVERDUE, LAW_CHANGED, CHANGED)

    def sentence(self) -> str:
        """One line in the active language, for the page, the bot and the desk."""
        values = {"org": self.organization, "name": self.reviewer,
                  "date": self.reviewed_on.isoformat() if self.reviewed_on else ""}
        if self.state == NO_ORGANIZATION:
            return _("Not reviewed by an organization.")
        if self.state == UNREVIEWED:
            return _("Not yet reviewed by %(org)s.") % values
        if self.state == LAW_CHANGED:
            return _("Law changed — under review at %(org)s since %(date)s.") % values
        if self.state == CHANGED and not self.reviewer:
            return _("Changed since it was reviewed on %(date)s by %(org)s.") % values
        if self.state == CHANGED:
            return _("Changed since it was reviewed on %(date)s by %(name)s (%(org)s).") % values
        if self.state == OVERDUE and not self.reviewer:
            return _("Review overdue: last reviewed on %(date)s by %(org)s.") % values
        if self.state == OVERDUE:
            return _("Review overdue: last reviewed on %(date)s by %(name)s (%(org)s).") % values
        if not self.reviewer:
            return _("Reviewed on %(date)s by %(org)s.") % values
        return _("Reviewed on %(date)s by %(name)s (%(org)s).") % values


def review_age(organization: Organization) -> int:
    row = KnowledgeSettings.objects.filter(organization=organization).first()
    return row.review_age_months if row else REVIEW_AGE_DEFAULT


def state_for(organization: Organization | None, article: Article,
              today: dt.date | None = None, *, public: bool = False) -> ReviewState:
    return states_for(organization, [article], today, public=public)[article.pk]


def states_for(organization: Organization | None, articles: Iterable[Article],
               today: dt.date | None = None, *, public: bool = False) -> dict[int, ReviewState]:
    """Each article's state for ``organization`` (by article id), in two queries.

    ``public``: for readers, without the reviewer's name.
    """
    articles = list(articles)
    if organization is None:
        return {a.pk: ReviewState(NO_ORGANIZATION) for a in articles}
    latest = _latest(organization, [a.pk for a in articles])
    due = _add_months(today or timezone.localdate(), -review_age(organization))
    states = {a.pk: _state(organization, a, latest.get(a.pk), due) for a in articles}
    if public:
        states = {pk: dataclasses.replace(state, reviewer="") for pk, state in states.items()}
    return states


def last_reviewed(organization: Organization, article: Article) -> ArticleReview | None:
    """The organization's latest "reviewed" record of this article row (not law-changed)."""
    return (ArticleReview.objects.filter(organization=organization, article=article,
                                         status=ReviewStatus.REVIEWED)
            .order_by("-reviewed_at", "-pk").first())


def history(organization: Organization, article: Article, limit: int = 20) -> list[ArticleReview]:
    """The organization's latest records of this article row, newest first."""
    return list(ArticleReview.objects.filter(organization=organization, article=article)
                .order_by("-reviewed_at", "-pk")[:limit])


def text_digest(article: Article | ArticleReview) -> str:
    """What a reviewer saw: a review is refused if the text changed since the page was shown."""
    material = json.dumps([article.title, article.body_markdown, article.sources],
                          ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass
class DiffSection:
    label: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # ("added"|"removed"|"same"|"gap", text)


def changes_since(review: ArticleReview, article: Article) -> list[DiffSection]:
    """Line by line what changed in title, text and sources; only sections that changed."""
    pairs = [(_("Title"), [review.title], [article.title]),
             (_("Text"), review.body_markdown.splitlines(), article.body_markdown.splitlines()),
             (_("Sources"), _source_lines(review.sources), _source_lines(article.sources))]
    return [DiffSection(str(label), _diff(old, new)) for label, old, new in pairs if old != new]


def _diff(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for number, group in enumerate(matcher.get_grouped_opcodes(DIFF_CONTEXT)):
        if number:
            lines.append(("gap", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [("same", line) for line in old[i1:i2]]
                continue
            lines += [("removed", line) for line in old[i1:i2]]
            lines += [("added", line) for line in new[j1:j2]]
    return lines


def _source_lines(sources: list[dict[str, str | None]]) -> list[str]:
    return [(s.get("title") or "") + (f" — {s['url']}" if s.get("url") else "") for s in sources]


def _latest(organization: Organization, article_ids: list[int]) -> dict[int, ArticleReview]:
    latest: dict[int, ArticleReview] = {}
    rows = (ArticleReview.objects.filter(organization=organization, article_id__in=article_ids)
            .order_by("reviewed_at", "pk"))
    for row in rows:
        latest[row.article_id] = row  # ascending: the last one wins
    return latest


def _state(organization: Organization, article: Article, review: ArticleReview | None,
           due: dt.date) -> ReviewState:
    if review is None:
        return ReviewState(UNREVIEWED, organization.name)
    on = timezone.localdate(review.reviewed_at)
    if review.status == LAW_CHANGED:
        state = LAW_CHANGED
    elif text_digest(review) != text_digest(article):
        state = CHANGED
    else:
        state = OVERDUE if on < due else REVIEWED
    return ReviewState(state, organization.name, on, review.reviewer_name, review.note)


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, the day clamped to the month's end (31 Aug - 6 = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))
