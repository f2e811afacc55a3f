"""Bulk work from a queue: the ticked cases, one action, and a summary of what happened.

The queue page (views.queue) draws a checkbox and a hidden version per row inside one
form that posts here; haven.cases.bulk changes each case in its own transaction. The
member goes back to the same queue page (filters and page number) with the summary.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.models import Member, Team
from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions, bulk
from haven.cases.access import WORK
from haven.core.errors import Refusal
from haven.core.ids import row_id

# The queue's own parameters, kept on the way back; anything else posted is dropped.
BACK_KEYS = ("queue", "category", "status", "assignee", "tag", "team", "page")
LISTED = 50  # numbers named per reason in the summary; the rest are counted


def back_query(raw: str) -> QueryDict:
    """The queue's query string as posted, with only the queue's own parameters."""
    posted = QueryDict(raw[:2000])
    kept = QueryDict(mutable=True)
    for key in BACK_KEYS:
        value = posted.get(key, "").strip()
        if value:
            kept[key] = value[:100]
    return kept


def _queue_url(query: QueryDict) -> str:
    encoded = query.urlencode()
    return reverse("desk:queue") + (f"?{encoded}" if encoded else "")


def _picks(request: MemberRequest) -> list[bulk.Pick]:
    picks = []
    # Django refuses a post of more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields, so this is bounded.
    for raw in request.POST.getlist("case"):
        number = row_id(raw)
        if number is not None:
            version = row_id(request.POST.get(f"version-{number}", ""))
            picks.append(bulk.Pick(number, version))
    return picks


def _action(request: MemberRequest) -> bulk.BulkAction:
    me: Member = request.user
    post = request.POST
    kind = post.get("action", "")
    assignee: Member | None = me if kind == "assign_me" else None
    if kind == "assign":
        chosen = row_id(post.get("assignee", ""))
        assignee = Member.objects.filter(pk=chosen, organization_id=me.organization_id,
                                         is_active=True).first() if chosen else None
    team_id = row_id(post.get("team", ""))
    team = Team.objects.filter(pk=team_id, organization_id=me.organization_id).first() \
        if kind == "move" and team_id else None
    tags = actions.clean_tags([post.get("tag", "")])
    return bulk.BulkAction(kind=kind, assignee=assignee, status=post.get("status", ""),
                           tag=tags[0] if tags else "", team=team,
                           reason=post.get("reason", "").replace("\x00", "").strip())


def _numbers(numbers: list[int]) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[:LISTED])
    if len(numbers) > LISTED:
        shown += " " + _("and %(n)d more") % {"n": len(numbers) - LISTED}
    return shown


def summary(outcome: bulk.Outcome) -> str:
    """“12 cases changed; 2 were not changed: #41: changed since you loaded the page; …”."""
    done = ngettext("%(n)d case changed", "%(n)d cases changed",
                    len(outcome.changed)) % {"n": len(outcome.changed)}
    if not outcome.refused:
        return done + "."
    reasons = "; ".join(f"{_numbers(numbers)}: {why}"
                        for why, numbers in outcome.refusals_by_reason())
    return ngettext("%(done)s; %(n)d was not changed: %(reasons)s.",
                    "%(done)s; %(n)d were not changed: %(reasons)s.", len(outcome.refused)) % {
        "done": done, "n": len(outcome.refused), "reasons": reasons}


@member_view(WORK)
@require_POST
def apply(request: MemberRequest) -> HttpResponse:
    query = back_query(request.POST.get("back", ""))
    picks = _picks(request)
    if not picks:
        messages.error(request, _("Tick at least one case, then choose the action again."))
        return redirect(_queue_url(query))
    try:
        outcome = bulk.apply(request.user, request.org_vault, _action(request), picks)
    except Refusal as exc:  # nothing was changed: the ticks are kept for another try
        messages.error(request, str(exc))
        if not isinstance(exc, bulk.TooMany):
            query.setlist("checked", [str(p.number) for p in picks])
        return redirect(_queue_url(query))
    level: Any = messages.success if not outcome.refused else messages.warning
    level(request, summary(outcome))
    return redirect(_queue_url(query))
