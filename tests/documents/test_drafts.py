"""The ACS application drafted from the intake answers: filled, edited, saved, sent, exported."""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from haven.audit.models import AuditEntry
from haven.cases import actions
from haven.cases.models import Case, CaseRecord, Channel, Outbox, RecordKind
from haven.desk import documents
from haven.intake import registry
from haven.intake.engine import CONFIRM
from tests.conftest import Persona, RecordingHandler, add_member, log_in, make_case
from tests.documents.pdftext import pdf_text

pytestmark = pytest.mark.django_db
DOC = "acs-application"
FACTS_URLS = re.compile(r"https://\S+")


def intake_record(lang: str, raw: dict[str, str]) -> dict[str, Any]:
    """The answers record intake stores, made by running the ACS questionnaire."""
    engine = registry.engine("acs")
    state = engine.start(lang, consent=False)
    while engine.prompt(state).kind != CONFIRM:
        step = engine.prompt(state).step
        assert step is not None
        result = engine.answer(state, raw.get(step.id, ""))
        assert result.error is None, (step.id, result.error)
        state = result.state
    finished = engine.answer(state, "yes").finished
    assert finished is not None
    return finished.record()


REFUSED = {"stage": "refused", "birth_year": "2001",
           "decision_date": str(date.today() - timedelta(days=15))}
PLANNING = {"stage": "planning", "birth_year": "2004", "callup_season": "autumn",
            "callup_year": "2027", "deferment": "no", "reasons_written": "yes"}


def acs_case(persona: Persona, lang: str = "uk", raw: dict[str, str] | None = None,
             **kw: Any) -> Case:
    return make_case(persona, category="acs", lang=lang,
                     answers=intake_record(lang, raw or PLANNING), **kw)


def _page(client: Client, case: Case) -> str:
    response = client.get(f"/desk/cases/{case.number}/documents/{DOC}/")
    assert response.status_code == 200
    return response.content.decode()


def _textarea(page: str) -> str:
    match = re.search(r'<textarea id="document-text"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match
    from html import unescape
    return unescape(match.group(1))


def _do(client: Client, case: Case, do: str, text: str, version: int | None = None) -> Any:
    case.refresh_from_db()
    return client.post(f"/desk/cases/{case.number}/documents/{DOC}/do/", {
        "do": do, "text": text, "version": case.version if version is None else version})


def _drafts(persona: Persona, case: Case) -> list[dict[str, Any]]:
    return [json.loads(persona.case_vault(case).decrypt_text(bytes(r.body)))
            for r in CaseRecord.objects.filter(case=case, kind=RecordKind.DRAFT)]


def test_the_draft_is_filled_from_the_answers_in_any_language(alice: Persona,
                                                              alice_client: Client) -> None:
    # The requester answered in Ukrainian; the application is in Russian all the same.
    case = acs_case(alice, lang="uk")
    text = _textarea(_page(alice_client, case))
    assert "2004 года рождения" in text
    assert "к призыву на военную службу в октябре–декабре 2027 года" in text
    assert "ЗАЯВЛЕНИЕ\nо замене военной службы по призыву альтернативной гражданской" in text
    assert "статьи 59 Конституции" in text and "113-ФЗ" in text
    # Autobiography and character reference: the contents the law asks for, with sources.
    assert "Автобиография" in text and "Характеристика с места работы или учёбы" in text


def test_what_the_answers_do_not_give_is_marked_for_the_caseworker(alice: Persona,
                                                                    alice_client: Client) -> None:
    # "I don't know" which call-up: the draft does not guess one.
    case = acs_case(alice, lang="ru", raw={**PLANNING, "callup_season": "unknown"})
    page = _page(alice_client, case)
    text = _textarea(page)
    assert "призыву на военную службу в" not in text
    assert "[заполнить: к какому призыву подаётся заявление" in text
    # Intake never asks for a name or address: gaps, listed above the text.
    for gap in ("фамилия, имя, отчество заявителя", "адрес заявителя",
                "военный комиссариат, где заявитель состоит на воинском учёте"):
        assert f"[заполнить: {gap}]" in text
    assert "gaps to fill in" in page
    assert "To be confirmed with a lawyer" in page
    assert "[требует подтверждения юристом:" in text


@pytest.mark.parametrize("doc", sorted(documents.all_templates()))
def test_every_claim_cites_a_deep_linked_source_or_asks_a_lawyer(doc: str) -> None:
    template = documents.all_templates()[doc]
    draft = documents.fill(template, {})
    body, sources = draft.text.split(documents.SOURCES_HEADING["ru"])
    paragraphs = body.strip().split("\n\n")
    assert len(paragraphs) == len(template.blocks)  # one paragraph per block, in order
    for block, paragraph in zip(template.blocks, paragraphs, strict=True):
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", paragraph)]
        if block.sources:
            assert cited == [template.number_of(s) for s in block.sources], paragraph
        elif block.confirm:
            assert paragraph.startswith("[требует подтверждения юристом:")
            assert paragraph in [f"[требует подтверждения юристом: {u}]" for u in draft.unconfirmed]
        else:
            assert not cited, paragraph  # layout only: no law, so nothing to cite
    urls = FACTS_URLS.findall(sources)
    assert urls == [source.url for source in template.sources]
    assert {s for b in template.blocks for s in b.sources} == {s.id for s in template.sources}
    # Each source quotes the facts.md line it rests on, checked against the file where it is
    # there (the shared folder sits beside the repository or its worktrees, not in it).
    found = [p / "shared" / "domain" / "facts.md" for p in documents.DEFAULT_DIR.parents[1:5]]
    facts = next((" ".join(f.read_text(encoding="utf-8").split()) for f in found if f.exists()),
                 None)
    for source in template.sources:
        if facts is not None:
            assert " ".join(source.facts.split()) in facts, source.id
        assert documents.url_problem(source.url) is None


def test_a_template_without_a_source_or_a_lawyer_mark_is_refused(tmp_path: Any,
                                                                 monkeypatch: Any) -> None:
    shipped = (documents.DEFAULT_DIR / f"{DOC}.ru.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("    sources: [gosuslugi]\n", "", 1)
    (tmp_path / f"{DOC}.ru.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(documents, "folder", lambda: tmp_path)
    documents.all_templates.cache_clear()
    try:
        with pytest.raises(documents.TemplateError, match="needs exactly one of sources"):
            documents.all_templates()
        bad_url = shipped.replace("https://news.mail.ru/politics/69963301/", "https://news.mail.ru/")
        (tmp_path / f"{DOC}.ru.yaml").write_text(bad_url, encoding="utf-8")
        documents.all_templates.cache_clear()
        with pytest.raises(documents.TemplateError, match="home page"):
            documents.all_templates()
    finally:
        documents.all_templates.cache_clear()


def test_a_saved_edit_is_encrypted_and_audited(alice: Persona, alice_client: Client) -> None:
    case = acs_case(alice)
    text = _textarea(_page(alice_client, case)).replace(
        "[заполнить: фамилия, имя, отчество заявителя]", "Иванова Ивана Ивановича")
    response = _do(alice_client, case, "save", text)
    assert response.status_code == 302
    stored = CaseRecord.objects.get(case=case, kind=RecordKind.DRAFT)
    assert "Иванова".encode() not in bytes(stored.body)
    assert _drafts(alice, case) == [{"document": DOC, "text": text.strip()}]
    page = _page(alice_client, case)
    assert "Иванова Ивана Ивановича" in _textarea(page) and "Saved draft" in page
    assert "фамилия, имя, отчество заявителя" not in page  # no longer listed as a gap
    # A second edit replaces the draft (one per document) and is audited again.
    _do(alice_client, case, "save", text + "\n\nПриписка.")
    assert len(_drafts(alice, case)) == 1 and _drafts(alice, case)[0]["text"].endswith("Приписка.")
    saved = AuditEntry.objects.filter(case_id=case.pk, action="draft.saved")
    assert saved.count() == 2
    assert all(e.detail == {"record": stored.pk, "document": DOC} for e in saved)
    # The thread does not show the draft as a message; the documents panel says it is saved.
    case_page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Приписка" not in case_page and "draft saved" in case_page


def test_a_stale_or_empty_edit_changes_nothing(alice: Persona, alice_client: Client) -> None:
    case = acs_case(alice)
    stale = _do(alice_client, case, "save", "Новый текст", version=case.version - 1)
    assert stale.status_code == 400
    assert "Someone changed this case" in stale.content.decode()
    assert "Новый текст" in stale.content.decode()  # the typed text is given back
    empty = _do(alice_client, case, "save", "   ")
    assert empty.status_code == 400 and "empty" in empty.content.decode()
    assert _drafts(alice, case) == []
    assert not AuditEntry.objects.filter(action="draft.saved").exists()


def test_the_pdf_reads_back_as_the_edited_text(alice: Persona, alice_client: Client) -> None:
    case = acs_case(alice)
    text = _textarea(_page(alice_client, case)).replace(
        "[заполнить: адрес заявителя]", "г. Пермь, ул. Ленина, д. 1")
    response = _do(alice_client, case, "pdf", text)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    read = " ".join(pdf_text(response.content).split())
    assert "г. Пермь, ул. Ленина, д. 1" in read
    assert "2004 года рождения" in read and "ЗАЯВЛЕНИЕ" in read
    assert "https://news.mail.ru/politics/69963301/" in read
    # Exporting saved the edit first, and the export itself is audited.
    assert "Пермь" in _drafts(alice, case)[0]["text"]
    exported = AuditEntry.objects.get(case_id=case.pk, action="draft.exported")
    assert exported.detail["how"] == "pdf"


def test_odt_and_txt_exports_carry_the_text(alice: Persona, alice_client: Client) -> None:
    case = acs_case(alice)
    text = _textarea(_page(alice_client, case))
    odt = _do(alice_client, case, "odt", text)
    with zipfile.ZipFile(io.BytesIO(odt.content)) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        content = archive.read("content.xml").decode()
    assert "<text:p>ЗАЯВЛЕНИЕ</text:p>" in content and "2004 года рождения" in content
    txt = _do(alice_client, case, "txt", text)
    assert "2004 года рождения" in txt.content.decode("utf-8")
    assert AuditEntry.objects.filter(case_id=case.pk, action="draft.exported").count() == 2
    # Unchanged text is not saved again: one save for three exports... of the same text.
    assert AuditEntry.objects.filter(case_id=case.pk, action="draft.saved").count() == 1


def test_the_draft_is_sent_to_the_requester_as_a_reply(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = acs_case(alice)  # the web channel: replies queue for the follow-up page
    text = _textarea(_page(alice_client, case))
    response = _do(alice_client, case, "send", text)
    assert response.status_code == 302
    sent = [alice.case_vault(case).decrypt_text(bytes(r.body))
            for r in CaseRecord.objects.filter(case=case, kind=RecordKind.OUTBOUND)]
    assert sent == [text.strip()]
    assert Outbox.objects.filter(case=case).count() == 1
    assert AuditEntry.objects.filter(case_id=case.pk, action="case.reply").exists()


def test_a_case_recorded_on_the_desk_offers_no_send(alice: Persona,
                                                    alice_client: Client) -> None:
    case = acs_case(alice, channel=Channel.DESK)
    assert "Send to the requester" not in _page(alice_client, case)


def test_another_organization_or_a_viewer_gets_404(alice: Persona, charlie_client: Client,
                                                   alice_client: Client) -> None:
    case = acs_case(alice)
    assert charlie_client.get(f"/desk/cases/{case.number}/documents/{DOC}/").status_code == 404
    assert _do(charlie_client, case, "save", "x").status_code == 404
    assert _do(charlie_client, case, "pdf", "x").status_code == 404
    viewer = add_member(alice, "vera", "viewer")
    viewer_client = log_in(Client(), viewer)
    assert viewer_client.get(f"/desk/cases/{case.number}/documents/{DOC}/").status_code == 200
    assert _do(viewer_client, case, "save", "x").status_code == 404
    assert _drafts(alice, case) == []
    # No template for this category, an unknown document or action: 404 too.
    summons = make_case(alice)
    assert alice_client.get(f"/desk/cases/{summons.number}/documents/{DOC}/").status_code == 404
    assert alice_client.get(f"/desk/cases/{case.number}/documents/nothing/").status_code == 404
    assert _do(alice_client, case, "print", "x").status_code == 404


def test_the_case_page_offers_the_document_for_an_acs_case_only(alice: Persona,
                                                                alice_client: Client) -> None:
    acs = acs_case(alice)
    page = alice_client.get(f"/desk/cases/{acs.number}/").content.decode()
    assert f"/desk/cases/{acs.number}/documents/{DOC}/" in page
    assert "Application for alternative civilian service" in page
    other = make_case(alice)
    assert "/documents/" not in alice_client.get(f"/desk/cases/{other.number}/").content.decode()
    assert "/documents/acs-appeal/" not in page  # nothing was refused yet
    # Refused already: an application is not what this requester needs, a complaint is.
    refused = acs_case(alice, raw=REFUSED)
    page = alice_client.get(f"/desk/cases/{refused.number}/").content.decode()
    assert f"/documents/{DOC}/" not in page
    assert f"/desk/cases/{refused.number}/documents/acs-appeal/" in page
    assert "Complaint to the regional draft commission against an ACS refusal" in page


def test_the_complaint_against_a_refusal_takes_the_decision_date(alice: Persona,
                                                                 alice_client: Client) -> None:
    case = acs_case(alice, lang="en", raw=REFUSED)
    response = alice_client.get(f"/desk/cases/{case.number}/documents/acs-appeal/")
    page = response.content.decode()
    text = _textarea(page)
    decided = date.today() - timedelta(days=15)
    assert f"от {decided:%d.%m.%Y} мне отказано" in text
    assert "ЖАЛОБА" in text and "пункт 7 статьи 28" in text
    # The grounds and why they are wrong are never asked at intake: gaps, not guesses.
    assert "[заполнить: основание отказа, как оно записано в решении]" in text
    assert "[заполнить: почему это основание не применимо" in text
    assert "https://law.wikireading.ru/amp38660" in text
    assert "To be confirmed with a lawyer" in page


def test_save_draft_refuses_without_the_right(alice: Persona) -> None:
    case = acs_case(alice)
    viewer = add_member(alice, "vera", "viewer")
    with pytest.raises(actions.NotAllowed):
        actions.save_draft(viewer.member, alice.vault(), case, DOC, "text", None)


def test_making_a_pdf_logs_nothing_of_its_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    template = documents.all_templates()[DOC]
    documents.to_pdf(template, "Иванов Иван Иванович, 2004 года рождения")
    assert [r for r in caplog.records if r.name.startswith("fontTools")] == []
