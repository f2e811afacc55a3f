"""Drafting a document from a case's answers: edit it, save it, send it, export it.

One form: the draft's text and a button for each thing to do with it. Every button first
saves the text if it changed (``cases.actions.save_draft``: encrypted, audited, refused if
the case changed meanwhile), then sends it as a reply or returns it as a file (the export
is audited before the file is made). Another organization's case, a document the case's
category has no template for, or no right: 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from haven import outbox
from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions
from haven.cases.access import READ, WORK, access_case_by_number, can
from haven.cases.keys import case_vault
from haven.cases.models import Case, CaseRecord, RecordKind
from haven.core.errors import Refusal
from haven.intake import registry

from . import documents, file_serving

DOS = ("save", "send", *actions.DRAFT_FORMATS)


def templates_for(case: Case) -> list[documents.Template]:
    """The documents a case of this category can be drafted into."""
    return [t for t in documents.all_templates().values()
            if _category_of(t.questionnaire) == case.category]


def _category_of(questionnaire_id: str) -> str:
    try:
        return registry.category_of(questionnaire_id)
    except KeyError:
        return ""


def _template(case: Case, document: str) -> documents.Template:
    template = documents.all_templates().get(document)
    if template is None or template not in templates_for(case):
        raise Http404
    return template


def _read(request: MemberRequest, me: Member, case: Case,
          template: documents.Template) -> tuple[dict[str, Any], CaseRecord | None, str]:
    """The answers as values, the saved draft (if any) and its text (decryption audited)."""
    values: dict[str, Any] = {}
    saved: CaseRecord | None = None
    text = ""
    for item in actions.read_case(me, request.org_vault, case):
        record = item["record"]
        if record.kind == RecordKind.ANSWERS and not values:
            values = documents.answer_values(item["body"])[1]
        elif record.kind == RecordKind.DRAFT and item["body"].get("document") == template.id:
            saved, text = record, str(item["body"].get("text", ""))
    return values, saved, text


def _page(request: MemberRequest, me: Member, case: Case, template: documents.Template, *,
          text: str | None = None, status: int = 200) -> HttpResponse:
    values, saved, saved_text = _read(request, me, case, template)
    if text is None:
        text = saved_text or documents.fill(template, values).text
    return render(request, "desk/document.html", {
        "case": case, "template": template, "name": template.name(request.LANGUAGE_CODE),
        "text": text, "saved": saved, "markers": documents.open_markers(template, text),
        "sources": list(enumerate(template.sources, 1)), "can_work": can(me, WORK),
        "can_send": outbox.handler_for(case.channel) is not None and not case.erased,
        "formats": actions.DRAFT_FORMATS, "max_text": actions.MAX_TEXT,
    }, status=status)


@member_view(READ)
@require_GET
def document_page(request: MemberRequest, number: int, document: str) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    if case.erased or not case.summary:
        raise Http404  # nothing left to draft from
    return _page(request, me, case, _template(case, document))


@member_view(WORK)
@require_POST
def document_action(request: MemberRequest, number: int, document: str) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    template = _template(case, document)
    do = request.POST.get("do", "")
    if do not in DOS or case.erased or not case.summary:
        raise Http404
    typed = request.POST.get("text", "").replace("\r\n", "\n")[:actions.MAX_TEXT * 2]
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1  # refused as stale: nothing is saved from a form without its version
    try:
        record = _save_if_changed(request, me, case, template, typed, version)
        if do == "send":
            actions.reply(me, request.org_vault, case, typed)
            messages.success(request, _("The document was saved and sent to the requester "
                                        "as a reply."))
            return redirect("desk:case", number=case.number)
        if do == "save":
            messages.success(request, _("The draft was saved."))
            return redirect(reverse("desk:document", args=[case.number, template.id]))
        actions.export_draft(me, case, record, do)
    except Refusal as exc:  # includes StaleCase and NotAllowed: nothing was saved or sent
        messages.error(request, str(exc))
        return _page(request, me, case, template, text=typed, status=400)
    return file_serving.file_response(_file(template, typed, do),
                                      f"{template.id}-{case.number}.{do}")


def _save_if_changed(request: MemberRequest, me: Member, case: Case,
                     template: documents.Template, text: str, version: int) -> CaseRecord:
    saved = actions.find_draft(request.org_vault, case, template.id)
    if saved is not None and _saved_text(request, saved) == text.strip():
        return saved  # nothing to write: no version to check
    return actions.save_draft(me, request.org_vault, case, template.id, text, version)


def _saved_text(request: MemberRequest, record: CaseRecord) -> str:
    vault = case_vault(request.org_vault, record.case)
    return str(json.loads(vault.decrypt_text(bytes(record.body))).get("text", ""))


def _file(template: documents.Template, text: str, how: str) -> bytes:
    text = text.strip()
    if how == "pdf":
        return documents.to_pdf(template, text)
    if how == "odt":
        return documents.to_odt(text)
    return documents.to_txt(text)
