"""Channel posts: scheduling, the worker, the outbox handler's word, what the coordinator sees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haven import outbox
from haven.audit import chain
from haven.core import worker
from haven.knowledge import posts
from haven.knowledge.models import Article, ChannelPost, PostStatus
from haven.knowledge.plaintext import TELEGRAM_LIMIT
from haven.outbox.models import Outbox
from tests.conftest import Persona

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")


class ChannelHandler:
    """What the Telegram integration registers for "telegram-channel", minus Telegram."""

    name = posts.CHANNEL

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail: list[outbox.DeliveryError] = []

    def check(self, text: str) -> None:
        pass

    def address(self, case: Any) -> dict[str, Any]:
        return {}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if self.fail:
            error = self.fail.pop(0)
            if error.permanent:
                posts.mark_post(payload["post"], ok=False, error=error.code)
            raise error
        self.sent.append(payload)
        posts.mark_post(payload["post"], ok=True)


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> ChannelHandler:
    handler = ChannelHandler()
    monkeypatch.setitem(outbox.HANDLERS, posts.CHANNEL, handler)
    return handler


def _past() -> str:
    return (timezone.now() - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")


def _schedule(client: Client, **data: str) -> Any:
    return client.post("/kb/manage/posts/", {"lang": "ru", "scheduled_for": _past(), **data})


def test_a_scheduled_article_is_posted_through_the_outbox(alice: Persona, alice_client: Client,
                                                          channel: ChannelHandler) -> None:
    response = _schedule(alice_client, article="ru/electronic-summons")
    assert response.status_code == 302
    post = ChannelPost.objects.get(organization=alice.org)
    assert post.status == PostStatus.SCHEDULED
    assert posts.queue_due_posts() == 1
    post.refresh_from_db()
    assert post.status == PostStatus.QUEUED
    assert post.outbox_id is not None
    row = Outbox.objects.get(pk=post.outbox_id)
    assert (row.channel, row.case_id, row.record_id) == ("telegram-channel", None, None)
    assert outbox.run_once().sent == 1
    post.refresh_from_db()
    assert post.status == PostStatus.POSTED and post.posted_at is not None
    payload = channel.sent[0]
    assert payload["post"] == post.pk and payload["organization"] == alice.org.pk
    assert payload["parse_mode"] == "HTML" and len(payload["text"]) <= TELEGRAM_LIMIT
    assert payload["text"].startswith("<b>") and "/kb/o/first/ru/electronic-summons/" in payload["text"]
    assert not Outbox.objects.exists()
    html = alice_client.get("/kb/manage/posts/").content.decode()
    assert 'class="kb-post posted"' in html
    actions = [e.action for e in alice.org.auditentry_set.order_by("seq") if e.action.startswith("kb.")]
    assert actions == ["kb.post.scheduled", "kb.post.queued", "kb.post.posted"]
    assert chain.verify(alice.org.pk) is None


def test_a_short_text_is_escaped_for_telegram(alice: Persona, alice_client: Client,
                                              channel: ChannelHandler) -> None:
    _schedule(alice_client, text="Встреча <b>завтра</b> & не опаздывайте")
    posts.queue_due_posts()
    outbox.run_once()
    assert channel.sent[0]["text"] == "Встреча &lt;b&gt;завтра&lt;/b&gt; &amp; не опаздывайте"


def test_a_permanent_failure_is_shown(alice: Persona, alice_client: Client,
                                      channel: ChannelHandler) -> None:
    channel.fail.append(outbox.DeliveryError("chat not found", permanent=True))
    _schedule(alice_client, text="Hello")
    posts.queue_due_posts()
    assert outbox.run_once().failed == 1
    post = ChannelPost.objects.get()
    assert (post.status, post.error) == (PostStatus.FAILED, "chat not found")
    html = alice_client.get("/kb/manage/posts/").content.decode()
    assert 'class="kb-post failed"' in html and "chat not found" in html


def test_a_transient_failure_is_retried_and_shown_meanwhile(alice: Persona, alice_client: Client,
                                                            channel: ChannelHandler) -> None:
    channel.fail.append(outbox.DeliveryError("429 too many requests", retry_after=0))
    _schedule(alice_client, text="Hello")
    posts.queue_due_posts()
    assert outbox.run_once().retried == 1
    assert "429 too many requests" in alice_client.get("/kb/manage/posts/").content.decode()
    assert outbox.run_once().sent == 1
    assert ChannelPost.objects.get().status == PostStatus.POSTED


def test_a_post_the_outbox_gave_up_on_is_marked_failed(alice: Persona, alice_client: Client,
                                                       channel: ChannelHandler) -> None:
    _schedule(alice_client, text="Hello")
    posts.queue_due_posts()
    Outbox.objects.all().delete()  # as when the outbox gives up after its last attempt
    assert posts.reconcile_posts() == 1
    post = ChannelPost.objects.get()
    assert post.status == PostStatus.FAILED and "gave up" in post.error


def test_a_post_is_not_queued_before_its_time(alice: Persona, alice_client: Client) -> None:
    later = (timezone.now() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    _schedule(alice_client, text="Later", scheduled_for=later)
    assert posts.queue_due_posts() == 0
    assert posts.queue_due_posts(timezone.now() + dt.timedelta(hours=3)) == 1


def test_the_worker_task_queues_due_posts(alice: Persona, alice_client: Client) -> None:
    _schedule(alice_client, text="Hello")
    assert worker.TASKS["queue_channel_posts"].func() == 1
    assert ChannelPost.objects.get().status == PostStatus.QUEUED


def test_a_post_of_a_deleted_article_fails_with_a_reason(alice: Persona, alice_client: Client) -> None:
    own_article(alice.org)
    _schedule(alice_client, article="en/our-office")
    Article.objects.filter(organization=alice.org).delete()
    posts.queue_due_posts()
    post = ChannelPost.objects.get()
    assert post.status == PostStatus.FAILED and "deleted" in post.error
    assert not Outbox.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose an article or write a short text"),
    ({"text": "Hi", "article": "ru/acs-deadlines"}, "not both"),
    ({"text": "<" * 1100}, "too long for Telegram"),
    ({"text": "x" * 5000}, "at most 4096"),
    ({"article": "ru/no-such-article"}, "Select a valid choice"),
])
def test_a_bad_post_is_refused_with_a_reason(alice_client: Client, data: dict[str, str],
                                             message: str) -> None:
    response = _schedule(alice_client, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ChannelPost.objects.exists()


def test_a_scheduled_post_can_be_cancelled_until_it_is_queued(alice: Persona, alice_client: Client,
                                                              charlie_client: Client) -> None:
    _schedule(alice_client, text="One")
    _schedule(alice_client, text="Two")
    first, second = ChannelPost.objects.order_by("pk")
    assert charlie_client.post(f"/kb/manage/posts/{first.pk}/cancel/").status_code == 404
    assert alice_client.post(f"/kb/manage/posts/{first.pk}/cancel/").status_code == 302
    assert posts.queue_due_posts() == 1
    alice_client.post(f"/kb/manage/posts/{second.pk}/cancel/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (PostStatus.CANCELLED, PostStatus.QUEUED)


def test_posts_of_another_organization_are_not_shown(alice_client: Client,
                                                     charlie_client: Client) -> None:
    _schedule(alice_client, text="Alice's secret meeting")
    assert "secret meeting" not in charlie_client.get("/kb/manage/posts/").content.decode()


def test_an_org_cannot_post_another_organizations_article(alice: Persona, charlie: Persona,
                                                          charlie_client: Client) -> None:
    own_article(alice.org)
    response = _schedule(charlie_client, article="en/our-office")
    assert response.status_code == 400
    assert not ChannelPost.objects.exists()
