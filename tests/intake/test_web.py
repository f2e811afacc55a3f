"""The web intake as a requester's browser sees it (Django test client, CSRF enforced)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from haven.cases import actions
from haven.cases.models import Case, Deadline, RecordKind, Status
from haven.intake import codename as codenames
from haven.intake.models import IntakeConversation, Requester
from tests.conftest import Persona

from .conftest import SUMMONS_ANSWERS, Visitor, codename_in, complete

pytestmark = pytest.mark.django_db


def _answers(persona: Persona, case: Case) -> dict:
    record = case.records.get(kind=RecordKind.ANSWERS)
    return json.loads(persona.case_vault(record.case).decrypt_text(bytes(record.body)))


def test_it_completes_an_intake_in_russian(alice: Persona, visitor: Visitor) -> None:
    start = visitor.get(visitor.url("?lang=ru"))
    assert start.status_code == 200
    assert "Прежде чем писать" in start.content.decode()
    assert "Быстро уйти" in start.content.decode()
    done = complete(visitor)
    assert done.status_code == 200
    assert done.headers["Cache-Control"].startswith("no-store")
    code = codename_in(done)
    assert len(code.split()) == codenames.words_needed("ru")
    case = Case.objects.get(organization=alice.org)
    assert (case.status, case.channel, case.category) == (Status.NEW, "web", "summons")
    record = _answers(alice, case)
    assert record["questionnaire"] == "summons" and record["lang"] == "ru"
    items = {item["key"]: item for item in record["items"]}
    assert items["kind"]["answer"] == "Электронную (в реестре / Госуслугах)"
    assert items["kind"]["question"] == "Какую повестку вы получили?"
    assert items["abroad"] == {"key": "abroad", "question": "Вы сейчас за пределами России?",
                               "answer": "Нет", "sensitive": True}
    assert "report_date" not in items  # skipped optional questions are left out
    summary = json.loads(alice.case_vault(case).decrypt_text(bytes(case.summary)))
    # The category is not repeated: the desk shows it in a column of its own.
    assert summary == {"summary": "Электронную (в реестре / Госуслугах)", "lang": "ru"}
    assert Requester.objects.get(case=case).codename_hash == codenames.lookup_hash(code)
    visitor.written_down()
    assert not IntakeConversation.objects.exists()
    # A requester leaves no session behind, and the browser forgets its handle.
    assert not Session.objects.exists()
    assert visitor.client.cookies["haven_intake"].value == ""


def test_the_codename_stays_until_written_down_then_the_page_says_how_to_come_back(
    alice: Persona, visitor: Visitor,
) -> None:
    code = codename_in(complete(visitor, lang="en"))
    refreshed = visitor.get(visitor.url("sent/"))
    assert refreshed.status_code == 200 and codename_in(refreshed) == code
    assert refreshed.headers["Cache-Control"].startswith("no-store")
    assert "I have written it down" in refreshed.content.decode()
    # Kept only under a key the browser's cookie holds: not in clear, not openable from the row.
    row = IntakeConversation.objects.get()
    assert code.encode() not in bytes(row.state) and code.split()[0].encode() not in bytes(row.state)
    assert Client().get(visitor.url("sent/")).status_code == 410  # another browser sees nothing

    written = visitor.written_down()
    page = written.content.decode()
    assert written.status_code == 200 and code not in page
    assert "Follow up with a codename" in page and visitor.url("follow-up/") in page
    assert not IntakeConversation.objects.exists()
    again = visitor.get(visitor.url("sent/"))
    assert again.status_code == 410 and code not in again.content.decode()
    assert visitor.url("follow-up/") in again.content.decode()


def test_it_proposes_the_deadlines_the_answers_call_for(alice: Persona, visitor: Visitor) -> None:
    complete(visitor)
    deadlines = Deadline.objects.filter(case__organization=alice.org).order_by("due")
    # The exit ban runs from the day of posting; no appearance date was given, so the
    # restrictions (20 days after the appearance date) are not proposed.
    vault = alice.vault()
    assert [(actions.deadline_rule(vault, d), d.due.date().isoformat(), d.confirmed)
            for d in deadlines] == [
        ("summons-exit-ban", "2026-11-02", False)]
    reason = alice.case_vault(deadlines[0].case).decrypt_text(bytes(deadlines[0].reason))
    assert "Выезд из России запрещён с 2026-11-02" in reason and "53-ФЗ, ст. 7.1" in reason


def test_restrictions_are_proposed_20_days_after_the_appearance_date(alice: Persona,
                                                                     visitor: Visitor) -> None:
    answers = [(step, "2026-12-01" if step == "report_date" else value)
               for step, value in SUMMONS_ANSWERS]
    complete(visitor, answers)
    deadlines = Deadline.objects.filter(case__organization=alice.org).order_by("due")
    assert [(actions.deadline_rule(alice.vault(), d), d.due.date().isoformat())
            for d in deadlines] == [
        ("summons-exit-ban", "2026-11-02"), ("summons-restrictions-start", "2026-12-21")]
    reason = alice.case_vault(deadlines[1].case).decrypt_text(bytes(deadlines[1].reason))
    assert "20 календарных дней со дня явки 2026-12-01" in reason


def test_invalid_answers_get_messages_in_russian(visitor: Visitor) -> None:
    visitor.start("summons")
    missing = visitor.answer("kind", "")
    assert missing.status_code == 400
    assert "На этот вопрос нужно ответить." in missing.content.decode()
    visitor.answer("kind", "electronic")
    bad_date = visitor.answer("posted_on", "31.02.2026")
    today = datetime.date.today()
    assert f"Напишите дату в виде {today:%d.%m.%Y} или {today:%Y-%m-%d}." in bad_date.content.decode()
    future = visitor.answer("posted_on", "2099-01-01")
    assert "Дата не может быть позже" in future.content.decode()
    forged = visitor.answer("posted_on", "2026-11-02")
    assert forged.status_code == 302
    wrong_choice = visitor.answer("report_date", "")
    assert wrong_choice.status_code == 302
    assert "Выберите один из вариантов." in visitor.answer("purpose", "launch").content.decode()


def test_back_and_forward_keep_the_answers(visitor: Visitor) -> None:
    visitor.start("summons")
    visitor.answer("kind", "electronic")
    visitor.answer("posted_on", "2026-11-02")
    back = visitor.answer("report_date", "2026-12-01", action="back")
    assert back.headers["Location"].endswith("?s=posted_on")
    page = visitor.get(back.headers["Location"]).content.decode()
    assert 'value="2026-11-02"' in page
    forward = visitor.answer("posted_on", "2026-11-02")
    assert forward.headers["Location"].endswith("?s=report_date")
    # The answer typed before pressing Back was kept too.
    assert 'value="2026-12-01"' in visitor.get(forward.headers["Location"]).content.decode()
    # The browser's own Back button: an earlier question by its address, answered again.
    earlier = visitor.get(visitor.url("step/?s=kind")).content.decode()
    assert 'value="electronic" checked' in earlier
    assert visitor.get(visitor.url("step/?s=situation")).status_code == 302  # not reached yet


def test_a_change_from_the_review_returns_to_it(visitor: Visitor) -> None:
    visitor.start("summons")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    review = visitor.get(visitor.url("confirm/")).content.decode()
    assert 'href="/o/first/step/?s=purpose&amp;review=1"' in review
    assert 'name="review" value="1"' in visitor.get(visitor.url("step/?s=purpose&review=1")).content.decode()

    def change(step: str, value: str) -> str:
        return visitor.post(visitor.url("step/"), {"step": step, "value": value, "action": "next",
                                                   "review": "1"}).headers["Location"]

    assert change("purpose", "records") == visitor.url("confirm/")
    # A change that opens a new question asks it, then returns to the review.
    assert change("kind", "paper_mail").endswith("?s=received_on&review=1")
    assert change("received_on", "") == visitor.url("confirm/")
    page = visitor.get(visitor.url("confirm/")).content.decode()
    assert "Уточнение данных" in page and "Бумажную, пришла по почте" in page


def test_changing_an_answer_drops_questions_no_longer_asked(alice: Persona, visitor: Visitor) -> None:
    visitor.start("summons")
    visitor.answer("kind", "electronic")
    visitor.answer("posted_on", "2026-11-02")
    visitor.answer("kind", "expecting")
    for step, value in [("abroad", "yes"), ("situation", "")]:
        assert visitor.answer(step, value).status_code == 302
    visitor.finish()
    items = [i["key"] for i in _answers(alice, Case.objects.get())["items"]]
    assert items == ["kind", "abroad"]
    assert not Deadline.objects.exists()


def test_back_button_after_finishing_and_replays_create_nothing(alice: Persona, visitor: Visitor) -> None:
    complete(visitor)
    again = visitor.get(visitor.url("confirm/"))
    assert again.status_code == 410
    assert "Ничего не было отправлено дважды." in again.content.decode()
    replay = visitor.finish()
    assert replay.status_code == 409
    assert visitor.answer("kind", "electronic").status_code == 410
    assert Case.objects.count() == 1


def test_a_form_without_the_csrf_token_gets_a_clear_page(alice: Persona, visitor: Visitor) -> None:
    visitor.start("summons")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    forged = visitor.post(visitor.url("confirm/"), {"send": "1"}, csrf=False)
    assert forged.status_code == 403
    assert "This form has expired" in forged.content.decode() or "форм" in forged.content.decode()
    assert Case.objects.count() == 0
    stranger = Client(enforce_csrf_checks=True)
    assert stranger.post(visitor.url("consent/"), {"topic": "summons", "agree": "1"}).status_code == 403
    assert IntakeConversation.objects.count() == 1  # only the visitor's own


def test_two_sends_of_the_same_confirm_make_one_case(alice: Persona, visitor: Visitor) -> None:
    visitor.start("other")
    visitor.answer("topic", "legal")
    visitor.answer("situation", "Нужна консультация юриста")
    first, second = visitor.finish(), visitor.finish()
    assert (first.status_code, second.status_code) == (200, 409)
    assert Case.objects.count() == 1


def test_oversized_bodies_are_refused_unread(visitor: Visitor) -> None:
    visitor.start("summons")
    huge = visitor.post(visitor.url("step/"), {"step": "kind", "value": "electronic"},
                        CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert huge.status_code == 413
    assert "Слишком много данных" in huge.content.decode()
    beyond = visitor.post(visitor.url("confirm/"), {"send": "1"}, CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert beyond.status_code == 413


def test_script_in_an_answer_is_shown_as_text(alice: Persona, visitor: Visitor) -> None:
    visitor.start("other", "en")
    visitor.answer("topic", "other")
    visitor.answer("situation", '<script>alert("x")</script> & more')
    page = visitor.get(visitor.url("confirm/")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page
    visitor.finish()
    items = _answers(alice, Case.objects.get())["items"]
    assert items[1]["answer"] == '<script>alert("x")</script> & more'  # stored as written


def test_another_organizations_slug_is_404(alice: Persona, charlie: Persona) -> None:
    assert Client().get("/o/no-such-org/").status_code == 404
    visitor = Visitor(alice.org.slug)
    visitor.start("summons")
    # The same browser at another organization's pages: no conversation there.
    other = Visitor(charlie.org.slug, client=visitor.client)
    assert other.get(other.url("step/")).status_code == 410
    assert other.post(other.url("consent/"), {"agree": "1"}).status_code == 410


def test_answers_in_progress_are_stored_encrypted(visitor: Visitor) -> None:
    visitor.start("other")
    visitor.answer("topic", "legal")
    row = IntakeConversation.objects.get()
    assert b"legal" not in bytes(row.state) and b"topic" not in bytes(row.state)
    handle = visitor.client.cookies["haven_intake"]
    assert handle.value not in row.key and handle["httponly"] and handle["samesite"] == "Strict"


def test_the_language_can_be_chosen(visitor: Visitor) -> None:
    page = visitor.get(visitor.url("?lang=uk")).content.decode()
    assert "Перш ніж писати" in page
    visitor.post(visitor.url("consent/"), {"topic": "summons", "agree": "1"})
    assert "Яку повістку ви отримали?" in visitor.get(visitor.url("step/?s=kind")).content.decode()
    english = visitor.get(visitor.url("step/?s=kind&lang=en")).content.decode()
    assert "What kind of summons did you get?" in english


def test_nothing_is_stored_before_consent(visitor: Visitor) -> None:
    visitor.get(visitor.url("?lang=ru"))
    page = visitor.get(visitor.url("consent/?topic=acs")).content.decode()
    assert "Кто прочитает ваши ответы" in page and "Понятно, начать" in page
    assert not IntakeConversation.objects.exists()
    refused = visitor.post(visitor.url("consent/"), {"topic": "acs"})
    assert refused.status_code == 400 and "Чтобы продолжить, подтвердите" in refused.content.decode()
    assert not IntakeConversation.objects.exists()


def test_consent_can_be_cancelled(visitor: Visitor) -> None:
    visitor.start("acs")
    visitor.answer("stage", "", action="back")  # back from the first question to the consent page
    assert "Кто прочитает ваши ответы" in visitor.get(visitor.url("consent/")).content.decode()
    cancelled = visitor.post(visitor.url("consent/"), {"action": "cancel"})
    assert cancelled.headers["Location"] == visitor.url()
    assert not IntakeConversation.objects.exists()
    assert visitor.client.cookies["haven_intake"].value == ""


def test_a_category_that_is_not_offered_cannot_be_started(visitor: Visitor) -> None:
    visitor.get(visitor.url("?lang=ru"))
    refused = visitor.post(visitor.url("consent/"), {"topic": "no-such", "agree": "1"})
    assert refused.status_code == 302 and refused.headers["Location"] == visitor.url()
    assert visitor.get(visitor.url("consent/")).headers["Location"] == visitor.url()
    assert not IntakeConversation.objects.exists()


def test_a_made_up_handle_opens_nothing(visitor: Visitor) -> None:
    visitor.start("summons")
    visitor.client.cookies["haven_intake"] = "x" * 32
    assert visitor.get(visitor.url("step/")).status_code == 410
    visitor.client.cookies["haven_intake"] = "'; DROP TABLE --"
    assert visitor.get(visitor.url("step/")).status_code == 410
    assert IntakeConversation.objects.count() == 1


def test_web_intake_goes_to_the_team_that_takes_its_category(alice: Persona, visitor: Visitor) -> None:
    from haven.cases.keys import try_case_vault
    from tests.conftest import add_member

    legal = actions.create_team(alice.member, alice.vault(), "Legal", ["summons"])
    outsider = add_member(alice, "olga", "caseworker")  # in General only
    assert complete(visitor).status_code == 200
    case = Case.objects.get(organization=alice.org)
    assert case.team_id == legal.pk
    assert _answers(alice, case)["questionnaire"] == "summons"  # alice made Legal: she holds it
    assert try_case_vault(outsider.vault(), case) is None


def test_web_intake_goes_to_the_least_loaded_member_when_the_team_assigns_automatically(
        alice: Persona, visitor: Visitor) -> None:
    from haven.accounts.models import Role
    from haven.audit.models import AuditEntry
    from tests.conftest import add_member

    legal = actions.create_team(alice.member, alice.vault(), "Legal", ["summons"])
    bob = add_member(alice, "bob", Role.CASEWORKER, teams=[])
    actions.add_team_member(alice.member, alice.vault(), legal, bob.member)
    busy = actions.create_case(alice.org, category="summons", channel="web", summary="earlier")
    actions.assign(alice.member, busy, alice.member, busy.version)  # alice has one open case
    actions.set_auto_assign(alice.member, legal, True, 15)
    assert complete(visitor).status_code == 200
    case = Case.objects.exclude(pk=busy.pk).get(organization=alice.org)
    assert (case.team_id, case.assignee_id) == (legal.pk, bob.member.pk)
    entry = AuditEntry.objects.get(case_id=case.pk, action="case.assigned")
    assert entry.actor_id is None and entry.detail == {"assignee": bob.member.pk, "auto": True}
    assert _answers(bob, case)["questionnaire"] == "summons"  # bob reads what he was given
