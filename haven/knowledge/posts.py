"""Posts to an organization's Telegram channel: scheduled here, sent by the bot's outbox.

A coordinator schedules an article or a short text. When it is due the worker
(``tasks.queue_channel_posts``) renders it for Telegram's HTML parse mode and
puts it in the outbox as a row with channel ``"telegram-channel"``, no case
and no record, and the payload::

    {"text": <HTML, at most 4,096 characters>, "parse_mode": "HTML",
     "post": <ChannelPost id>, "organization": <Organization id>, "lang": "ru"}

The Telegram integration registers the ``"telegram-channel"`` handler
(``haven.outbox.register``) that sends the text to the organization's
channel through the bot client. Its ``send`` must call
``mark_post(payload["post"], ok=True)`` after a successful send, and
``mark_post(payload["post"], ok=False, error=code)`` before raising a permanent
``DeliveryError``. A transient failure just raises ``DeliveryError``: the outbox
retries, and the coordinator sees "being posted" with the last error. If the
outbox gives up without the handler saying so, ``reconcile_posts`` marks the post
failed once its row is gone.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven import outbox
from haven.accounts.models import Member, Organization
from haven.audit import chain
from haven.core.errors import Refusal
from haven.outbox.models import Outbox

from .models import Article, ChannelPost, PostStatus
from .plaintext import TELEGRAM_LIMIT, escape_for_telegram, telegram_text
from .service import article_url

CHANNEL = "telegram-channel"
BATCH = 20


class PostError(Refusal, ValueError):
    """The post cannot be rendered for Telegram; the message says why."""


def render_post(post: ChannelPost) -> str:
    """The post's text for Telegram's HTML parse mode; raises PostError."""
    if post.article_id is not None:
        article = Article.objects.filter(pk=post.article_id).first()
        if article is None:
            raise PostError(_("The article was deleted."))
        return telegram_text(article, article_url(article.lang, article.slug, post.organization))
    if post.text.strip():
        rendered = escape_for_telegram(post.text)
        if len(rendered) > TELEGRAM_LIMIT:
            raise PostError(_("The text is %(n)d characters long once prepared for Telegram, "
                              "which takes at most %(max)d. Shorten it.")
                            % {"n": len(rendered), "max": TELEGRAM_LIMIT})
        return rendered
    if post.pk:  # saved with an article or a text: the article was deleted since
        raise PostError(_("The article was deleted."))
    raise PostError(_("Choose an article or write a short text."))


def schedule_post(member: Member, *, article: Article | None, text: str, lang: str,
                  when: dt.datetime) -> ChannelPost:
    """Schedule an article of the organization's view, or a short text."""
    if article is not None and article.organization_id not in (None, member.organization_id):
        raise PostError(_("Choose an article of your organization."))
    post = ChannelPost(organization_id=member.organization_id, article=article,
                       text="" if article is not None else text.strip(),
                       lang=article.lang if article is not None else lang,
                       scheduled_for=when, created_by=member)
    render_post(post)  # refuse now what would fail later
    with transaction.atomic():
        post.save()
        chain.record(member.organization_id, "kb.post.scheduled", actor_id=member.pk,
                     detail={"post": post.pk, **_what(post)})
    return post


def cancel_post(member: Member, post: ChannelPost) -> bool:
    """Cancel a post that is still only scheduled; False if it already went out."""
    with transaction.atomic():
        done = ChannelPost.objects.filter(pk=post.pk, organization_id=member.organization_id,
                                          status=PostStatus.SCHEDULED).update(
            status=PostStatus.CANCELLED)
        if done:
            chain.record(member.organization_id, "kb.post.cancelled", actor_id=member.pk,
                         detail={"post": post.pk})
    return bool(done)


def queue_due_posts(now: dt.datetime | None = None) -> int:
    """Move due scheduled posts into the outbox; returns how many were handled."""
    now = now or timezone.now()
    due = list(ChannelPost.objects.filter(status=PostStatus.SCHEDULED, scheduled_for__lte=now)
               .select_related("organization").order_by("scheduled_for", "pk")[:BATCH])
    for post in due:
        _queue(post)
    return len(due)


def enqueue_channel_message(organization: Organization, text: str, post: ChannelPost) -> Outbox:
    """An outbox row for the organization's channel (no case, no record). In a transaction."""
    payload = {"text": text, "parse_mode": "HTML", "post": post.pk,
               "organization": organization.pk, "lang": post.lang}
    return Outbox.objects.create(organization=organization, case=None, record=None,
                                 channel=CHANNEL, payload=outbox.seal_payload(payload))


def mark_post(post_id: int, ok: bool, error: str = "") -> None:
    """Called by the channel's outbox handler after a send: posted, or failed with ``error``."""
    with transaction.atomic():
        post = ChannelPost.objects.select_for_update().filter(pk=post_id).first()
        if post is None or post.status != PostStatus.QUEUED:
            return  # a second word on the same send changes nothing
        post.status = PostStatus.POSTED if ok else PostStatus.FAILED
        post.error = "" if ok else (error or "failed")[:200]
        post.posted_at = timezone.now() if ok else None
        post.save(update_fields=["status", "error", "posted_at"])
        chain.record(post.organization_id, "kb.post.posted" if ok else "kb.post.failed",
                     detail={"post": post.pk})


def reconcile_posts() -> int:
    """Queued posts whose outbox row is gone without a word from the handler: failed."""
    # Read the queued posts first: a post queued after this line is not judged.
    queued = list(ChannelPost.objects.filter(status=PostStatus.QUEUED)
                  .values_list("pk", "outbox_id"))
    alive = set(Outbox.objects.filter(channel=CHANNEL, pk__in=[row for _, row in queued])
                .values_list("pk", flat=True))
    lost = [post_id for post_id, row in queued if row not in alive]
    for post_id in lost:
        mark_post(post_id, ok=False, error="delivery failed: the outbox gave up")
    return len(lost)


def last_errors(posts: list[ChannelPost]) -> dict[int, str]:
    """The outbox's last error per queued post: shown while it is retried."""
    ids = {p.outbox_id: p.pk for p in posts if p.status == PostStatus.QUEUED and p.outbox_id}
    return {ids[row_id]: error for row_id, error in
            Outbox.objects.filter(pk__in=ids).exclude(last_error="")
            .values_list("pk", "last_error")}


def _queue(post: ChannelPost) -> None:
    with transaction.atomic():
        # The conditional update is the claim: two workers never queue one post twice.
        claimed = ChannelPost.objects.filter(pk=post.pk, status=PostStatus.SCHEDULED).update(
            status=PostStatus.QUEUED)
        if not claimed:
            return
        try:
            text = render_post(post)
        except PostError as exc:
            ChannelPost.objects.filter(pk=post.pk).update(status=PostStatus.FAILED,
                                                          error=str(exc)[:200])
            chain.record(post.organization_id, "kb.post.failed", detail={"post": post.pk})
            return
        row = enqueue_channel_message(post.organization, text, post)
        ChannelPost.objects.filter(pk=post.pk).update(outbox_id=row.pk)
        chain.record(post.organization_id, "kb.post.queued", detail={"post": post.pk})


def _what(post: ChannelPost) -> dict[str, str]:
    if post.article is not None:
        return {"kind": "article", "lang": post.article.lang, "slug": post.article.slug}
    return {"kind": "text", "lang": post.lang}
