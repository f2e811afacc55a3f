"""Each kind of notification through the organization's bot (the fake Bot API on loopback)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from haven.accounts.models import Role
from haven.cases import actions
from haven.notify import addresses
from haven.notify.models import Destination, Kind, Pending
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona, add_member, make_case

from .conftest import TOKEN, Phone, link, notify_round, texts

ALL = [k.value for k in Kind]


def hear(persona: Persona, *kinds: str) -> None:
    addresses.save_preference(persona.member, kinds=list(kinds), quiet_from=None, quiet_to=None,
                              digest="now", digest_hour=9, lang="en")


def test_a_member_links_their_chat_with_a_one_time_code_and_the_code_leaves_the_chat(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7001, lang="en")
    code = addresses.new_link_code(alice.member)
    phone.send(f"/link {code}")
    dest = Destination.objects.get(member=alice.member)
    assert dest.state == "active" and "Notifications are on" in phone.last()
    assert not any(code in text for text in phone.screen())  # the code's message was deleted
    assert b"7001" not in bytes(dest.sealed) and "7001" not in dest.lookup  # sealed, keyed
    phone.send(f"/link {code}")  # a code works once
    assert "not valid" in phone.last()


def test_the_deep_link_start_code_links_too_and_another_organizations_code_does_not(
        alice: Persona, charlie: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7002, lang="en")
    phone.send(f"/start {addresses.new_link_code(charlie.member)}")
    assert "not valid" in phone.last() and not Destination.objects.exists()
    phone.send(f"/start {addresses.new_link_code(alice.member)}")
    assert Destination.objects.filter(member=alice.member).exists()


def test_new_cases_are_told_as_a_count_with_a_link_and_nothing_else(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7003, lang="en")
    link(alice.member, phone)
    hear(alice, Kind.NEW_CASE)
    before = len(texts(fake, 7003))
    first = make_case(alice, "Ivan Petrov got a summons to 12 Lenina street")
    make_case(alice, "Second requester")
    assert notify_round() == 1
    [message] = texts(fake, 7003)[before:]
    assert message.startswith("New on the desk: 2 new cases.") and "/desk/" in message
    assert "Ivan" not in message and f"#{first.number}" not in message
    assert not re.search(rf"\b{first.number}\b", message.split("\n")[0])
    assert notify_round() == 0 and len(texts(fake, 7003)) == before + 1  # told once


def test_a_held_case_is_told_only_when_released(alice: Persona, bob: Persona, bot: Bot,
                                                fake: FakeTelegram) -> None:
    phone = Phone(fake, 7004, lang="en")
    link(bob.member, phone)
    hear(bob, Kind.NEW_CASE)
    before = len(texts(fake, 7004))
    make_case(alice, "held", held=True)
    assert notify_round() == 0
    actions.release_held(alice.member)  # bob hears; alice, who released it, knows
    assert notify_round() == 1 and "1 new case." in texts(fake, 7004)[-1]
    assert len(texts(fake, 7004)) == before + 1


def test_a_case_assigned_to_me_by_someone_else(alice: Persona, bob: Persona, bot: Bot,
                                                fake: FakeTelegram) -> None:
    phone = Phone(fake, 7005, lang="en")
    link(bob.member, phone)
    hear(bob, *ALL[:4])
    before = len(texts(fake, 7005))
    case = make_case(alice)
    notify_round()  # bob hears of the new case
    actions.assign(alice.member, case, bob.member, case.version)
    mine = make_case(alice, "another")
    actions.assign(bob.member, mine, bob.member, mine.version)  # taking one himself: not told
    notify_round()
    sent = texts(fake, 7005)[before:]
    assert sent[0].startswith("New on the desk: 1 new case.")
    assert sent[1].startswith("New on the desk: 1 new case; 1 case assigned to you.")
    assert len(sent) == 2


def test_a_requester_replied_on_my_case(alice: Persona, bob: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7006, lang="en")
    case = make_case(alice)
    actions.assign(alice.member, case, bob.member, case.version)
    other = make_case(alice, "not bob's")
    link(bob.member, phone)
    hear(bob, Kind.REPLY)
    notify_round()  # the cursor starts here: nothing older is told
    before = len(texts(fake, 7006))
    actions.add_inbound(case, "I have new documents")
    actions.add_inbound(other, "not for bob")
    notify_round()
    assert texts(fake, 7006)[before:] == [
        "New on the desk: 1 reply from a requester.\nhttp://127.0.0.1:8000/desk/"]


def test_a_deadline_within_24_hours_is_told_once(alice: Persona, bob: Persona, bot: Bot,
                                                  fake: FakeTelegram) -> None:
    phone = Phone(fake, 7007, lang="en")
    link(bob.member, phone)
    hear(bob, Kind.DEADLINE)
    before = len(texts(fake, 7007))
    case = make_case(alice)
    actions.add_deadline(alice.member, alice.vault(), case, timezone.now() + timedelta(hours=30),
                         "court", owner=bob.member)
    near = actions.add_deadline(alice.member, alice.vault(), case,
                                timezone.now() + timedelta(hours=20), "appeal", owner=bob.member)
    notify_round()
    notify_round()
    assert texts(fake, 7007)[before:] == [
        "New on the desk: 1 deadline within 24 hours.\nhttp://127.0.0.1:8000/desk/"]
    actions.complete_deadline(bob.member, near)


def test_a_payout_waiting_for_my_approval(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    from tests.funds.conftest import donate, pay, set_thresholds

    cora = add_member(alice, "cora", Role.COORDINATOR)
    tina = add_member(alice, "tina", Role.TREASURER)
    cora_phone, tina_phone = Phone(fake, 7008, lang="en"), Phone(fake, 7009, lang="en")
    link(cora.member, cora_phone)
    link(tina.member, tina_phone)
    hear(cora, Kind.PAYOUT)
    hear(tina, Kind.PAYOUT)
    notify_round()
    before_cora, before_tina = len(texts(fake, 7008)), len(texts(fake, 7009))
    donate(tina, 50_000)
    set_thresholds(tina, EUR=100)
    pay(tina, 5_000)
    notify_round()
    assert texts(fake, 7008)[before_cora:] == [
        "New on the desk: 1 payout waits for your approval.\nhttp://127.0.0.1:8000/funds/payouts/"]
    assert texts(fake, 7009)[before_tina:] == []  # not the member who asked


def test_a_caseworker_cannot_choose_payouts(bob: Persona) -> None:
    with pytest.raises(addresses.NotifyError):
        hear(bob, Kind.PAYOUT)


def test_two_members_cannot_link_one_telegram_account(alice: Persona, bob: Persona, bot: Bot,
                                                       fake: FakeTelegram) -> None:
    phone = Phone(fake, 7010, lang="en")
    link(alice.member, phone)
    phone.send(f"/link {addresses.new_link_code(bob.member)}")
    assert "already receives another member's notifications" in phone.last()
    assert not Destination.objects.filter(member=bob.member).exists()
    assert addresses.refused_link(bob.member)
    hear(alice, Kind.NEW_CASE)
    before = len(texts(fake, 7010))
    make_case(alice)
    notify_round()
    assert len(texts(fake, 7010)) == before + 1  # alice alone is told, once


def test_stop_in_the_bot_unlinks_and_a_requesters_stop_is_answered_as_before(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 7011, lang="en")
    link(alice.member, phone)
    hear(alice, Kind.NEW_CASE)
    make_case(alice)
    from haven.notify.collect import collect

    collect()
    assert Pending.objects.exists()
    phone.send("/stop")
    assert "Notifications to this chat are off" in phone.last()
    assert not Destination.objects.exists() and not Pending.objects.exists()
    before = len(texts(fake, 7011))
    make_case(alice)
    notify_round()
    assert len(texts(fake, 7011)) == before
    requester = Phone(fake, 7012, lang="en")
    requester.send("/start")
    requester.send("/stop")
    assert "Notifications" not in requester.last()


def test_a_blocked_bot_keeps_the_counts_tells_the_desk_and_sends_after_unblocking(
        alice: Persona, bot: Bot, fake: FakeTelegram, alice_client: object) -> None:
    phone = Phone(fake, 7013, lang="en")
    link(alice.member, phone)
    hear(alice, Kind.NEW_CASE)
    before = len(texts(fake, 7013))
    fake.user_blocks(TOKEN, 7013)  # the bot hears of it only later: the send fails with 403
    make_case(alice)
    notify_round()
    dest = Destination.objects.get(member=alice.member)
    assert dest.state == "blocked"
    assert Pending.objects.get(destination=dest).count == 1  # kept, not lost
    page = alice_client.get("/desk/").content.decode()  # type: ignore[attr-defined]
    assert "Your Telegram notifications wait: you blocked the bot." in page
    make_case(alice)
    notify_round()
    assert Pending.objects.get(destination=dest).count == 2
    fake.user_blocks(TOKEN, 7013, blocked=False)
    from .conftest import pump

    pump()  # the bot processes the unblocking
    assert Destination.objects.get(pk=dest.pk).state == "active"
    notify_round()
    assert texts(fake, 7013)[before:] == [
        "New on the desk: 2 new cases.\nhttp://127.0.0.1:8000/desk/"]
