"""The desk: queues, search, charts, ready replies and settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.cases import actions, categories, search
from haven.cases.access import MANAGE, WORK, can
from haven.cases.models import OrgSettings, Reminder, SavedReply, SearchField, Status
from haven.core.redirects import redirect_back
from haven.knowledge import actions as kb_actions
from haven.knowledge.forms import ReviewAgeForm
from haven.knowledge.reviews import review_age

from . import charts, queues, stats
from .common import (
    COUNT_CAP,
    active_members,
    capped_count,
    desk_view,
    member,
    paginate,
    summary_parts,
    tags_of,
    vault,
)
from .forms import NewCaseForm, RetentionForm, SavedReplyForm


def _rows(request: HttpRequest, page: Any) -> list[dict[str, Any]]:
    org_vault = vault(request)
    cases = page.object_list
    actions.read_queue(member(request), cases)
    return [{"case": c, "summary": summary_parts(org_vault, c), "tags": tags_of(org_vault, c),
             "category": categories.get(c.category)} for c in cases]


def _filtered(request: HttpRequest, cases: Any) -> tuple[Any, dict[str, str]]:
    params = {k: request.GET.get(k, "").strip() for k in ("category", "status", "assignee", "tag")}
    if params["category"] in categories.all_categories():
        cases = cases.filter(category=params["category"])
    if params["status"] in Status.values:
        cases = cases.filter(status=params["status"])
    if params["assignee"].isdigit():
        cases = cases.filter(assignee_id=int(params["assignee"]))
    if params["tag"]:
        cases = cases.filter(tag_hashes__tag=actions.tag_hash(vault(request), params["tag"]))
    return cases, params


@desk_view()
def queue(request: HttpRequest) -> HttpResponse:
    me = member(request)
    slug = request.GET.get("queue", "new")
    if slug not in queues.QUEUE_SLUGS:
        slug = "new"
    cases, params = _filtered(request, queues.queue_cases(me, slug))
    page = paginate(request, cases.select_related("assignee"))
    actions.reseal_cases(vault(request), page.object_list)
    # Reminders without a member (duplicates, failed deliveries, a blocked bot) are for
    # everyone: SQL's IN (x, NULL) never matches NULL, so they are asked for by name.
    reminders = (Reminder.objects.filter(organization_id=me.organization_id, dismissed=False)
                 .filter(Q(member=me) | Q(member__isnull=True))
                 .select_related("case").order_by("-created")[:20])
    return render(request, "desk/queue.html", {
        "queues": queues.QUEUES, "counts": queues.counts(me), "current": slug, "page": page,
        "rows": _rows(request, page), "params": params, "categories": categories.choices(),
        "statuses": Status.choices, "members": active_members(me), "reminders": reminders,
        "can_work": can(me, WORK),
        "held": capped_count(queues.held_cases(me)) if can(me, MANAGE) else 0,
    })


def _add_matched(rows: list[dict[str, Any]], fields: dict[int, list[int]]) -> None:
    """Why each case matched: the parts holding a word, never the text (answers may be sensitive)."""
    for row in rows:
        names = [str(SearchField(f).label) for f in fields.get(row["case"].pk, [])]
        if names:
            row["matched"] = format_html('<small class="matched">{}</small>', _(
                "matched in: %(fields)s") % {"fields": ", ".join(names)})


@desk_view()
def search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    page = rows = None
    found = 0
    if query:
        me = member(request)
        results = search.search(vault(request), me.organization_id, query).order_by("-created", "-pk")
        page = paginate(request, results.select_related("assignee"))
        rows = _rows(request, page)
        _add_matched(rows, search.matched_fields(vault(request), me.organization_id, query,
                                                 [c.pk for c in page.object_list]))
        found = capped_count(results)
    return render(request, "desk/search.html", {"query": query, "page": page, "rows": rows,
                                                "found": found if query else 0,
                                                "capped": query and found > COUNT_CAP})


@desk_view()
def charts_view(request: HttpRequest) -> HttpResponse:
    org_id = member(request).organization_id
    weeks = stats.week_starts()
    columns = [w.strftime("%d.%m") for w in weeks]
    new_series = stats.new_by_category(org_id, weeks)
    open_items = stats.open_by_status(org_id)
    medians = stats.median_first_reply_hours(org_id, weeks)
    return render(request, "desk/charts.html", {
        "new_chart": charts.stacked_bars(_("New cases per week by category"), columns, new_series),
        "open_chart": charts.bars(_("Open cases by status"), open_items),
        "reply_chart": charts.line(_("Median hours to first reply, by week of arrival"),
                                   columns, medians),
        "columns": columns, "new_series": new_series, "open_items": open_items,
        "medians": list(zip(columns, medians, strict=True)),
    })


@desk_view(WORK)
def new_case(request: HttpRequest) -> HttpResponse:
    form = NewCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        me = member(request)
        try:
            case = actions.create_case(
                me.organization, category=form.cleaned_data["category"], channel="desk",
                summary=form.cleaned_data["summary"], first_message=form.cleaned_data["text"],
                by=me, vault=vault(request), priority=form.cleaned_data["priority"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Case #%(n)d was recorded.") % {"n": case.number})
            return redirect("desk:case", number=case.number)
    return render(request, "desk/new_case.html", {"form": form}, status=400 if form.errors else 200)


@desk_view(MANAGE)
def saved_replies(request: HttpRequest) -> HttpResponse:
    me, org_vault = member(request), vault(request)
    form = SavedReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.save_reply(me, org_vault, form.cleaned_data["title"], form.cleaned_data["body"])
        messages.success(request, _("The ready reply was saved."))
        return redirect("desk:replies")
    replies = [{"pk": r.pk, "title": org_vault.decrypt_text(bytes(r.title)),
                "body": org_vault.decrypt_text(bytes(r.body))}
               for r in SavedReply.objects.filter(organization_id=me.organization_id).order_by("pk")]
    return render(request, "desk/replies.html", {"form": form, "replies": replies},
                  status=400 if form.errors else 200)


@desk_view(MANAGE)
@require_POST
def delete_saved_reply(request: HttpRequest, reply_id: int) -> HttpResponse:
    me = member(request)
    actions.delete_reply(me, get_object_or_404(SavedReply, pk=reply_id,
                                               organization_id=me.organization_id))
    messages.success(request, _("The ready reply was deleted."))
    return redirect("desk:replies")


@desk_view()
@require_POST
def dismiss_reminder(request: HttpRequest, reminder_id: int) -> HttpResponse:
    actions.dismiss_reminder(member(request), reminder_id)
    return redirect_back(request, "desk:queue")


@desk_view(MANAGE)
def settings_view(request: HttpRequest) -> HttpResponse:
    me = member(request)
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
    return render(request, "desk/settings.html", {"form": form, "review_form": review_form},
                  status=400 if form.errors or review_form.errors else 200)

