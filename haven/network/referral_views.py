"""The referring side's pages: propose a referral of a case, withdraw it, download it as a
file. The case is scoped as on the desk (another team's or organization's case is 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.cases.access import WORK, access_case_by_number
from haven.cases.keys import case_vault
from haven.core.errors import Refusal
from haven.core.ids import row_id

from . import actions, referring
from .models import Partner, Referral
from .partners import active_partners

NOTE_MAX = 4000


def _ids(request: MemberRequest, name: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(i for i in (row_id(v) for v in request.POST.getlist(name)) if i))


@member_view(WORK)
def refer(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    case_vault(request.org_vault, case)  # 404 for a case the member holds no key of
    partners = list(active_partners(me.organization_id))
    waiting = referring.open_referral(case)
    error, status = "", 200
    form: dict[str, Any] = {"partner": "", "note": "", "answers": True, "messages": None, "attachments": None,
            "notes": set(), "transport": "online"}
    if request.method == "POST":
        note = request.POST.get("note", "").replace("\x00", "").strip()
        form.update(partner=request.POST.get("partner", ""), note=note,
                    answers=request.POST.get("answers") == "1",
                    messages=set(_ids(request, "message")),
                    attachments=set(_ids(request, "attachment")),
                    notes=set(_ids(request, "private_note")),
                    transport=request.POST.get("transport", "online"))
        partner = Partner.objects.filter(organization_id=me.organization_id,
                                         pk=row_id(request.POST.get("partner")) or 0).first()
        if partner is None:
            error = _("Choose the partner to refer the case to.")
        elif len(note) > NOTE_MAX:
            error = _("The note to the partner is %(n)d characters long; the limit is %(max)d.") % {
                "n": len(note), "max": NOTE_MAX}
        else:
            choice = referring.Choice(
                partner=partner, note=note, answers=bool(form["answers"]),
                messages=_ids(request, "message"), attachments=_ids(request, "attachment"),
                notes=_ids(request, "private_note"),
                as_file=request.POST.get("transport") == "file" and not partner.is_local)
            try:
                actions.propose_referral(me, request.org_vault, case, choice)
            except Refusal as exc:
                error = str(exc)
            else:
                messages.success(request, _("The referral to %(partner)s is proposed. The "
                                            "requester is asked in their own channel; nothing "
                                            "leaves until they agree.") % {"partner": partner.name})
                return redirect("desk:case", number=case.number)
        status = 400
    parts = referring.choosable(request.org_vault, case) if not case.erased and case.summary \
        else referring.Parts()
    for group, key in ((parts.messages, "messages"), (parts.attachments, "attachments"),
                       (parts.notes, "notes")):
        chosen = form[key]
        if chosen is not None:
            for part in group:
                part.ticked = part.record.pk in chosen
    return render(request, "network/refer.html", {
        "case": case, "partners": partners, "parts": parts, "waiting": waiting, "form": form,
        "error": error, "max_mb": referring.max_envelope() // 2**20,
        "remote": any(not p.is_local for p in partners)}, status=status)


@member_view(WORK)
@require_POST
def withdraw(request: MemberRequest, number: int, referral: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    try:
        done = actions.withdraw_referral(me, case, referral)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The proposal to %(partner)s was withdrawn; its envelope "
                                    "was deleted.") % {"partner": done.partner.name})
    return redirect("desk:case", number=case.number)


@member_view(WORK)
@require_POST
def download(request: MemberRequest, number: int, referral: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    found = Referral.objects.filter(pk=referral, case=case).select_related("partner").first()
    if found is None:
        messages.error(request, _("This referral is not one of this case's."))
        return redirect("desk:case", number=case.number)
    try:
        blob = actions.referral_downloaded(me, case, found)
    except Refusal as exc:
        messages.error(request, str(exc))
        return redirect("desk:case", number=case.number)
    response = HttpResponse(blob, content_type="application/octet-stream")
    name = f"case-{case.number}-{found.ref_id.hex[:8]}.haven-referral"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
