"""Defects from the user walk-through (issue 12), each seen on the rendered page."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client

from haven.audit.models import AuditEntry
from haven.cases import actions
from haven.cases.models import Case, CaseRecord, Delivery, RecordKind, Reminder, Status
from haven.vault import seal_text
from tests.conftest import Persona, RecordingHandler, make_case


def test_reminders_without_a_member_show_to_everyone_in_the_organization(
    alice: Persona, bob: Persona, bob_client: Client, charlie_client: Client
) -> None:
    case = make_case(alice, "first request")
    twin = make_case(alice, "same person again")
    Reminder.objects.create(organization=alice.org, case=twin, kind="possible_duplicate",
                            detail={"other": case.number})
    Reminder.objects.create(organization=alice.org, case=case, kind="delivery_failed",
                            detail={"error": "requester-gone"})
    Reminder.objects.create(organization=alice.org, case=case, kind="telegram_blocked")
    Reminder.objects.create(organization=alice.org, case=case, member=alice.member,
                            kind="deadline", detail={"hours": 24})
    page = bob_client.get("/desk/").content.decode()
    assert f"may duplicate case #{case.number}" in page
    assert "a reply could not be delivered" in page
    assert "the requester blocked the Telegram bot" in page
    assert "a deadline is due within 24 hours" not in page  # alice's own reminder
    assert "may duplicate" not in charlie_client.get("/desk/").content.decode()


def _form(case: Case, **changes: object) -> dict[str, object]:
    """The case form as the page sends it, with nothing changed unless asked."""
    return {"version": case.version, "status": case.status, "assignee": case.assignee_id or "",
            "priority": case.priority, "category": case.category, "tags": "", **changes}


def _audited(case: Case) -> list[str]:
    return list(AuditEntry.objects.filter(case_id=case.pk).exclude(action="case.read")
                .order_by("seq").values_list("action", flat=True))


def test_the_status_box_preselects_the_current_status(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.IN_PROGRESS, case.version)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    select = page.split('<select id="status" name="status">', 1)[1].split("</select>", 1)[0]
    assert '<option value="in_progress" selected>In progress (now)</option>' in select
    assert select.count(" selected") == 1


def test_a_reply_moves_a_new_case_to_waiting_and_says_so(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice)
    page = alice_client.post(f"/desk/cases/{case.number}/reply/", {"text": "Which city are you in?"},
                             follow=True).content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.WAITING
    assert "<dd>Waiting on requester</dd>" in page
    assert "The case now waits on the requester." in page
    assert _audited(case)[-2:] == ["case.reply", "case.status"]


def test_a_reply_leaves_other_statuses_alone_and_claims_nothing(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.REFERRED, case.version)
    page = alice_client.post(f"/desk/cases/{case.number}/reply/", {"text": "Our partner will call"},
                             follow=True).content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.REFERRED
    assert "<dd>Referred</dd>" in page and "waits on the requester" not in page


def test_a_web_reply_explains_when_the_requester_sees_it(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice)
    page = alice_client.post(f"/desk/cases/{case.number}/reply/", {"text": "We will call you"},
                             follow=True).content.decode()
    assert "Queued" in page
    assert "reads it on the follow-up page when they next come back with their codename" in page
    assert "cannot tell whether they have read it" in page


def test_the_case_form_saves_only_what_changed_each_with_its_audit_entry(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    before = _audited(case)
    page = alice_client.post(f"/desk/cases/{case.number}/save/",
                             _form(case, priority=2, tags="Family, docs"), follow=True)
    html = page.content.decode()
    assert "Saved: priority, tags." in html and "<dd>Urgent</dd>" in html
    assert _audited(case)[len(before):] == ["case.priority", "case.tags"]
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == Status.NEW and stored.category == "summons"
    again = alice_client.post(f"/desk/cases/{case.number}/save/",
                              _form(stored, priority=2, tags="docs, family"), follow=True)
    assert "Nothing was changed." in again.content.decode()
    assert len(_audited(case)) == len(before) + 2


def test_a_refused_field_comes_back_with_its_message_and_the_rest_is_saved(
    alice: Persona, bob: Persona, bob_client: Client
) -> None:
    case = make_case(alice)
    page = bob_client.post(f"/desk/cases/{case.number}/save/",
                           _form(case, assignee=alice.member.pk, status=Status.WAITING,
                                 tags="housing"))
    assert page.status_code == 400
    html = page.content.decode()
    assert "Saved: tags, status." in html
    assert "Your role does not allow this; ask a coordinator." in html
    assignee = html.split('<select id="assignee" name="assignee">', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{alice.member.pk}" selected>' in assignee  # the choice is kept
    stored = Case.objects.get(pk=case.pk)
    assert stored.assignee is None and stored.status == Status.WAITING
    assert "case.assigned" not in _audited(case)


def test_a_refused_status_keeps_its_message(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.TRIAGE, case.version)
    page = alice_client.post(f"/desk/cases/{case.number}/save/",
                             _form(case, status=Status.NEW, priority=1))
    html = page.content.decode()
    assert page.status_code == 400 and "Saved: priority." in html
    assert "A case that is “Triage” cannot become “New”." in html
    assert Case.objects.get(pk=case.pk).status == Status.TRIAGE
    page = alice_client.post(f"/desk/cases/{case.number}/save/",
                             _form(Case.objects.get(pk=case.pk), status="closed-forever"))
    assert page.status_code == 400 and "Select a valid choice" in page.content.decode()


def _arrived(page: str) -> str:
    return page.split("<dt>Arrived</dt><dd>", 1)[1].split("</dd>", 1)[0]


def test_times_on_the_desk_say_their_zone_and_follow_the_member(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    case = make_case(alice)
    Case.objects.filter(pk=case.pk).update(created=datetime(2026, 3, 2, 11, 5, tzinfo=UTC))
    url = f"/desk/cases/{case.number}/"
    assert "2026-03-02 11:05 UTC</time>" in _arrived(alice_client.get(url).content.decode())
    alice_client.post("/org/time-zone/", {"time_zone": "Europe/Moscow"})
    assert "2026-03-02 14:05 MSK</time>" in _arrived(bob_client.get(url).content.decode())
    assert "2026-03-02 14:05 MSK</time>" in bob_client.get("/desk/?queue=open").content.decode()
    bob_client.post("/account/time-zone/", {"time_zone": "Asia/Tbilisi"})
    assert "2026-03-02 15:05 UTC+4</time>" in _arrived(bob_client.get(url).content.decode())
    assert "2026-03-02 14:05 MSK</time>" in _arrived(alice_client.get(url).content.decode())
    audit = alice_client.get(f"{url}audit/").content.decode()
    assert " MSK</time>" in audit
    actions_logged = AuditEntry.objects.filter(organization=alice.org).values_list("action", flat=True)
    assert {"organization.time_zone", "member.time_zone"} <= set(actions_logged)


def test_an_unknown_time_zone_is_refused_with_a_clear_message(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    page = bob_client.post("/account/time-zone/", {"time_zone": "Europe/Moskow"})
    assert page.status_code == 400
    assert "“Europe/Moskow” is not a time zone Haven knows." in page.content.decode()
    refused = alice_client.post("/org/time-zone/", {"time_zone": "Mars/Olympus"}, follow=True)
    assert "“Mars/Olympus” is not a time zone Haven knows." in refused.content.decode()
    assert bob_client.post("/org/time-zone/", {"time_zone": "Europe/Kyiv"}).status_code == 404
    alice.org.refresh_from_db()
    bob.member.refresh_from_db()
    assert alice.org.time_zone == "UTC" and bob.member.time_zone == ""
    assert not AuditEntry.objects.filter(action__endswith=".time_zone").exists()


def test_a_deadline_keeps_its_date_west_of_greenwich(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    actions.add_deadline(alice.member, alice.vault(), case, datetime(2027, 4, 1, tzinfo=UTC), "appeal")
    alice_client.post("/account/time-zone/", {"time_zone": "America/New_York"})
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert '<time datetime="2027-04-01" class="">2027-04-01</time>' in page
    assert "2027-03-31" not in page


def test_a_summary_in_another_language_is_marked_with_it(alice: Persona, alice_client: Client) -> None:
    make_case(alice, "Прийшла повістка до ТЦК", lang="uk")
    make_case(alice, "A summons came by post", lang="en")
    page = alice_client.get("/desk/").content.decode()
    assert 'lang="uk">Прийшла повістка до ТЦК</a> <span class="badge lang" lang="uk">UK</span>' in page
    assert 'lang="en">A summons came by post</a></td>' in page  # the page's own language: no tag
    russian = alice_client.get("/desk/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<span class="badge lang" lang="en">EN</span>' in russian


def test_the_queue_does_not_repeat_the_category_in_the_summary(
    alice: Persona, alice_client: Client
) -> None:
    # Intake's summaries began with the category's name in the requester's language; those
    # already stored are plain text sealed to the organization.
    case = make_case(alice)
    old = "Повестки и мобилизация — Электронную (в реестре / Госуслугах)"
    Case.objects.filter(pk=case.pk).update(summary=seal_text(bytes(case.public_key), old))
    page = alice_client.get("/desk/").content.decode()
    assert '">Электронную (в реестре / Госуслугах)</a>' in page
    assert "Повестки и мобилизация —" not in page


def test_search_results_say_where_a_case_matched_without_showing_answers(
    alice: Persona, alice_client: Client
) -> None:
    secret = {"items": [{"key": "unit", "question": "Your unit?", "answer": "в/ч 12345 Кантемировка",
                         "sensitive": True}]}
    in_answers = make_case(alice, "Need advice", answers=secret, first_message="")
    in_note = make_case(alice, "Other question", first_message="")
    actions.add_note(alice.member, alice.vault(), in_note, "Кантемировка mentioned on the phone")
    in_summary = make_case(alice, "Кантемировка again", first_message="", channel="desk")
    intake_summary = make_case(alice, "Кантемировка from intake", first_message="")
    page = alice_client.get("/desk/search/?q=Кантемировка").content.decode()
    # Answers and intake's summary (made of answers) are not in the index (review H-2).
    assert "2 cases found" in page
    assert f">#{in_answers.number}</a>" not in page and f">#{intake_summary.number}</a>" not in page
    rows = {case.number: page.split(f">#{case.number}</a>", 1)[1].split("</tr>", 1)[0]
            for case in (in_note, in_summary)}
    assert "matched in: note" in rows[in_note.number]
    assert "matched in: summary" in rows[in_summary.number]
    assert "12345" not in page
    russian = alice_client.get("/desk/search/?q=Кантемировка", HTTP_ACCEPT_LANGUAGE="ru")
    assert "найдено в: заметке" in russian.content.decode()


def test_search_reports_a_requesters_message(alice: Persona, alice_client: Client) -> None:
    make_case(alice, "Short line", first_message="Мой сын в Кантемировке", answers={})
    page = alice_client.get("/desk/search/?q=Кантемировка").content.decode()
    assert "matched in: requester&#x27;s message" in page


def test_a_telegram_reply_says_it_goes_at_telegrams_pace(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice, channel="telegram")
    CaseRecord.objects.create(case=case, kind=RecordKind.OUTBOUND, author=alice.member,
                              body=alice.case_vault(case).encrypt_text("We got your message"),
                              delivery=Delivery.QUEUED)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Queued: sent at Telegram's pace" in page
    assert "follow-up page" not in page


def test_dismissing_a_reminder_returns_to_the_page_but_never_to_another_site(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    kept, *rest = [Reminder.objects.create(organization=alice.org, case=case, kind="telegram_blocked")
                   for _ in range(4)]
    back = alice_client.post(f"/desk/reminders/{kept.pk}/dismiss/", {"next": "/desk/?view=mine"})
    assert back.headers["Location"] == "/desk/?view=mine"
    for reminder, target in zip(rest, ["https://evil.example/", "//evil.example/x",
                                       "javascript:alert(1)"], strict=True):
        response = alice_client.post(f"/desk/reminders/{reminder.pk}/dismiss/", {"next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    assert not Reminder.objects.filter(organization=alice.org, dismissed=False).exists()
