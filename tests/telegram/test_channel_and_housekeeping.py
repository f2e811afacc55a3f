from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from haven import outbox
from haven.outbox.models import Outbox
from haven.telegram import tasks
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, Chat, TrackedMessage, Update, UpdateState
from tests.conftest import Persona

from .conftest import TOKEN, Phone


def _post(alice: Persona) -> Outbox:
    payload = {"text": "<b>Новая статья</b>", "parse_mode": "HTML", "post": 0,
               "organization": alice.org.pk, "lang": "ru"}
    return Outbox.objects.create(organization=alice.org, channel="telegram-channel",
                                 payload=outbox.seal_payload(payload))


def test_channel_posts_go_to_the_organizations_channel(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.add_channel(TOKEN, "@haven_news")
    Bot.objects.filter(pk=bot.pk).update(channel="@haven_news")
    _post(alice)
    tasks.send_round()
    assert [m["text"] for m in fake.sent_to(TOKEN, "@haven_news")] == ["<b>Новая статья</b>"]
    assert not Outbox.objects.exists()


def test_a_post_without_a_channel_fails_for_good(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    _post(alice)
    tasks.send_round()
    assert not Outbox.objects.exists() and not fake.sent


def test_housekeeping_forgets_what_is_no_longer_needed(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    Phone(fake, 8201).send("/start")
    long_ago = timezone.now() - timedelta(days=30)
    Update.objects.update(received=long_ago)
    TrackedMessage.objects.update(created=long_ago)
    Chat.objects.update(expires=long_ago)
    assert tasks.telegram_housekeeping() >= 3
    assert not Update.objects.filter(state=UpdateState.DONE).exists()
    assert not TrackedMessage.objects.exists() and not Chat.objects.exists()
