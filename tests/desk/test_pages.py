from __future__ import annotations

from django.conf import settings
from django.test import Client

from haven.cases import actions
from haven.cases.models import Case, CaseRecord, Status
from haven.outbox.models import Outbox
from tests.conftest import Persona, RecordingHandler, add_member, log_in, make_case


def test_the_new_queue_shows_decrypted_summaries_and_counts(alice: Persona, alice_client: Client) -> None:
    make_case(alice, "Повестка на завтра")
    make_case(alice, "Need money for bus tickets", category="money")
    page = alice_client.get("/desk/").content.decode()
    assert "Повестка на завтра" in page and "Need money for bus tickets" in page
    only_money = alice_client.get("/desk/?queue=new&category=money").content.decode()
    assert "Need money for bus tickets" in only_money and "Повестка на завтра" not in only_money


def test_queues_mine_and_overdue(alice: Persona, bob: Persona, bob_client: Client) -> None:
    mine = make_case(alice, "bob takes this one")
    make_case(alice, "nobody's")
    actions.assign(bob.member, mine, bob.member, None)
    page = bob_client.get("/desk/?queue=mine").content.decode()
    assert "bob takes this one" in page and "nobody&#x27;s" not in page


def test_filtering_by_tag_uses_the_blind_tag_index(alice: Persona, alice_client: Client) -> None:
    tagged = make_case(alice, "tagged case")
    make_case(alice, "plain case")
    actions.set_tags(alice.member, alice.vault(), tagged, ["Urgent-docs", "family"], None)
    page = alice_client.get("/desk/?queue=open&tag=urgent-docs").content.decode()
    assert "tagged case" in page and "plain case" not in page


def test_the_case_page_lays_out_answers_and_marks_notes_private(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice, "Мне пришла повестка")
    actions.add_note(alice.member, alice.vault(), case, "call back on Monday")
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Мне пришла повестка" in page
    assert 'class="record note"' in page and "call back on Monday" in page
    assert "not sent to the requester" in page


def test_script_in_an_answer_is_shown_as_text(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice, "<script>alert(1)</script>")
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_another_organization_gets_404_on_every_case_url(alice: Persona, charlie_client: Client) -> None:
    case = make_case(alice, "private to first")
    base = f"/desk/cases/{case.number}"
    for url in (f"{base}/", f"{base}/audit/", f"{base}/burn/", f"{base}/deadline/propose/"):
        assert charlie_client.get(url).status_code == 404, url
    for action in ("save", "note", "reply", "deadline"):
        response = charlie_client.post(f"{base}/{action}/", {"text": "x", "version": 1,
                                                              "status": "closed"})
        assert response.status_code == 404, action
    assert not CaseRecord.objects.filter(case=case, kind="note").exists()
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    assert "private to first" not in charlie_client.get("/desk/?queue=open").content.decode()
    assert "private to first" not in charlie_client.get("/desk/search/?q=private").content.decode()


def test_a_reply_from_the_page_goes_to_the_outbox(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice)
    response = alice_client.post(f"/desk/cases/{case.number}/reply/", {"text": "We will call you"})
    assert response.status_code == 302
    assert Outbox.objects.filter(case=case).count() == 1
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "We will call you" in page and "Queued" in page


def test_a_reply_on_a_desk_recorded_case_is_refused_with_a_message(
    alice: Persona, alice_client: Client
) -> None:
    response = alice_client.post("/desk/cases/new/", {"category": "other", "summary": "phone call",
                                                      "text": "called about a summons",
                                                      "priority": 0})
    case = Case.objects.get(organization=alice.org)
    assert response.status_code == 302 and case.channel == "desk"
    page = alice_client.post(f"/desk/cases/{case.number}/reply/",
                             {"text": "Bring your military ID on Monday"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "no channel to reply through" in html
    # Nothing was sent, and nothing the caseworker typed was lost: it is back in its box.
    assert ">Bring your military ID on Monday</textarea>" in html
    assert not Outbox.objects.exists()


def test_a_refused_note_keeps_its_text(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    long_note = "Called the commission; they said " + "x" * actions.MAX_TEXT
    page = alice_client.post(f"/desk/cases/{case.number}/note/", {"text": long_note})
    assert page.status_code == 400
    html = page.content.decode()
    assert "the limit is 20000. Shorten it or split it." in html
    assert f">{long_note}</textarea>" in html
    assert not CaseRecord.objects.filter(case=case, kind="note").exists()


def test_a_stale_status_form_is_refused_and_says_so(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    old = case.version
    actions.set_status(alice.member, case, Status.TRIAGE, old)
    page = alice_client.post(f"/desk/cases/{case.number}/save/",
                             {"status": Status.CLOSED, "version": old, "priority": 0,
                              "category": "summons", "assignee": "", "tags": ""}, follow=True)
    assert "Someone changed this case" in page.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.TRIAGE


def test_search_finds_a_case_by_any_word_form(alice: Persona, alice_client: Client) -> None:
    make_case(alice, "Контракт продлили без согласия")
    make_case(alice, "Other topic entirely")
    page = alice_client.get("/desk/search/?q=контракта").content.decode()
    assert "Контракт продлили" in page and "Other topic" not in page
    assert "1 case found" in page


def test_the_charts_page_draws_svg(alice: Persona, alice_client: Client) -> None:
    make_case(alice)
    page = alice_client.get("/desk/charts/").content.decode()
    assert page.count("<svg") >= 3 and "<rect" in page


def test_a_deadline_proposed_from_a_rule_is_confirmed_by_the_caseworker(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice, category="acs")
    preview = alice_client.post(f"/desk/cases/{case.number}/deadline/propose/",
                                {"rule": "acs-autumn-callup", "value": "2027"}).content.decode()
    assert "2027-04-01" in preview and not case.deadlines.exists()
    alice_client.post(f"/desk/cases/{case.number}/deadline/propose/",
                      {"rule": "acs-autumn-callup", "value": "2027", "confirm": "yes"})
    deadline = case.deadlines.get()
    assert deadline.due.date().isoformat() == "2027-04-01"
    assert actions.deadline_rule(alice.vault(), deadline) == "acs-autumn-callup"
    assert b"acs-autumn-callup" not in bytes(deadline.sealed_rule)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "due by 1 April" in page


def test_a_bad_rule_input_is_explained(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    response = alice_client.post(f"/desk/cases/{case.number}/deadline/propose/",
                                 {"rule": "regional-appeal", "value": "yesterday"})
    assert response.status_code == 400 and "needs a date like" in response.content.decode()


def test_burning_needs_the_typed_number_and_a_coordinator(
    alice: Persona, bob: Persona, bob_client: Client, alice_client: Client
) -> None:
    case = make_case(alice, "burn target")
    assert bob_client.get(f"/desk/cases/{case.number}/burn/").status_code == 404
    wrong = alice_client.post(f"/desk/cases/{case.number}/burn/", {"confirm": "999"})
    assert wrong.status_code == 400 and CaseRecord.objects.filter(case=case).exists()
    alice_client.post(f"/desk/cases/{case.number}/burn/", {"confirm": str(case.number)})
    assert not CaseRecord.objects.filter(case=case).exists()
    assert "burn target" not in alice_client.get(f"/desk/cases/{case.number}/").content.decode()


def test_the_audit_page_lists_readings_for_coordinators_only(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    case = make_case(alice)
    bob_client.get(f"/desk/cases/{case.number}/")
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = alice_client.get(f"/desk/cases/{case.number}/audit/").content.decode()
    assert "Case opened and read" in page and "Bob" in page
    assert bob_client.get(f"/desk/cases/{case.number}/audit/").status_code == 404


def test_a_viewer_reads_but_cannot_change(alice: Persona) -> None:
    viewer = add_member(alice, "vera", "viewer")
    client = log_in(Client(), viewer)
    case = make_case(alice, "viewer can read")
    assert "viewer can read" in client.get(f"/desk/cases/{case.number}/").content.decode()
    assert client.post(f"/desk/cases/{case.number}/note/", {"text": "x"}).status_code == 404
    assert not CaseRecord.objects.filter(case=case, kind="note").exists()


def test_ready_replies_prefill_the_reply_box(alice: Persona, alice_client: Client) -> None:
    alice_client.post("/desk/replies/", {"title": "Summons basics", "text_ru": "Do not panic; read this."})
    case = make_case(alice)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Summons basics" in page
    reply_id = page.split('name="use_reply"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    filled = alice_client.get(f"/desk/cases/{case.number}/?use_reply={reply_id}").content.decode()
    assert "Do not panic; read this.</textarea>" in filled


def test_the_case_page_shows_what_was_paid_for_the_case(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Money paid for this case" in page and "Nothing has been paid for this case." in page
    assert f"/funds/payouts/new/?case={case.number}" in page
