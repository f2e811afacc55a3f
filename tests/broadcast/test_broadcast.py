"""Broadcasts: preview by channel and language, send through the outbox, cancel, resume."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client

from haven import outbox
from haven.accounts.models import Role
from haven.audit.models import AuditEntry
from haven.broadcast import actions as broadcasts
from haven.broadcast import targets
from haven.broadcast.models import Broadcast, BroadcastCase, State
from haven.cases import actions, rules
from haven.cases.models import Case, CaseRecord, Channel, Delivery, RecordKind, Status
from haven.outbox.models import Outbox
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona, add_member, log_in, make_case
from tests.intake.conftest import Visitor, codename_in, complete
from tests.telegram.conftest import TOKEN, pump, telegram_case

from .conftest import telegram_case_in

pytestmark = pytest.mark.django_db

VERSIONS = {"ru": "Закон изменился. Дело №{case}, {organization}.",
            "uk": "Закон змінився. Справа №{case}, {organization}.",
            "en": "The law changed. Case #{case}, {organization}."}


def _post_new(client: Client, action: str = "preview", **data: Any) -> Any:
    form = {f"text_{lang}": text for lang, text in VERSIONS.items()}
    form.update(action=action, **data)
    return client.post("/desk/broadcasts/new/", form)


def _stamp(page: str) -> str:
    found = re.search(r'name="stamp" value="([^"]*)"', page)
    assert found, page[:3000]
    return found.group(1)


def _send(persona: Persona, **filters: Any) -> Broadcast:
    """Preview and send as the coordinator would, then prepare every batch."""
    ring = persona.vault()
    chosen = targets.Filters(**filters)
    seen = targets.preview(persona.member, ring, chosen, VERSIONS)
    broadcast = broadcasts.start(persona.member, ring, chosen, VERSIONS, "", seen.stamp())
    while broadcasts.step(persona.member, ring, broadcast, batch=2):
        broadcast.refresh_from_db()
    broadcast.refresh_from_db()
    return broadcast


def _records(case: Case) -> list[CaseRecord]:
    return list(CaseRecord.objects.filter(case=case, kind=RecordKind.OUTBOUND))


def _entries(case: Case, code: str = "case.broadcast") -> int:
    return AuditEntry.objects.filter(case_id=case.pk, action=code).count()


def test_the_preview_counts_cases_by_channel_and_language(alice_client: Client, alice: Persona,
                                                          bot: Bot) -> None:
    for chat, lang in ((7001, "ru"), (7002, "ru"), (7003, "uk")):
        telegram_case_in(alice, bot, chat, lang)
    make_case(alice, "Summons", lang="en")
    make_case(alice, "Повістка", lang="uk")
    make_case(alice, "On the desk", channel=Channel.DESK)
    closed = make_case(alice, "Closed one", lang="ru")
    actions.set_status(alice.member, closed, Status.CLOSED, None)
    page = _post_new(alice_client).content.decode()
    assert ("This will reach 5 cases: 3 in Telegram, 2 on the web follow-up page; "
            "2 ru, 2 uk, 1 en.") in page
    assert "1 case was recorded on the desk and has no channel: it is left out." in page
    assert "Send to 5 cases" in page
    assert not Broadcast.objects.exists()  # a preview changes nothing


def test_a_missing_language_version_is_refused_unless_a_fallback_is_chosen(
        alice_client: Client, alice: Persona) -> None:
    make_case(alice, "Повістка", lang="uk")
    make_case(alice, "Повестка", lang="ru")
    form = {"text_ru": "Закон изменился.", "action": "preview"}
    page = alice_client.post("/desk/broadcasts/new/", form).content.decode()
    assert "1 case is in Українська and the message has no Українська version." in page
    assert "Send to" not in page
    stamp = _stamp(page)
    refused = alice_client.post("/desk/broadcasts/new/", {**form, "action": "send", "stamp": stamp})
    assert "no Українська version" in refused.content.decode() and not Broadcast.objects.exists()
    page = alice_client.post("/desk/broadcasts/new/", {**form, "fallback": "ru"}).content.decode()
    assert "This will reach 2 cases" in page
    assert "1 requester gets the version in the fallback language." in page
    alice_client.post("/desk/broadcasts/new/", {**form, "fallback": "ru", "action": "send",
                                                "stamp": _stamp(page)})
    assert Broadcast.objects.get().counts["total"] == 2


def test_a_filter_matching_no_case_says_so(alice_client: Client, alice: Persona) -> None:
    make_case(alice, "Повестка", category="summons")
    page = _post_new(alice_client, category="money").content.decode()
    assert "No open case matches these filters. Change the filters; nothing would be sent." in page
    assert "Send to" not in page
    page = _post_new(alice_client, "send", category="money", stamp="0").content.decode()
    assert "No open case matches these filters; nothing was sent." in page
    assert not Broadcast.objects.exists()


def test_filters_by_tag_team_and_status(alice: Persona) -> None:
    ring = alice.vault()
    tagged = make_case(alice, "Повестка")
    actions.set_tags(alice.member, ring, tagged, ["Mobilization"], None)
    other = make_case(alice, "Повестка 2")
    actions.set_status(alice.member, other, Status.IN_PROGRESS, None)
    by_tag = targets.preview(alice.member, ring, targets.Filters(tag="mobilization"), VERSIONS)
    assert [t.case.pk for t in by_tag.targets] == [tagged.pk]
    by_status = targets.preview(alice.member, ring, targets.Filters(status=Status.IN_PROGRESS),
                                VERSIONS)
    assert [t.case.pk for t in by_status.targets] == [other.pk]
    by_team = targets.preview(alice.member, ring, targets.Filters(team=tagged.team_id), VERSIONS)
    assert by_team.total == 2
    assert targets.preview(alice.member, ring, targets.Filters(team=-1), VERSIONS).total == 0


def test_a_stale_preview_is_refused(alice_client: Client, alice: Persona) -> None:
    make_case(alice, "Повестка")
    stamp = _stamp(_post_new(alice_client).content.decode())
    make_case(alice, "Ещё одна повестка")  # arrives between the preview and Send
    page = _post_new(alice_client, "send", stamp=stamp).content.decode()
    assert "The matching cases changed since the preview. Nothing was sent" in page
    assert "This will reach 2 cases" in page and not Broadcast.objects.exists()


def test_send_reaches_telegram_and_web_requesters_once_each(
        alice: Persona, bot: Bot, fake: FakeTelegram, visitor: Visitor) -> None:
    fake.open_chat(TOKEN, 7101)
    in_telegram = telegram_case(alice, bot, 7101)
    code = codename_in(complete(visitor))
    on_web = Case.objects.get(organization=alice.org, channel=Channel.WEB)
    broadcast = _send(alice)
    assert broadcast.status == State.DONE and broadcast.finished is not None
    pump()
    assert outbox.run_once().sent == 1  # the web follow-up thread
    [message] = fake.sent_to(TOKEN, 7101)
    assert f"Закон изменился. Дело №{in_telegram.number}, First." in message["text"]
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert f"Закон изменился. Дело №{on_web.number}, First." in page
    for case in (in_telegram, on_web):
        [record] = _records(case)
        assert record.delivery == Delivery.SENT
        assert _entries(case) == 1 and _entries(case, "case.reply") == 0
        case.refresh_from_db()
        assert case.first_reply_at is None and case.status == Status.NEW  # news, not an answer
    done = broadcasts.progress(broadcast)
    assert (done.total, done.prepared, done.sent, done.waiting) == (2, 2, 2, 0)
    assert not Outbox.objects.exists()


def test_the_message_is_filled_per_case_and_in_each_requesters_language(
        alice: Persona, channel: Any) -> None:
    uk = make_case(alice, "Повістка", lang="uk")
    en = make_case(alice, "Summons", lang="en")
    actions.add_deadline(alice.member, alice.vault(), uk, rules.due_at(date(2027, 4, 1)), "ACS")
    texts = {"ru": "До {deadline}", "uk": "До {deadline}, справа {case}", "en": "By {deadline}"}
    ring = alice.vault()
    seen = targets.preview(alice.member, ring, targets.Filters(), texts)
    assert seen.no_deadline == 1 and "{deadline} cannot be filled" in seen.problems()[0]
    with pytest.raises(broadcasts.BroadcastError):
        broadcasts.start(alice.member, ring, targets.Filters(), texts, "", seen.stamp())
    Case.objects.filter(pk=en.pk).update(status=Status.CLOSED)
    seen = targets.preview(alice.member, ring, targets.Filters(), texts)
    broadcast = broadcasts.start(alice.member, ring, targets.Filters(), texts, "", seen.stamp())
    broadcasts.step(alice.member, ring, broadcast)
    [record] = _records(uk)
    assert alice.case_vault(uk).decrypt_text(bytes(record.body)) == f"До 1 квітня 2027, справа {uk.number}"


def test_a_saved_ready_reply_can_start_a_broadcast(alice_client: Client, alice: Persona) -> None:
    actions.save_reply(alice.member, alice.vault(), "Law change", VERSIONS, "summons")
    reply_id = actions.SavedReply.objects.get().pk
    page = alice_client.get(f"/desk/broadcasts/new/?reply={reply_id}").content.decode()
    assert "Закон змінився. Справа №{case}, {organization}." in page


def test_cancel_stops_the_rest_and_takes_back_what_is_still_queued(alice: Persona,
                                                                   channel: Any) -> None:
    cases = [make_case(alice, f"Повестка {n}") for n in range(5)]
    ring = alice.vault()
    seen = targets.preview(alice.member, ring, targets.Filters(), VERSIONS)
    broadcast = broadcasts.start(alice.member, ring, targets.Filters(), VERSIONS, "", seen.stamp())
    broadcasts.step(alice.member, ring, broadcast, batch=2)
    left, withdrawn = broadcasts.cancel(alice.member, broadcast)
    assert (left, withdrawn) == (3, 2)
    assert outbox.run_once().sent == 0 and channel.sent == []
    assert broadcasts.step(alice.member, ring, broadcast) == 0  # nothing more after a cancel
    assert [len(_records(c)) for c in cases] == [1, 1, 0, 0, 0]
    for case in cases[:2]:
        [record] = _records(case)
        assert (record.delivery, record.delivery_error) == (Delivery.FAILED, "withdrawn")
        assert _entries(case, "case.reply_withdrawn") == 1
    done = broadcasts.progress(Broadcast.objects.get())
    assert (done.cancelled, done.withdrawn, done.pending) == (3, 2, 0)
    with pytest.raises(broadcasts.BroadcastError, match="already cancelled"):
        broadcasts.cancel(alice.member, Broadcast.objects.get())


def test_a_resumed_broadcast_sends_no_case_twice(alice: Persona, channel: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [make_case(alice, f"Повестка {n}") for n in range(4)]
    ring = alice.vault()
    seen = targets.preview(alice.member, ring, targets.Filters(), VERSIONS)
    broadcast = broadcasts.start(alice.member, ring, targets.Filters(), VERSIONS, "", seen.stamp())
    real, calls = actions.broadcast_reply, []

    def killed_on_the_third(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the request dies half-way through a batch
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "broadcast_reply", killed_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        broadcasts.step(alice.member, ring, broadcast)
    monkeypatch.setattr(actions, "broadcast_reply", real)
    assert Outbox.objects.count() == 2
    broadcasts.step(alice.member, ring, broadcast)
    broadcasts.step(alice.member, ring, broadcast)
    assert outbox.run_once().sent == 4 and len(channel.sent) == 4
    assert [len(_records(c)) for c in cases] == [1, 1, 1, 1]
    assert [_entries(c) for c in cases] == [1, 1, 1, 1]
    with pytest.raises(IntegrityError), transaction.atomic():
        BroadcastCase.objects.create(broadcast=broadcast, case=cases[0])


def test_a_case_closed_after_the_preview_is_skipped(alice: Persona, channel: Any) -> None:
    first, second = make_case(alice, "Повестка"), make_case(alice, "Повестка 2")
    ring = alice.vault()
    seen = targets.preview(alice.member, ring, targets.Filters(), VERSIONS)
    broadcast = broadcasts.start(alice.member, ring, targets.Filters(), VERSIONS, "", seen.stamp())
    actions.set_status(alice.member, second, Status.CLOSED, None)
    broadcasts.step(alice.member, ring, broadcast)
    assert len(_records(first)) == 1 and _records(second) == []
    assert BroadcastCase.objects.get(case=second).reason == "closed"


def test_only_the_starter_prepares_and_only_cases_they_may_read(alice: Persona,
                                                                channel: Any) -> None:
    coordinator = add_member(alice, "cora", Role.COORDINATOR)
    make_case(alice, "Повестка")
    seen = targets.preview(alice.member, alice.vault(), targets.Filters(), VERSIONS)
    broadcast = broadcasts.start(alice.member, alice.vault(), targets.Filters(), VERSIONS, "",
                                 seen.stamp())
    assert broadcasts.step(coordinator.member, coordinator.vault(), broadcast) == 0
    volunteer = add_member(alice, "vera", Role.VOLUNTEER)
    assert targets.matching(volunteer.member, volunteer.vault(), targets.Filters()).count() == 0


def test_a_viewer_or_caseworker_is_refused(alice: Persona, bob: Persona, bob_client: Client) -> None:
    viewer = add_member(alice, "victor", Role.VIEWER)
    viewer_client = log_in(Client(), viewer)
    make_case(alice, "Повестка")
    for client in (viewer_client, bob_client):
        assert client.get("/desk/broadcasts/").status_code == 404
        assert client.get("/desk/broadcasts/new/").status_code == 404
        assert _post_new(client).status_code == 404
    with pytest.raises(actions.NotAllowed):
        broadcasts.start(viewer.member, viewer.vault(), targets.Filters(), VERSIONS, "", "")
    assert not Broadcast.objects.exists()


def test_another_organizations_member_gets_404(alice: Persona, charlie_client: Client,
                                               channel: Any) -> None:
    make_case(alice, "Повестка")
    broadcast = _send(alice)
    for url in (f"/desk/broadcasts/{broadcast.pk}/", f"/desk/broadcasts/{broadcast.pk}/step/"):
        assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(f"/desk/broadcasts/{broadcast.pk}/cancel/").status_code == 404
    assert "Закон" not in charlie_client.get("/desk/broadcasts/").content.decode()
    assert Broadcast.objects.get().status == State.DONE


def test_the_pages_walk_from_preview_to_progress_and_cancel(alice_client: Client, alice: Persona,
                                                            channel: Any) -> None:
    for n in range(3):
        make_case(alice, f"Повестка {n}")
    stamp = _stamp(_post_new(alice_client).content.decode())
    response = _post_new(alice_client, "send", stamp=stamp)
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/broadcasts/{broadcast.pk}/"
    page = alice_client.get(response["Location"]).content.decode()
    assert "3 of 3 prepared" in page and "0 of 3 delivered" in page
    assert 'http-equiv="refresh" content="5"' in page  # waits on the outbox, without JavaScript
    outbox.run_once()
    page = alice_client.get(response["Location"]).content.decode()
    assert "3 of 3 delivered" in page and "http-equiv" not in page
    listing = alice_client.get("/desk/broadcasts/").content.decode()
    assert f"/desk/broadcasts/{broadcast.pk}/" in listing
    entries = AuditEntry.objects.filter(action="broadcast.started", case_id=None)
    assert [e.detail for e in entries] == [{"broadcast": broadcast.pk, "targets": 3}]


def test_a_message_a_worker_already_holds_is_not_taken_back(alice: Persona, channel: Any) -> None:
    cases = [make_case(alice, f"Повестка {n}") for n in range(2)]
    broadcast = _send(alice)
    claimed = outbox.claim(batch=1)  # a worker is about to send the first one
    assert broadcasts.cancel(alice.member, broadcast) == (0, 1)
    result = outbox.Result()
    for row in claimed:
        outbox.deliver(row, result)
    assert result.sent == 1 and len(channel.sent) == 1
    delivered = [r.delivery for c in cases for r in _records(c)]
    assert sorted(delivered) == [Delivery.FAILED, Delivery.SENT]
    assert broadcasts.progress(broadcast).sent == 1


@pytest.mark.parametrize(("lang", "words"), [("ru", ["Новая рассылка", "Каким открытым делам"]),
                                             ("uk", ["Нова розсилка", "Яким відкритим справам"])])
def test_the_pages_speak_russian_and_ukrainian(alice_client: Client, alice: Persona, lang: str,
                                               words: list[str]) -> None:
    make_case(alice, "Повестка", lang="uk")
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    page = alice_client.get("/desk/broadcasts/new/").content.decode()
    assert all(word in page for word in words)
    preview = alice_client.post("/desk/broadcasts/new/", {"text_ru": "Закон", "action": "preview"})
    assert {"ru": "1 дело на языке", "uk": "1 справа мовою"}[lang] in preview.content.decode()
