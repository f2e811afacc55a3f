"""Bulk work in a browser without JavaScript: tick cases, choose one action, read the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.cases import actions
from haven.cases.models import Case, CaseRecord, RecordKind, Status
from tests.conftest import make_case, make_org

from .conftest import NewContext, speak
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = ("A summons came to my registered address", "My son was wounded and is in hospital",
         "We need to leave Kharkiv with two children")


def test_closing_ticked_cases_with_a_reason_without_javascript(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    cases = [make_case(alice, text) for text in TEXTS]
    page = new_context(javascript=False).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/desk/?queue=open")
    page.get_by_label(f"Select case #{cases[0].number}", exact=True).check()
    page.get_by_label(f"Select case #{cases[2].number}", exact=True).check()
    page.get_by_label("Action").select_option(label="Close with the reason written below")
    page.get_by_label("Reason for closing").fill("The family reached safety")
    page.get_by_role("button", name="Apply to the ticked cases").click()
    expect(page.get_by_role("status")).to_have_text("2 cases changed.")
    assert page.url == live_server.url + "/desk/?queue=open"
    page.screenshot(path=tmp_path / "bulk-desktop.png", full_page=True)
    statuses = [Case.objects.get(pk=c.pk).status for c in cases]
    assert statuses == [Status.CLOSED, Status.NEW, Status.CLOSED]
    assert CaseRecord.objects.filter(case__in=[cases[0], cases[2]], kind=RecordKind.NOTE).count() == 2
    # The closed cases left the "All open" queue; the one left is not ticked.
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(page.get_by_label(f"Select case #{cases[1].number}", exact=True)).not_to_be_checked()


def test_selecting_a_whole_page_on_a_phone_and_a_stale_case_is_named(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    cases = [make_case(alice, text) for text in TEXTS]
    context = new_context(javascript=False, phone=True)
    page = context.new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/desk/?queue=open")
    assert _overflow(page) <= 0
    page.get_by_role("link", name="Select all on this page").click()
    boxes = page.locator('table.cases input[type="checkbox"]')
    expect(boxes).to_have_count(3)
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    bar = page.locator(".bulk-bar")
    box = bar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert _overflow(page) <= 0
    page.screenshot(path=tmp_path / "bulk-phone.png", full_page=True)
    # Someone else changes a case while the page is open.
    stale = Case.objects.get(pk=cases[1].pk)
    actions.set_priority(alice.member, stale, 2, stale.version)
    page.get_by_label("Action").select_option(label="Assign to me")
    page.get_by_role("button", name="Apply to the ticked cases").click()
    expect(page.get_by_role("status")).to_have_text(
        f"2 cases changed; 1 was not changed: #{stale.number}: changed since you loaded the page.")
    assert [Case.objects.get(pk=c.pk).assignee_id for c in cases] == [
        alice.member.pk, None, alice.member.pk]
    assert _overflow(page) <= 0
    for lang, legend, label in (("ru", "Изменить отмеченные дела", "Выбрать дело #"),
                                ("uk", "Змінити позначені справи", "Вибрати справу #")):
        speak(context, live_server.url, lang)
        page.goto("/desk/?queue=open")
        expect(page.locator(".bulk-bar legend")).to_have_text(legend)
        expect(page.get_by_label(f"{label}{stale.number}", exact=True)).to_be_visible()
        assert _overflow(page) <= 0
