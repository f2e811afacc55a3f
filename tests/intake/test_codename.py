"""Codenames: enough bits, in the requester's language, compared loosely, stored as HMAC."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from haven.intake import codename as codenames
from haven.intake import conversations, registry
from haven.intake.models import IntakeConversation
from haven.intake.questionnaire import LANGS
from haven.intake.tasks import purge_expired_intake_conversations
from tests.conftest import Persona

LETTERS = {"ru": "а-я", "uk": "а-щьюяєіїґ", "en": "a-z"}


@pytest.mark.parametrize("lang", LANGS)
def test_each_word_list_gives_at_least_80_bits(lang: str) -> None:
    words = codenames.word_list(lang)
    assert len(words) >= 2048 and len(set(words)) == len(words)
    assert all(re.fullmatch(f"[{LETTERS[lang]}]{{4,8}}", w) for w in words), lang
    assert codenames.bits(lang) >= 80
    assert codenames.words_needed(lang) == math.ceil(80 / math.log2(len(words)))
    code = codenames.generate(lang)
    assert len(code.split()) == codenames.words_needed(lang)
    assert all(word in words for word in code.split())


def test_codenames_differ_every_time() -> None:
    assert len({codenames.generate("ru") for _ in range(50)}) == 50


def test_the_comparison_forgives_case_spacing_and_yo() -> None:
    stored = codenames.lookup_hash("берег лампа окно")
    for typed in ["Берег  Лампа\tокно ", "берег-лампа, окно", "БЕРЕГ ЛАМПА ОКНО\n"]:
        assert codenames.lookup_hash(typed) == stored
    assert codenames.normalise("Ёлка ёж") == "елка еж"
    assert codenames.lookup_hash("лампа берег окно") != stored
    assert len(codenames.key_material("берег " * 100)) == 32


def test_the_stored_hash_reveals_nothing(settings: object) -> None:
    digest = codenames.lookup_hash("берег лампа окно")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    import hashlib

    assert digest != hashlib.sha256("берег лампа окно".encode()).hexdigest()


@pytest.mark.django_db
def test_abandoned_conversations_expire(alice: Persona) -> None:
    engine = registry.engine("other")
    conversations.create(alice.org, "old", engine.start("ru"), "web")
    conversations.create(alice.org, "new", engine.start("ru"), "web")
    IntakeConversation.objects.filter(key=conversations.lookup_key("old")).update(
        expires=timezone.now() - timedelta(seconds=1))
    assert purge_expired_intake_conversations() == 1
    with pytest.raises(conversations.ConversationGone):
        conversations.load("old")
    _row, state = conversations.load("new")
    assert state.questionnaire == "other"


@pytest.mark.django_db
def test_a_state_cannot_be_moved_under_another_handle(alice: Persona) -> None:
    engine = registry.engine("other")
    first = conversations.create(alice.org, "one", engine.start("ru"), "web")
    second = conversations.create(alice.org, "two", engine.start("en"), "web")
    IntakeConversation.objects.filter(pk=second.pk).update(state=first.state)
    with pytest.raises(conversations.ConversationGone):
        conversations.load("two")


@pytest.mark.django_db
def test_a_stale_save_is_refused(alice: Persona) -> None:
    engine = registry.engine("other")
    conversations.create(alice.org, "h", engine.start("ru"), "web")
    row_a, state = conversations.load("h")
    row_b, _ = conversations.load("h")
    assert conversations.save(row_a, engine.answer(state, "yes").state)
    assert not conversations.save(row_b, state)
    assert not conversations.claim(row_b) and conversations.claim(row_a)


@pytest.mark.django_db
def test_the_demo_seed_makes_varied_cases(alice: Persona) -> None:
    from haven.cases.models import Deadline, Reminder
    from haven.intake.demo import seed_cases
    from haven.intake.fingerprints import compute_pending

    cases = seed_cases(alice.org, count=12)
    assert len({c.category for c in cases}) == 7
    assert Deadline.objects.filter(case__in=cases, confirmed=False).count() >= 4
    compute_pending(alice.vault(), alice.org.pk)  # the first member to open the desk
    assert Reminder.objects.filter(kind="possible_duplicate").count() == 1
