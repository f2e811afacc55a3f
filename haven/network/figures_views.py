"""Combined figures: publishing this organization's month, the public list of what it
published, and the network page that sums its partners' verified figures with its own."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from haven.accounts.models import Organization
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right, can
from haven.cases import categories
from haven.cases.models import Channel

from . import actions, charts, collect, figures
from .models import CollectedFigures, FiguresCollection, Partner, Publication
from .partners import active_partners

MONTHS = 24
PUBLIC_MAX_AGE = 300  # seconds a proxy or a partner may keep the public list

TABLE_TITLES = {
    "category": _lazy("Cases opened, by category"),
    "channel": _lazy("Cases opened, by channel"),
    "outcome": _lazy("Cases closed, by outcome"),
    "first_reply": _lazy("Cases opened, by time to the first reply"),
    "referrals": _lazy("Referrals between organizations"),
}
CELL_NAMES = {
    "outcome": {"closed": _lazy("Closed"), "referred": _lazy("Closed after a referral to a partner")},
    "first_reply": {"1h": _lazy("Within 1 hour"), "24h": _lazy("Within 24 hours"),
                    "72h": _lazy("Within 72 hours"), "later": _lazy("Later"),
                    "none": _lazy("No reply yet")},
    "referrals": {"out": _lazy("Cases referred to partners"),
                  "in": _lazy("Referrals received from partners")},
}


def cell_name(table: str, cell: str) -> str:
    if table == "category":
        return categories.get(cell).name
    if table == "channel":
        return str(dict(Channel.choices).get(cell, cell))
    name = CELL_NAMES.get(table, {}).get(cell)
    return str(name) if name is not None else cell


def _n(value: float) -> str:
    return str(formats.number_format(value, use_l10n=True))


def shown(total: figures.Total) -> str:
    """A total in words and digits: exact, "<5", a range, and the noise's ± when noisy."""
    if total.hidden == 1 and total.sources == 1:  # one organization's hidden cell alone
        return "<5"
    if total.is_range:
        text = f"{_n(total.low)}–{_n(total.high)}"
    else:
        text = _n(total.value)
    if total.margin:
        text += f" ± {_n(total.margin)}"
    return text


# Public ---------------------------------------------------------------------------------

@require_GET
def public_figures(request: HttpRequest, slug: str) -> HttpResponse:
    """Every month this organization published, exactly as signed: for partners' pages."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise Http404
    rows = Publication.objects.filter(organization=org).order_by("month")
    response = JsonResponse({"org": org.slug, "publications": [
        {"month": figures.month_key(r.month), "body": figures.b64(bytes(r.body)),
         "signature": figures.b64(bytes(r.signature))} for r in rows]})
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    setattr(response, "cache_public", True)  # noqa: B010 - read by haven.core.middleware
    return response


# Publishing -----------------------------------------------------------------------------

class PublishForm(forms.Form):
    month = forms.ChoiceField(label=_lazy("Month"))
    epsilon = forms.DecimalField(
        label=_lazy("ε (privacy budget)"), required=False, min_value=Decimal("0.1"),
        max_value=Decimal("10"), decimal_places=2, localize=True,
        help_text=_lazy("Leave empty to publish the counts without noise (cells under 5 are "
                        "still hidden). With an ε, random noise of about 1/ε is added to every "
                        "figure: a smaller ε hides each case better and blurs the figures more. "
                        "0.5 to 5 is usual."))

    def __init__(self, months: list[date], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.months = {figures.month_key(m): m for m in months}
        self.fields["month"].choices = [(key, formats.date_format(m, "F Y"))  # type: ignore[attr-defined]
                                        for key, m in self.months.items()]


def _tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A published body's tables for a template: title and (name, "<5" or the figure)."""
    found = []
    for table, cells in (data.get("figures") or {}).items():
        found.append({"title": str(TABLE_TITLES.get(table, table)),
                      "cells": [(cell_name(table, c), "<5" if v is None else _n(v))
                                for c, v in cells.items()]})
    return found


@member_view(Right.ORG_ADMIN)
def publish(request: MemberRequest) -> HttpResponse:
    org = request.user.organization
    form = PublishForm(figures.finished_months(org, MONTHS), request.POST or None)
    if request.method == "POST" and form.is_valid():
        month = form.months[form.cleaned_data["month"]]
        eps = form.cleaned_data["epsilon"]
        try:
            actions.publish_figures(request.user, request.org_vault, month,
                                    float(eps) if eps is not None else None)
        except actions.FiguresError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The figures of %(month)s are published.")
                             % {"month": formats.date_format(month, "F Y")})
            return redirect("network:figures_publish")
    rows = Publication.objects.filter(organization=org).order_by("-month")
    published = [{"row": r, "tables": _tables(json.loads(bytes(r.body)))} for r in rows]
    return render(request, "network/figures_publish.html", {
        "form": form, "published": published, "slug": org.slug},
        status=400 if form.errors else 200)


# The network page -----------------------------------------------------------------------

def _month_bodies(org: Organization, months: list[date]) -> tuple[list[dict[str, Any]], int]:
    """This organization's published bodies and its active partners' collected ones."""
    oldest = min(months)
    own = [json.loads(bytes(body)) for body in Publication.objects.filter(
        organization=org, month__gte=oldest).values_list("body", flat=True)]
    collected = list(CollectedFigures.objects.filter(
        organization=org, partner__state=Partner.State.ACTIVE, month__gte=oldest)
        .values_list("figures", flat=True))
    return own + collected, len(own)


@member_view(Right.CASE_READ)
def network_page(request: MemberRequest) -> HttpResponse:
    org = request.user.organization
    months = figures.finished_months(org, MONTHS)
    bodies, _own = _month_bodies(org, months)
    combined = figures.combine(months, bodies)
    chosen = figures.parse_month(request.GET.get("month", ""))
    if chosen not in months:
        chosen = next((m for m in months if m in combined.publishers), months[0])
    tables = []
    for table, cells in combined.tables.items():
        per_cell = combined.cells.get(chosen, {}).get(table, {})
        rows = [(cell_name(table, c), shown(per_cell[c])) for c in cells if c in per_cell]
        oldest_first = list(reversed(months))
        totals = [combined.month_total(m, table) for m in oldest_first]
        columns = [(m.strftime("%m.%y"), t.low, t.high, t.margin,
                    f"{formats.date_format(m, 'F Y')}: {shown(t)}")
                   for m, t in zip(oldest_first, totals, strict=True)]
        title = str(TABLE_TITLES.get(table, table))
        tables.append({"title": title, "rows": rows,
                       "total": shown(combined.month_total(chosen, table)) if rows else "",
                       "chart": charts.bars(title, columns),
                       "by_month": [(formats.date_format(m, "F Y"), shown(t) if t.sources else "—")
                                    for m, t in zip(oldest_first, totals, strict=True)]})
    return render(request, "network/figures.html", {
        "months": [(figures.month_key(m), formats.date_format(m, "F Y")) for m in months],
        "chosen": figures.month_key(chosen), "chosen_name": formats.date_format(chosen, "F Y"),
        "publishers": combined.publishers.get(chosen, 0), "tables": tables,
        "partners": _partner_status(org),
        "can_publish": can(request.user, Right.ORG_ADMIN),
    })


def _partner_status(org: Organization) -> list[dict[str, Any]]:
    partners = list(active_partners(org))
    status = {s.partner_id: s for s in FiguresCollection.objects.filter(partner__in=partners)}
    held: dict[int, int] = {}
    for partner_id in CollectedFigures.objects.filter(
            organization=org, partner__in=partners).values_list("partner_id", flat=True):
        held[partner_id] = held.get(partner_id, 0) + 1
    rows = []
    for p in partners:
        s = status.get(p.pk)
        rows.append({"name": p.name, "months": held.get(p.pk, 0),
                     "succeeded": s.succeeded if s else None, "tried": s.tried if s else None,
                     "error": collect.reason(s.error) if s and s.error else ""})
    return rows


@member_view(Right.CASE_READ)
@require_POST
def collect_now(request: MemberRequest) -> HttpResponse:
    outcomes = collect.collect(list(active_partners(request.user.organization_id)))
    failed = [o for o in outcomes if o.error]
    kept = sum(o.kept for o in outcomes)
    if failed:
        messages.warning(request, _("Figures collected: %(kept)s months; %(failed)s partners "
                                    "could not be read (see below).")
                         % {"kept": _n(kept), "failed": _n(len(failed))})
    else:
        messages.success(request, _("Figures collected: %(kept)s months.") % {"kept": _n(kept)})
    return redirect("network:figures")
