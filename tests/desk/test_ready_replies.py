"""Ready replies: versions per language, variables, edit, suggestion, search, refusals."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from haven.audit.models import AuditEntry
from haven.cases import actions, replies, rules
from haven.cases.models import Case, CaseRecord, Outbox, RecordKind, SavedReply
from tests.conftest import Persona, RecordingHandler, make_case

pytestmark = pytest.mark.django_db

SUMMONS = {"title": "Summons basics", "category": "summons",
           "text_ru": "Дело №{case}. Срок: {deadline}. {organization}",
           "text_uk": "Справа №{case}. Строк: {deadline}. {organization}",
           "text_en": "Case #{case}. Due: {deadline}. {organization}"}


def _add(client: Client, **fields: str) -> object:
    return client.post("/desk/replies/", {**SUMMONS, **fields})


def _only(persona: Persona) -> SavedReply:
    return SavedReply.objects.get(organization_id=persona.org.pk)


def _box(page: str) -> str:
    return page.split('id="reply-text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def _with_deadline(persona: Persona, case: Case) -> Case:
    actions.add_deadline(persona.member, persona.vault(), case, rules.due_at(date(2027, 4, 1)),
                         "ACS application")
    case.refresh_from_db()
    return case


def test_a_reply_is_saved_with_a_version_per_language_and_encrypted(
    alice: Persona, alice_client: Client
) -> None:
    assert _add(alice_client).status_code == 302  # type: ignore[attr-defined]
    row = _only(alice)
    assert row.category == "summons"
    assert replies.decrypt(alice.vault(), row).versions == {
        "ru": SUMMONS["text_ru"], "uk": SUMMONS["text_uk"], "en": SUMMONS["text_en"]}
    for column in (bytes(row.title), bytes(row.body)):  # sealed, like other content
        assert b"Summons" not in column and "Справа".encode() not in column
    page = alice_client.get("/desk/replies/").content.decode()
    assert "Summons basics" in page and "Справа №{case}" in page and "Українська" in page


def test_the_requesters_language_picks_the_version_and_the_variables_are_filled(
    alice: Persona, alice_client: Client
) -> None:
    _add(alice_client)
    case = _with_deadline(alice, make_case(alice, lang="uk"))
    pk = _only(alice).pk
    page = alice_client.get(f"/desk/cases/{case.number}/?use_reply={pk}").content.decode()
    assert _box(page) == f"Справа №{case.number}. Строк: 1 квітня 2027. {alice.org.name}"
    assert "Ready reply “Summons basics” in Українська." in page
    english = make_case(alice, "I need help", lang="en")
    page = alice_client.get(f"/desk/cases/{english.number}/?use_reply={pk}").content.decode()
    assert _box(page).startswith(f"Case #{english.number}. Due: {{deadline}}.")
    assert "This case has no confirmed deadline, so {deadline} was left in the text." in page


def test_a_missing_language_falls_back_to_another_version_and_says_so(
    alice: Persona, alice_client: Client
) -> None:
    _add(alice_client, text_uk="", text_en="")
    case = make_case(alice, lang="uk")
    page = alice_client.get(f"/desk/cases/{case.number}/?use_reply={_only(alice).pk}").content.decode()
    assert _box(page).startswith(f"Дело №{case.number}.")
    assert "It has no version in Українська, the requester&#x27;s language" in page


def test_a_reply_still_holding_a_variable_is_not_sent(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice, lang="en")
    response = alice_client.post(f"/desk/cases/{case.number}/reply/",
                                 {"text": "Your date is {deadline}."})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The reply still holds {deadline} from a ready reply" in page
    assert _box(page) == "Your date is {deadline}."  # the text comes back
    assert not Outbox.objects.filter(case=case).exists()
    assert not CaseRecord.objects.filter(case=case, kind=RecordKind.OUTBOUND).exists()


def test_an_edit_changes_the_versions_and_is_audited(alice: Persona, alice_client: Client) -> None:
    _add(alice_client)
    row = _only(alice)
    form = alice_client.get(f"/desk/replies/{row.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in form and "Справа №{case}" in form
    response = alice_client.post(f"/desk/replies/{row.pk}/edit/", {
        **SUMMONS, "version": 1, "title": "Summons: first steps", "text_en": "", "category": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    edited = replies.decrypt(alice.vault(), row)
    assert (edited.title, edited.category, edited.version) == ("Summons: first steps", "", 2)
    assert set(edited.versions) == {"ru", "uk"}  # the emptied English version is gone
    assert AuditEntry.objects.filter(action="reply.edited", detail={"reply": row.pk}).exists()


def test_a_stale_edit_is_refused_and_shows_the_current_text(
    alice: Persona, alice_client: Client
) -> None:
    _add(alice_client)
    row = _only(alice)
    actions.edit_reply(alice.member, alice.vault(), row, "Changed by a colleague",
                       {"ru": "Новый текст"}, "", 1)
    response = alice_client.post(f"/desk/replies/{row.pk}/edit/",
                                 {**SUMMONS, "version": 1, "title": "My late change"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed or deleted this ready reply while you were editing it" in page
    assert "Новый текст" in page and 'name="version" value="2"' in page
    row.refresh_from_db()
    assert replies.decrypt(alice.vault(), row).title == "Changed by a colleague"


@pytest.mark.parametrize(("fields", "message"), [
    ({"text_ru": "Здравствуйте, {name}!"},
     "Haven cannot fill {name}. Use only {case}, {deadline}, {organization}"),
    ({"text_ru": "   ", "text_uk": "", "text_en": "\n"},
     "Write the text in at least one language"),
    ({"title": "  "}, "This field is required."),
    ({"category": "no-such-category"}, "Select a valid choice."),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    alice: Persona, alice_client: Client, fields: dict[str, str], message: str
) -> None:
    _add(alice_client)
    row = _only(alice)
    before = (bytes(row.title), bytes(row.body), row.category, row.version)
    for url, extra in (("/desk/replies/", {}), (f"/desk/replies/{row.pk}/edit/", {"version": 1})):
        response = alice_client.post(url, {**SUMMONS, **extra, **fields})
        assert response.status_code == 400, url
        assert message in response.content.decode().replace("&#x27;", "'"), url
    row.refresh_from_db()
    assert SavedReply.objects.count() == 1
    assert (bytes(row.title), bytes(row.body), row.category, row.version) == before


def test_the_typed_text_comes_back_after_a_refusal(alice: Persona, alice_client: Client) -> None:
    response = _add(alice_client, text_en="Dear {requester}, hello")
    assert "Dear {requester}, hello</textarea>" in response.content.decode()  # type: ignore[attr-defined]


def test_the_case_category_suggests_replies_first_and_the_picker_searches(
    alice: Persona, alice_client: Client
) -> None:
    _add(alice_client)
    _add(alice_client, title="Ticket money", category="money", text_ru="Деньги на билеты",
         text_uk="", text_en="")
    case = make_case(alice, category="summons")
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    suggested = page.split("Suggested for", 1)[1].split("</optgroup>", 1)[0]
    assert "Summons basics (ru, uk, en)" in suggested and "Ticket money" not in suggested
    assert "Ticket money (ru)" in page.split("Other ready replies", 1)[1]
    found = alice_client.get(f"/desk/cases/{case.number}/?reply_q=билеты&find=1").content.decode()
    assert "Ticket money" in found and "Summons basics" not in found and _box(found) == ""
    none = alice_client.get(f"/desk/cases/{case.number}/?reply_q=zzz&find=1").content.decode()
    assert "No ready reply holds these words." in none


def test_the_replies_page_searches_titles_and_every_version(
    alice: Persona, alice_client: Client
) -> None:
    _add(alice_client)
    _add(alice_client, title="Ticket money", category="money", text_ru="Деньги на билеты",
         text_uk="", text_en="")
    for query, shown, hidden in (("строк", "Summons basics", "Ticket money"),
                                 ("ticket", "Ticket money", "Summons basics")):
        page = alice_client.get("/desk/replies/", {"q": query}).content.decode()
        assert shown in page and hidden not in page, query


def test_a_reply_written_before_versions_is_the_default_languages(
    alice: Persona, alice_client: Client
) -> None:
    vault = alice.vault()
    old = SavedReply.objects.create(organization_id=alice.org.pk, title=vault.encrypt_text("Old"),
                                    body=vault.encrypt_text("Старый текст для {case}"))
    assert replies.decrypt(vault, old).versions == {"ru": "Старый текст для {case}"}
    case = make_case(alice, lang="ru")
    page = alice_client.get(f"/desk/cases/{case.number}/?use_reply={old.pk}").content.decode()
    assert _box(page) == f"Старый текст для {case.number}"


def test_a_caseworker_uses_replies_but_cannot_manage_them(
    alice: Persona, bob: Persona, alice_client: Client, bob_client: Client
) -> None:
    _add(alice_client)
    row = _only(alice)
    case = make_case(alice, lang="ru")
    page = bob_client.get(f"/desk/cases/{case.number}/?use_reply={row.pk}").content.decode()
    assert _box(page).startswith(f"Дело №{case.number}.")
    assert bob_client.get(f"/desk/replies/{row.pk}/edit/").status_code == 404  # no oracle
    assert bob_client.post(f"/desk/replies/{row.pk}/delete/").status_code == 404
    assert SavedReply.objects.filter(pk=row.pk).exists()


def test_another_organization_gets_404_on_every_replies_url(
    alice: Persona, alice_client: Client, charlie: Persona, charlie_client: Client
) -> None:
    _add(alice_client)
    row = _only(alice)
    before = (bytes(row.title), bytes(row.body), row.version)
    assert charlie_client.get(f"/desk/replies/{row.pk}/edit/").status_code == 404
    assert charlie_client.post(f"/desk/replies/{row.pk}/edit/",
                               {**SUMMONS, "version": 1, "title": "hijacked"}).status_code == 404
    assert charlie_client.post(f"/desk/replies/{row.pk}/delete/").status_code == 404
    assert "Summons basics" not in charlie_client.get("/desk/replies/?q=summons").content.decode()
    theirs = make_case(charlie, lang="ru")
    page = charlie_client.get(f"/desk/cases/{theirs.number}/?use_reply={row.pk}").content.decode()
    assert _box(page) == "" and "Summons basics" not in page
    row.refresh_from_db()
    assert (bytes(row.title), bytes(row.body), row.version) == before


def test_delete_is_audited(alice: Persona, alice_client: Client) -> None:
    _add(alice_client)
    pk = _only(alice).pk
    assert alice_client.post(f"/desk/replies/{pk}/delete/").status_code == 302
    assert not SavedReply.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.filter(action="reply.deleted", detail={"reply": pk}).exists()
