"""The desk: queues, search, charts and settings (ready replies: reply_views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.models import Team
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.cases import actions, categories, search, signals
from haven.cases.access import MANAGE, READ, WORK, can
from haven.cases.keys import open_cases, readable_cases, readable_q
from haven.cases.models import Case, OrgSettings, Reminder, SearchField, Status
from haven.core.ids import row_id
from haven.core.redirects import redirect_back
from haven.knowledge import actions as kb_actions
from haven.knowledge.forms import ReviewAgeForm
from haven.knowledge.reviews import review_age

from . import bulk_views, charts, queues, stats
from .common import (
    COUNT_CAP,
    PAGE_SIZE,
    active_members,
    capped_count,
    paginate,
    summary_parts,
    tags_of,
)
from .forms import NewCaseForm, RetentionForm
from .team_views import my_teams, waiting_notes


def _rows(request: MemberRequest, page: Any) -> list[dict[str, Any]]:
    cases = page.object_list
    actions.read_queue(request.user, cases)
    opened = open_cases(request.org_vault, cases)  # one query for the page's case keys
    return [{"case": c, "summary": summary_parts(opened.get(c.pk), c),
             "tags": tags_of(opened.get(c.pk), c),
             "category": categories.get(c.category)} for c in cases]


def _filtered(request: MemberRequest, cases: Any) -> tuple[Any, dict[str, str]]:
    params = {k: request.GET.get(k, "").strip()
              for k in ("category", "status", "assignee", "tag", "team")}
    if params["category"] in categories.all_categories():
        cases = cases.filter(category=params["category"])
    if params["status"] in Status.values:
        cases = cases.filter(status=params["status"])
    assignee = row_id(params["assignee"])
    if assignee is not None:
        cases = cases.filter(assignee_id=assignee)
    team = row_id(params["team"])
    if team is not None:
        cases = cases.filter(team_id=team)
    if params["tag"]:
        # Cases not yet indexed may hold tag hashes under an older key: index them first.
        search.index_pending(request.org_vault, request.user.organization_id,
                             limit=search.PENDING_PER_SEARCH)
        cases = cases.filter(tag_hashes__tag=actions.tag_hash(request.org_vault, params["tag"]))
    return cases, params


def _ticked(request: MemberRequest, page: Any) -> set[int] | None:
    """The numbers to show ticked (``?select=all``: the whole page; ``?checked=``: those
    kept after a refused bulk action), or None for a member who may not change cases."""
    if not can(request.user, WORK):
        return None
    if request.GET.get("select") == "all":
        return {c.number for c in page.object_list}
    return {n for n in map(row_id, request.GET.getlist("checked")[:PAGE_SIZE * 4]) if n}


def _bulk_bar(request: MemberRequest) -> dict[str, Any]:
    """What the bulk action bar offers: the members and teams to choose, links to tick all
    or none (without JavaScript), and the queue's query to come back to."""
    me = request.user
    query = bulk_views.back_query(request.GET.urlencode())
    everything, nothing = query.copy(), query.copy()
    everything["select"] = "all"
    manage = can(me, MANAGE)
    return {"can_manage": manage, "back": query.urlencode(),
            "select_all": everything.urlencode(), "select_none": nothing.urlencode(),
            "bulk_statuses": [(v, n) for v, n in Status.choices if v != Status.CLOSED],
            "move_teams": list(Team.objects.filter(organization_id=me.organization_id)
                               .order_by("name")) if manage else []}


@member_view(READ)
def queue(request: MemberRequest) -> HttpResponse:
    me = request.user
    slug = request.GET.get("queue", "new")
    if slug not in queues.QUEUE_SLUGS:
        slug = "new"
    cases, params = _filtered(request, queues.queue_cases(me, slug))
    page = paginate(request, cases.select_related("assignee", "team"))
    actions.reseal_cases(request.org_vault, page.object_list)
    # What intake left for a member's key (duplicate fingerprints) is done before the
    # reminders are read, so a duplicate is flagged the first time anyone looks.
    signals.unlocked.send(sender=Case, vault=request.org_vault, organization_id=me.organization_id)
    # Reminders without a member (duplicates, failed deliveries, a blocked bot) are for
    # everyone: SQL's IN (x, NULL) never matches NULL, so they are asked for by name.
    reminders = (Reminder.objects.filter(organization_id=me.organization_id, dismissed=False,
                                         case__in=readable_cases(me))
                 .filter(Q(member=me) | Q(member__isnull=True))
                 .select_related("case").order_by("-created")[:20])
    teams = my_teams(me)
    return render(request, "desk/queue.html", {
        "queues": queues.QUEUES, "counts": queues.counts(me), "current": slug, "page": page,
        "rows": _rows(request, page), "params": params, "categories": categories.choices(),
        "statuses": Status.choices, "members": active_members(me), "reminders": reminders,
        "teams": teams,
        "waiting": waiting_notes(me, teams) if slug in ("new", "unassigned") else [],
        "can_work": can(me, WORK), "can_broadcast": can(me, MANAGE),
        "checked": _ticked(request, page),
        **(_bulk_bar(request) if can(me, WORK) else {}),
        "held": capped_count(queues.held_cases(me)) if can(me, MANAGE) else 0,
    })


def _add_matched(rows: list[dict[str, Any]], fields: dict[int, list[int]]) -> None:
    """Why each case matched: the parts holding a word, never the text (answers may be sensitive)."""
    for row in rows:
        names = [str(SearchField(f).label) for f in fields.get(row["case"].pk, [])]
        if names:
            row["matched"] = format_html('<small class="matched">{}</small>', _(
                "matched in: %(fields)s") % {"fields": ", ".join(names)})


@member_view(READ)
def search_view(request: MemberRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    page = rows = None
    found = 0
    if query:
        me = request.user
        results = search.search(request.org_vault, me.organization_id, query, me).order_by(
            "-created", "-pk")
        page = paginate(request, results.select_related("assignee", "team"))
        rows = _rows(request, page)
        _add_matched(rows, search.matched_fields(request.org_vault, me.organization_id, query,
                                                 [c.pk for c in page.object_list]))
        found = capped_count(results)
    return render(request, "desk/search.html", {"query": query, "page": page, "rows": rows,
                                                "found": found if query else 0,
                                                "capped": query and found > COUNT_CAP,
                                                "pending": search.pending(request.user
                                                                          .organization_id)})


@member_view(READ)
def charts_view(request: MemberRequest) -> HttpResponse:
    org_id = request.user.organization_id
    weeks = stats.week_starts()
    columns = [w.strftime("%d.%m") for w in weeks]
    within = readable_q(request.user)  # the charts of the member's own teams
    new_series = stats.new_by_category(org_id, weeks, within)
    open_items = stats.open_by_status(org_id, within)
    medians = stats.median_first_reply_hours(org_id, weeks, within)
    return render(request, "desk/charts.html", {
        "new_chart": charts.stacked_bars(_("New cases per week by category"), columns, new_series),
        "open_chart": charts.bars(_("Open cases by status"), open_items),
        "reply_chart": charts.line(_("Median hours to first reply, by week of arrival"),
                                   columns, medians),
        "columns": columns, "new_series": new_series, "open_items": open_items,
        "medians": list(zip(columns, medians, strict=True)),
    })


@member_view(WORK)
def new_case(request: MemberRequest) -> HttpResponse:
    form = NewCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        me = request.user
        try:
            case = actions.create_case(
                me.organization, category=form.cleaned_data["category"], channel="desk",
                summary=form.cleaned_data["summary"], first_message=form.cleaned_data["text"],
                by=me, vault=request.org_vault, priority=form.cleaned_data["priority"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Case #%(n)d was recorded.") % {"n": case.number})
            return redirect("desk:case", number=case.number)
    return render(request, "desk/new_case.html", {"form": form}, status=400 if form.errors else 200)


@member_view(READ)
@require_POST
def dismiss_reminder(request: MemberRequest, reminder_id: int) -> HttpResponse:
    me = request.user
    get_object_or_404(Reminder, pk=reminder_id, organization_id=me.organization_id)  # 404, not a 302
    actions.dismiss_reminder(me, reminder_id)  # already dismissed (a double click): back all the same
    return redirect_back(request, "desk:queue")


@member_view(MANAGE)
def settings_view(request: MemberRequest) -> HttpResponse:
    me = request.user
    row = (OrgSettings.objects.filter(organization_id=me.organization_id).first()
           or OrgSettings(organization_id=me.organization_id))  # not saved: the defaults
    posted = request.POST if request.method == "POST" else None
    form = RetentionForm(posted if posted and "retention_days" in posted else None,
                         initial={"retention_days": row.retention_days})
    review_form = ReviewAgeForm(posted if posted and "review_age_months" in posted else None,
                                initial={"review_age_months": review_age(me.organization)})
    if review_form.is_bound and review_form.is_valid():
        months = review_form.cleaned_data["review_age_months"]
        kb_actions.set_review_age(me, months)
        messages.success(request, ngettext(
            "A knowledge article's review is now overdue after %(n)d month.",
            "A knowledge article's review is now overdue after %(n)d months.", months) % {"n": months})
        return redirect("desk:settings")
    if form.is_bound and form.is_valid():
        actions.set_retention(me, form.cleaned_data["retention_days"])
        messages.success(request, _("Closed cases will now be deleted after %(n)d days.")
                         % {"n": form.cleaned_data["retention_days"]})
        return redirect("desk:settings")
    return render(request, "desk/settings.html", {"form": form, "review_form": review_form,
                                                  "sees_partners": can(me, Right.ORG_ADMIN)},
                  status=400 if form.errors or review_form.errors else 200)

