"""Cases held during an intake flood (haven.intake.flood): coordinators release or discard them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions, categories
from haven.cases.access import MANAGE

from . import queues
from .common import capped_count, paginate, summary_parts


@member_view(MANAGE)
def held(request: MemberRequest) -> HttpResponse:
    me = request.user
    cases = queues.held_cases(me)
    page = paginate(request, cases)
    actions.read_queue(me, page.object_list)
    org_vault = request.org_vault
    rows = [{"case": c, "summary": summary_parts(org_vault, c).text,
             "category": categories.get(c.category)} for c in page.object_list]
    return render(request, "desk/held.html", {"page": page, "rows": rows,
                                              "total": capped_count(cases)})


@member_view(MANAGE)
@require_POST
def release(request: MemberRequest) -> HttpResponse:
    numbers = None
    if request.POST.get("which") != "all":
        numbers = [int(n) for n in request.POST.getlist("case") if n.isdigit()]
    count = actions.release_held(request.user, numbers)
    messages.success(request, ngettext("%(n)d case was put into the queues.",
                                       "%(n)d cases were put into the queues.", count) % {"n": count})
    return redirect("desk:held")


@member_view(MANAGE)
@require_POST
def discard(request: MemberRequest) -> HttpResponse:
    if not request.POST.get("confirm"):
        messages.error(request, _("Tick the box to confirm that every held case is fake."))
        return redirect("desk:held")
    count = actions.discard_held(request.user)
    messages.success(request, ngettext("%(n)d held case was deleted.",
                                       "%(n)d held cases were deleted.", count) % {"n": count})
    return redirect("desk:held")
