"""A requester in chromium: intake, codename, a reply from the desk, an answer, erasing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from haven import outbox
from haven.cases import actions
from haven.cases.models import Case, CaseRecord, RecordKind, Status
from tests.conftest import Persona, make_org

from .conftest import NewContext

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS_OFF = pytest.mark.parametrize("context", [False], indirect=True, ids=["js-off"])
POSTED = (date.today() - timedelta(days=3)).isoformat()

RU = {
    "topic": "Повестки и мобилизация", "start": "Понятно, начать", "next": "Далее",
    "kind": "Электронную (в реестре / Госуслугах)", "posted": "Дата, когда повестка появилась в реестре",
    "purpose": "Медкомиссия", "abroad": "Нет", "situation": "Что ещё важно знать?",
    "send": "Отправить обращение", "done": "Обращение отправлено", "open": "Открыть обращение",
    "codename": "Ваше кодовое имя", "write": "Написать нам", "reply": "Отправить",
    "sent": "Ваше сообщение отправлено.", "erase": "Стереть обращение…",
    "erase_yes": "Да, стереть всё", "erased": "Обращение стёрто", "check": "Проверьте ваши ответы",
}
EN = {
    "topic": "Summons and mobilization", "start": "I understand, start", "next": "Next",
    "kind": "Electronic (in the register / Gosuslugi)", "posted": "Date the summons appeared in the register",
    "purpose": "Medical board", "abroad": "No", "situation": "What else should we know?",
    "send": "Send my request", "done": "Your request was sent", "open": "Open my request",
    "codename": "Your codename", "write": "Write to us", "reply": "Send",
    "sent": "Your message was sent.", "erase": "Erase my request…",
    "erase_yes": "Yes, erase everything", "erased": "Your request was erased", "check": "Check your answers",
}


def _next(page: Page, words: dict[str, str]) -> None:
    page.get_by_role("button", name=words["next"], exact=True).click()


def _intake(page: Page, words: dict[str, str], situation: str) -> str:
    page.get_by_role("link", name=words["topic"]).click()
    page.get_by_role("button", name=words["start"]).click()
    page.get_by_label(words["kind"]).check()
    _next(page, words)
    page.get_by_label(words["posted"]).fill(POSTED)
    _next(page, words)
    _next(page, words)  # the date to report is optional
    page.get_by_label(words["purpose"]).check()
    _next(page, words)
    page.get_by_label(words["abroad"], exact=True).check()
    _next(page, words)
    page.get_by_label(words["situation"]).fill(situation)
    _next(page, words)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["check"])
    expect(page.get_by_role("main")).to_contain_text(situation)
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["done"])
    codename = page.locator("#codename code").inner_text().strip()
    assert len(codename.split()) == 7
    return codename


def _desk_replies(alice: Persona, text: str) -> Case:
    case = Case.objects.get(organization=alice.org)
    actions.reply(alice.member, alice.vault(), case, text)
    assert outbox.run_once().sent == 1
    return case


def _follow_up(page: Page, words: dict[str, str], codename: str, reply: str, answer: str) -> None:
    page.get_by_label(words["codename"]).fill(codename)
    page.get_by_role("button", name=words["open"]).click()
    expect(page.get_by_role("main")).to_contain_text(reply)
    page.get_by_label(words["write"]).fill(answer)
    page.get_by_role("button", name=words["reply"], exact=True).click()
    expect(page.get_by_role("status")).to_have_text(words["sent"])
    expect(page.locator("ol.thread li")).to_have_count(2)
    page.get_by_role("button", name=words["erase"]).click()
    page.get_by_role("button", name=words["erase_yes"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["erased"])


@JS_OFF
def test_a_requester_completes_an_intake_in_russian_without_javascript(
    page: Page, live_server: LiveServer
) -> None:
    alice, _made = make_org("first", "alice")
    page.goto("/o/first/?lang=ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("link", name="Быстро уйти")).to_be_visible()
    expect(page.get_by_role("heading", name="Прежде чем писать")).to_be_visible()
    codename = _intake(page, RU, "Повестка пришла <b>вчера</b>")

    case = Case.objects.get(organization=alice.org)
    assert (case.status, case.category) == (Status.NEW, "summons")
    _desk_replies(alice, "Не ходите в военкомат до консультации.")

    later = page.context.new_page()  # days later, from the organization's page
    later.goto("/o/first/")
    later.get_by_role("link", name="Уже отправили обращение? Вернитесь к нему по кодовому имени").click()
    _follow_up(later, RU, codename, "Не ходите в военкомат до консультации.", "Спасибо, приду.")
    case.refresh_from_db()
    assert case.erased and not CaseRecord.objects.filter(case=case).exists()


def test_a_requester_completes_an_intake_in_english_with_javascript(
    page: Page, live_server: LiveServer
) -> None:
    alice, _made = make_org("first", "alice")
    page.goto("/o/first/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    codename = _intake(page, EN, "I got a summons yesterday.")
    case = Case.objects.get(organization=alice.org)
    record = CaseRecord.objects.get(case=case, kind=RecordKind.ANSWERS)
    assert "I got a summons yesterday." in alice.case_vault(record.case).decrypt_text(bytes(record.body))
    _desk_replies(alice, "Please do not go before we talk.")
    page.goto("/o/first/follow-up/")
    _follow_up(page, EN, codename, "Please do not go before we talk.", "Thank you.")
    case.refresh_from_db()
    assert case.erased


@JS_OFF
def test_back_and_the_browsers_own_back_button_keep_answers(page: Page, live_server: LiveServer) -> None:
    make_org("first", "alice")
    page.goto("/o/first/")
    page.get_by_role("link", name=EN["topic"]).click()
    page.get_by_role("button", name=EN["start"]).click()
    page.get_by_label(EN["kind"]).check()
    _next(page, EN)
    page.get_by_label(EN["posted"]).fill(POSTED)
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label(EN["kind"])).to_be_checked()
    _next(page, EN)
    expect(page.get_by_label(EN["posted"])).to_have_value(POSTED)
    page.go_back()
    expect(page.get_by_label(EN["kind"])).to_be_checked()


def test_the_intake_fits_a_phone_and_loads_nothing_from_elsewhere(
    new_context: NewContext, live_server: LiveServer
) -> None:
    make_org("first", "alice")
    context = new_context(phone=True)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.goto("/o/first/")
    page.get_by_role("link", name=EN["topic"]).click()
    page.get_by_role("button", name=EN["start"]).click()
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0
    page.get_by_label(EN["kind"]).check()
    _next(page, EN)
    expect(page.get_by_label(EN["posted"])).to_be_visible()
    assert page.evaluate(overflow) <= 0
    assert live_server.url + "/static/haven/intake.css" in requested
    assert [url for url in requested if not url.startswith(live_server.url + "/")] == []


OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_on_a_phone_without_javascript_the_codename_survives_a_refresh_until_written_down(
    new_context: NewContext, live_server: LiveServer
) -> None:
    make_org("first", "alice")
    page = new_context(javascript=False, phone=True).new_page()
    page.goto("/o/first/")
    codename = _intake(page, EN, "A summons came.")
    page.reload()  # a refresh, or a connection that dropped: the codename is still there
    expect(page.locator("#codename code")).to_have_text(codename)
    written = page.get_by_role("button", name="I have written it down")
    expect(written).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    written.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How to come back")
    expect(page.get_by_role("main")).not_to_contain_text(codename)
    page.goto("/o/first/sent/")
    expect(page.get_by_role("main")).not_to_contain_text(codename)
    page.get_by_role("link", name="Follow up with a codename").first.click()
    expect(page.get_by_label(EN["codename"])).to_be_visible()


def test_the_knowledge_base_on_a_phone_has_the_quick_exit_and_leads_back(
    new_context: NewContext, live_server: LiveServer
) -> None:
    make_org("first", "alice")
    page = new_context(javascript=False, phone=True).new_page()
    page.goto("/o/first/")
    page.get_by_role("link", name="Read short answers to common questions first (knowledge base)").click()
    expect(page.get_by_role("link", name="Leave quickly")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    expect(page.get_by_role("link", name="Leave quickly")).to_have_attribute(
        "href", "https://www.bbc.com/weather")
    page.get_by_role("link", name="Haven", exact=True).click()
    expect(page).to_have_url(live_server.url + "/o/first/")
