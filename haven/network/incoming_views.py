"""Referrals received from partners: the list, one referral opened, accept or decline, and
the upload of a referral handed over as a file. Coordinators and administrators only
(``case.manage``); anyone else, and another organization's referral, is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.models import Team
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.cases import categories
from haven.cases.teams import team_for_category
from haven.core.errors import Refusal

from . import actions, envelope, inbox
from .models import IncomingReferral

MANAGE = Right.CASE_MANAGE
DECIDED_SHOWN = 50
FILE_SUFFIX = ".haven-referral"


def _rows(request: MemberRequest) -> dict[str, Any]:
    mine = IncomingReferral.objects.filter(
        organization_id=request.user.organization_id).select_related("partner", "case")
    return {
        "waiting": list(mine.filter(state=IncomingReferral.State.RECEIVED).order_by("-received")),
        "decided": list(mine.exclude(state=IncomingReferral.State.RECEIVED)
                        .order_by("-decided_at", "-pk")[:DECIDED_SHOWN]),
        "max_mb": inbox.max_size() // 2**20, "suffix": FILE_SUFFIX,
    }


@member_view(MANAGE)
def incoming_list(request: MemberRequest) -> HttpResponse:
    return render(request, "network/incoming_list.html", _rows(request))


@member_view(MANAGE)
@require_POST
def upload(request: MemberRequest) -> HttpResponse:
    """A referral file from a partner without a connection; refusals are shown on the list."""
    sent = request.FILES.get("file")
    error = ""
    if sent is None or not sent.size:
        error = _("Choose the referral file (%(suffix)s) the partner gave you.") % {
            "suffix": FILE_SUFFIX}
    elif sent.size > inbox.max_size():
        error = _("The file is larger than this server accepts (%(mb)d MB). Ask the partner "
                  "whether it is the right file.") % {"mb": inbox.max_size() // 2**20}
    else:
        try:
            received = actions.receive_file(request.user, sent.read(inbox.max_size() + 1))
        except Refusal as exc:
            error = _("The file was refused: %(reason)s") % {"reason": str(exc)}
        else:
            if received.kind != envelope.Kind.REFERRAL:
                messages.success(request, _("The file from %(partner)s was received.")
                                 % {"partner": received.partner.name})
            elif received.result == "already received":
                messages.info(request, _("This referral from %(partner)s was already here; "
                                         "nothing new was stored.")
                              % {"partner": received.partner.name})
            else:
                messages.success(request, _("The referral from %(partner)s was received. Open "
                                            "it below to accept or decline it.")
                                 % {"partner": received.partner.name})
            return redirect("network:incoming")
    return render(request, "network/incoming_list.html", {**_rows(request), "error": error},
                  status=400)


def _teams(request: MemberRequest) -> list[Team]:
    return list(Team.objects.filter(organization_id=request.user.organization_id).order_by("name"))


@member_view(MANAGE)
def detail(request: MemberRequest, pk: int) -> HttpResponse:
    return _detail(request, actions.incoming_for(request.user, pk))


def _detail(request: MemberRequest, row: IncomingReferral, *, error: str = "",
            reason: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {"row": row, "error": error, "reason": reason,
                               "max_reason": actions.MAX_REASON}
    if row.state == IncomingReferral.State.RECEIVED:
        try:
            pkg = actions.open_incoming(request.user, request.org_vault, row)
        except Refusal as exc:
            context["unreadable"] = str(exc)
        else:
            routed = team_for_category(row.organization, pkg.category)
            context.update({
                "pkg": pkg, "answers": actions.answer_items(pkg.answers),
                "category": categories.get(pkg.category), "lang": actions.request_lang(pkg),
                "files": [{"name": f.name, "type": f.type, "size": len(f.data)} for f in pkg.files],
                "shared_messages": [{"created": actions.when(m.created), "text": m.text,
                                     "from_requester": m.from_requester} for m in pkg.messages],
                "shared_notes": [{"created": actions.when(n.created), "text": n.text}
                                 for n in pkg.notes],
                "teams": _teams(request), "routed": routed.pk if routed else None,
            })
    return render(request, "network/incoming_detail.html", context, status=status)


@member_view(MANAGE)
@require_POST
def accept(request: MemberRequest, pk: int) -> HttpResponse:
    row = actions.incoming_for(request.user, pk)
    team = Team.objects.filter(organization_id=request.user.organization_id,
                               pk=_int(request.POST.get("team"))).first()
    try:
        accepted = actions.accept_incoming(request.user, request.org_vault, row, team)
    except Refusal as exc:
        row.refresh_from_db()
        return _detail(request, row, error=str(exc), status=400)
    messages.success(request, _("Referral accepted: case #%(number)d was opened. %(partner)s "
                                "is told how the requester reaches you here.") % {
        "number": accepted.case.number, "partner": row.partner.name})
    if accepted.delivery == "file":
        messages.warning(request, _("%(partner)s is reached by file: download the answer below "
                                    "and hand it to them.") % {"partner": row.partner.name})
    if accepted.left_out:
        messages.warning(request, ngettext(
            "%(n)d file was left out because it did not pass the checks: %(reasons)s",
            "%(n)d files were left out because they did not pass the checks: %(reasons)s",
            len(accepted.left_out)) % {"n": len(accepted.left_out),
                                       "reasons": " ".join(accepted.left_out)})
    return redirect("network:incoming_detail", row.pk)


@member_view(MANAGE)
@require_POST
def decline(request: MemberRequest, pk: int) -> HttpResponse:
    row = actions.incoming_for(request.user, pk)
    reason = request.POST.get("reason", "")
    try:
        delivery = actions.decline_incoming(request.user, request.org_vault, row, reason)
    except Refusal as exc:
        row.refresh_from_db()
        return _detail(request, row, error=str(exc), reason=reason, status=400)
    if delivery == "not sent":
        messages.warning(request, _("Referral declined and deleted. The partnership with "
                                    "%(partner)s has ended, so they were not told.")
                         % {"partner": row.partner.name})
        return redirect("network:incoming")
    if delivery == "file":
        messages.warning(request, _("Referral declined. %(partner)s is reached by file: download "
                                    "the answer below and hand it to them.")
                         % {"partner": row.partner.name})
        return redirect("network:incoming_detail", row.pk)
    messages.success(request, _("Referral declined; %(partner)s is told.")
                     % {"partner": row.partner.name})
    return redirect("network:incoming")


@member_view(MANAGE)
def receipt(request: MemberRequest, pk: int) -> HttpResponse:
    """The signed answer for a partner reached by file, as a download."""
    row = actions.incoming_for(request.user, pk)
    data = actions.receipt_file(request.user, row)
    response = HttpResponse(data, content_type="application/octet-stream")
    name = f"{row.decided_at:%Y-%m-%d}-{str(row.ref_id)[:8]}{actions.RECEIPT_SUFFIX}" \
        if row.decided_at else f"answer{actions.RECEIPT_SUFFIX}"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
