"""The case page and the changes a member makes on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from haven import outbox
from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.audit.models import AuditEntry
from haven.cases import actions, categories, files, replies, rules
from haven.cases.access import MANAGE, READ, WORK, access_case_by_number, can
from haven.cases.keys import case_vault
from haven.cases.models import (
    Case,
    Channel,
    Deadline,
    RecordKind,
)
from haven.core.errors import Refusal
from haven.core.ids import row_id
from haven.core.langs import DEFAULT_LANG, LANGUAGE_NAMES
from haven.knowledge.desk import reply_text_for
from haven.network import referring

from .audit_views import audit_rows, member_names
from .case_team_views import team_panel
from .common import active_members, summary_parts, tags_of
from .document_views import templates_for
from .documents import answer_values
from .forms import CaseForm, DeadlineForm, RuleForm, TextForm


def _deadlines(request: MemberRequest, case: Case) -> list[dict[str, Any]]:
    org_vault = case_vault(request.org_vault, case)
    rows = []
    for d in case.deadlines.select_related("owner").order_by("done_at", "due"):
        rule = actions.deadline_rule(org_vault, d)
        known = rules.all_rules().get(rule)
        rows.append({"deadline": d, "reason": org_vault.decrypt_text(bytes(d.reason)),
                     "rule": known, "withdrawn": rules.WITHDRAWN.get(rule),
                     "lawyer": rules.needs_lawyer(known, d.due.astimezone(UTC).date())})
    return rows


def _ready_replies(request: MemberRequest, case: Case) -> dict[str, Any]:
    """The organization's ready replies for the picker: the case's category first, searchable."""
    found = replies.of_organization(request.org_vault, request.user.organization_id)
    query = request.GET.get("reply_q", "").strip()[:200]
    if query:
        found = [r for r in found if r.matches(query)]
    suggested, others = replies.suggested_first(found, case.category)
    return {"suggested": suggested, "others": others, "query": query,
            "any": bool(found) or bool(query)}


def _prefill(request: MemberRequest, case: Case) -> tuple[str, list[str]]:
    """The text of a chosen ready reply or article, so the reply box works without JavaScript.

    A ready reply comes in the requester's language with the case's variables filled in;
    the notes say which version was used and what is left to fill.
    """
    article = request.GET.get("use_article", "")
    if article:
        return reply_text_for(request.user, article), []
    if "find" in request.GET:  # the search button of the picker: list, do not fill
        return "", []
    reply = replies.get(request.org_vault, request.user.organization_id,
                        row_id(request.GET.get("use_reply")))
    if reply is None:
        return "", []
    lang = requester_lang(request, case)
    filled = replies.fill(reply, case, lang)
    notes = [_("Ready reply “%(title)s” in %(lang)s.") % {"title": reply.title,
                                                         "lang": LANGUAGE_NAMES[filled.lang]}]
    if filled.lang != lang:
        notes.append(_("It has no version in %(wanted)s, the requester's language: check the "
                       "text before sending.") % {"wanted": LANGUAGE_NAMES[lang]})
    if "deadline" in filled.unfilled:
        notes.append(_("This case has no confirmed deadline, so {deadline} was left in the text. "
                       "Replace it before sending."))
    return filled.text, notes


def _extras(request: MemberRequest, case: Case) -> list[str]:
    """Panels other apps add to the case page (funds, intake), if installed."""
    html = []
    for name in ("network/incoming_panel.html", "intake/case_panel.html",
                 "knowledge/case_panel.html", "funds/case_panel.html"):
        try:
            template = get_template(name)
        except TemplateDoesNotExist:
            continue
        html.append(template.render({"case": case, "request": request}, request))
    return html


def _answer_items(body: Any) -> list[dict[str, Any]]:
    """Questionnaire answers as question/answer pairs, whatever shape they came in."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [item for item in body["items"] if isinstance(item, dict)]
    if isinstance(body, dict):
        return [{"question": key, "answer": value, "sensitive": False} for key, value in body.items()]
    return [{"question": "", "answer": body, "sensitive": False}]


@member_view(READ)
def case_page(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    text, notes = _prefill(request, case)
    return _render_case(request, me, case, reply_text=text, reply_notes=notes)


def _render_case(request: MemberRequest, me: Member, case: Case, *, reply_text: str = "",
                 reply_notes: list[str] | None = None, note_text: str = "",
                 deadline_form: DeadlineForm | None = None, case_form: CaseForm | None = None,
                 refused: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    records = actions.read_case(me, request.org_vault, case) if not case.erased else []
    drafts = {item["body"].get("document") for item in records
              if item["record"].kind == RecordKind.DRAFT}
    values = next((answer_values(item["body"])[1] for item in records
                   if item["record"].kind == RecordKind.ANSWERS), {})
    records = [item for item in records if item["record"].kind != RecordKind.DRAFT]
    for item in records:
        if item["record"].kind == RecordKind.ANSWERS:
            item["answers"] = _answer_items(item["body"])
    tags = tags_of(request.org_vault, case)
    members = active_members(me)
    summary = summary_parts(request.org_vault, case)
    return render(request, "desk/case.html", {
        "case": case, "summary": summary.text, "summary_lang": summary.lang, "records": records,
        "tags": tags, "category": categories.get(case.category),
        "deadlines": _deadlines(request, case), "members": members,
        "case_form": case_form or CaseForm(case=case, members=members, tags=tags),
        "refused": refused or {}, "ready_replies": _ready_replies(request, case),
        "reply_text": reply_text, "reply_notes": reply_notes or [], "note_text": note_text,
        "rule_form": RuleForm(), "deadline_form": deadline_form or DeadlineForm(),
        "can_work": can(me, WORK), "can_manage": can(me, MANAGE), "extras": _extras(request, case),
        "team_panel": team_panel(me, case),
        "referral_panel": referring.panel(me, request.org_vault, case),
        "now": timezone.now(),
        "documents": [{"id": t.id, "name": t.name(request.LANGUAGE_CODE), "saved": t.id in drafts}
                      for t in templates_for(case) if t.id in drafts or t.offered(values)]
        if summary.text else [],
        "has_files": any(item["record"].kind == RecordKind.ATTACHMENT for item in records),
        "tell_lang": (LANGUAGE_NAMES[requester_lang(request, case)]
                      if outbox.handler_for(case.channel) else ""),
    }, status=status)


Handler = Callable[[MemberRequest, Member, Case], str]
Setter = Callable[[MemberRequest, Member, Case, Any, int], None]


def _set_assignee(request: MemberRequest, me: Member, case: Case, chosen: Any, version: int) -> None:
    assignee = next((m for m in active_members(me) if m.pk == chosen), None) if chosen else None
    if chosen and assignee is None:
        raise actions.ActionError(_("Choose a member of your organization."))
    actions.assign(me, case, assignee, version, request.org_vault)


FIELD_NAMES = {"status": pgettext_lazy("saved", "status"),
               "assignee": pgettext_lazy("saved", "assignee"),
               "priority": pgettext_lazy("saved", "priority"),
               "category": pgettext_lazy("saved", "category"),
               "tags": pgettext_lazy("saved", "tags")}
SETTERS: dict[str, Setter] = {
    "status": lambda request, me, case, value, version: actions.set_status(
        me, case, value, version, request.org_vault),
    "assignee": _set_assignee,
    "priority": lambda request, me, case, value, version: actions.set_priority(
        me, case, value, version),
    "category": lambda request, me, case, value, version: actions.set_category(
        me, case, value, version),
    "tags": lambda request, me, case, value, version: actions.set_tags(
        me, request.org_vault, case, value.split(","), version),
}


def _apply(request: MemberRequest, me: Member, case: Case,
           form: CaseForm) -> tuple[list[str], dict[str, str]]:
    """Write each changed field through its action; a refused field keeps its message.

    A stale form (the case changed meanwhile) raises StaleCase and rolls back all.
    """
    saved: list[str] = []
    refused = {name: str(form.errors[name][0]) for name in CaseForm.FIELDS if name in form.errors}
    version = form.cleaned_data["version"]
    with transaction.atomic():
        for name in form.changed():
            try:
                SETTERS[name](request, me, case, form.cleaned_data[name], version)
            except actions.StaleCase:
                raise
            except Refusal as exc:  # an action's refusal or the role's: shown the same way
                refused[name] = str(exc)
                continue
            saved.append(name)
            version = case.version
    return saved, refused


@member_view(WORK)
@require_POST
def case_save(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    form = CaseForm(request.POST, case=case, members=active_members(me),
                    tags=tags_of(request.org_vault, case))
    if not form.is_valid() and "version" in form.errors:
        messages.error(request, _("The form was incomplete; nothing was saved. Try again."))
        return redirect("desk:case", number=case.number)
    try:
        saved, refused = _apply(request, me, case, form)
    except actions.StaleCase as exc:
        messages.error(request, str(exc))
        return redirect("desk:case", number=case.number)
    if saved:
        messages.success(request, _("Saved: %(fields)s.") % {
            "fields": ", ".join(str(FIELD_NAMES[name]) for name in saved)})
    if not refused:
        if not saved:
            messages.info(request, _("Nothing was changed."))
        return redirect("desk:case", number=case.number)
    case.refresh_from_db()
    return _render_case(request, me, case, case_form=form, refused=refused, status=400)


def _text(request: MemberRequest) -> str:
    form = TextForm(request.POST)
    if not form.is_valid():
        raise actions.ActionError(_("The text is empty or longer than %(n)d characters.")
                                  % {"n": actions.MAX_TEXT})
    return str(form.cleaned_data["text"])


def _note(request: MemberRequest, me: Member, case: Case) -> str:
    actions.add_note(me, request.org_vault, case, _text(request))
    return _("The private note was added.")


def _reply(request: MemberRequest, me: Member, case: Case, text: str | None = None) -> str:
    return reply_text(request, me, case, None, text)


def reply_text(request: MemberRequest, me: Member, case: Case, file: files.FileLike | None,
               text: str | None = None) -> str:
    """Send the reply (with ``file``, if any); the message that says where it went."""
    before = case.status
    if file is not None and text is None and not request.POST.get("text", "").strip():
        text = ""  # a file alone is a reply
    if text is None:
        text = _text(request)
        left = [name for name in replies.PLACEHOLDER.findall(text) if name in replies.VARIABLES]
        if left:
            raise actions.ActionError(_("The reply still holds %(left)s from a ready reply: "
                                        "replace it with the real text before sending.") % {
                "left": ", ".join(dict.fromkeys("{" + name + "}" for name in left))})
    actions.reply(me, request.org_vault, case, text, file=file)
    sent = (_("The reply was saved. The requester reads it on the follow-up page when they "
              "next come back with their codename.") if case.channel == Channel.WEB
            else _("The reply is queued and goes out at the channel's pace."))
    if case.status != before:
        return sent + " " + _("The case now waits on the requester.")
    return sent


def _deadline(request: MemberRequest, me: Member, case: Case) -> str:
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        raise actions.ActionError(_("Give the date (YYYY-MM-DD) and the reason of the deadline."))
    actions.add_deadline(me, request.org_vault, case, rules.due_at(form.cleaned_data["due"]),
                         form.cleaned_data["reason"])
    return _("The deadline was added.")


def _deadline_state(request: MemberRequest, me: Member, case: Case) -> str:
    deadline = get_object_or_404(Deadline, pk=row_id(request.POST.get("deadline")) or 0, case=case)
    if request.POST.get("do") == "confirm":
        actions.confirm_deadline(me, deadline)
        return _("The deadline was confirmed.")
    actions.complete_deadline(me, deadline)
    return _("The deadline was marked done.")


def requester_lang(request: MemberRequest, case: Case) -> str:
    """The language the requester wrote in (kept sealed with the summary), else the default."""
    lang = summary_parts(request.org_vault, case).lang
    return lang if lang in LANGUAGE_NAMES else DEFAULT_LANG


def _deadline_tell(request: MemberRequest, me: Member, case: Case) -> str:
    """Send a confirmed deadline's date to the requester, in their language, as a reply."""
    deadline = get_object_or_404(Deadline, pk=row_id(request.POST.get("deadline")) or 0, case=case)
    if not deadline.confirmed or deadline.done_at:
        raise actions.ActionError(_("Only a confirmed deadline that is not done can be sent."))
    lang = requester_lang(request, case)
    text = rules.requester_text(deadline.due.astimezone(UTC).date(),
                                  actions.deadline_rule(request.org_vault, deadline), lang)
    _reply(request, me, case, text=text)
    return _("The date was sent to the requester in %(lang)s: “%(text)s”") % {
        "lang": LANGUAGE_NAMES[lang], "text": text}


ACTIONS: dict[str, Handler] = {
    "note": _note, "reply": _reply, "deadline": _deadline, "deadline-state": _deadline_state,
    "deadline-tell": _deadline_tell,
}
def render_refused_reply(request: MemberRequest, me: Member, case: Case, typed: str) -> HttpResponse:
    """The case page again after a refused reply, with the typed text back in its box."""
    return _render_case(request, me, case, status=400, reply_text=typed)


TYPED = ("reply", "note", "deadline")  # actions whose text a refusal must not throw away


@member_view(WORK)
@require_POST
def case_action(request: MemberRequest, number: int, action: str) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    try:
        messages.success(request, handler(request, me, case))
        return redirect("desk:case", number=case.number)
    except Refusal as exc:  # includes StaleCase and NotAllowed: nothing was saved
        messages.error(request, str(exc))
    if action in TYPED:  # give the text back in its box rather than lose it
        case.refresh_from_db()
        typed = request.POST.get("text", "")[:actions.MAX_TEXT * 2]
        if action == "reply":
            return _render_case(request, me, case, status=400, reply_text=typed)
        if action == "deadline":  # the date and reason back in their fields, the form open
            form = DeadlineForm(request.POST)
            form.is_valid()
            return _render_case(request, me, case, status=400, deadline_form=form)
        return _render_case(request, me, case, status=400, note_text=typed)
    return redirect("desk:case", number=case.number)


@member_view(WORK)
def propose_deadline(request: MemberRequest, number: int) -> HttpResponse:
    """Step 1: a rule and its input give a proposed date. Step 2: the caseworker confirms."""
    me = request.user
    case = access_case_by_number(me, number)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        proposal = rules.propose(form.cleaned_data["rule"], form.cleaned_data["parsed"])
        if request.POST.get("confirm") == "yes":
            actions.add_deadline(me, request.org_vault, case, proposal.due_at, proposal.reason,
                                 rule=proposal.rule.id)
            messages.success(request, _("The deadline was added."))
            return redirect("desk:case", number=case.number)
        return render(request, "desk/propose_deadline.html",
                      {"case": case, "form": form, "proposal": proposal,
                       "lawyer": rules.needs_lawyer(proposal.rule, proposal.due)})
    return render(request, "desk/propose_deadline.html", {"case": case, "form": form},
                  status=400 if form.errors else 200)


@member_view(MANAGE)
def burn_case(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    if request.method == "POST" and request.POST.get("confirm") == str(case.number):
        actions.burn(me, case)
        messages.success(request, _("Case #%(n)d was burned: its content is gone.")
                         % {"n": case.number})
        return redirect("desk:queue")
    wrong = request.method == "POST"
    return render(request, "desk/burn.html", {"case": case, "wrong": wrong},
                  status=400 if wrong else 200)


@member_view(MANAGE)
def case_audit(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    entries = AuditEntry.objects.filter(organization_id=me.organization_id,
                                        case_id=case.pk).order_by("seq")
    return render(request, "desk/audit.html", {
        "case": case, "entries": audit_rows(list(entries), member_names(me.organization_id))})
