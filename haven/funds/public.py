"""The public transparency page of an organization: aggregates only, no login.

Only months that have ended are shown, small counts are suppressed (see
:mod:`haven.funds.reports`), and nothing names a donor, a payee or a case.
"""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from haven.accounts.models import Organization

from . import ledger, reports, svg


def _report(slug: str, month_text: str | None) -> reports.MonthReport:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise Http404
    settings_row = ledger.fund_settings(org)
    if not settings_row.public_report:
        raise Http404
    months = reports.complete_months()
    month: datetime.date | None = months[0]
    if month_text:
        month = reports.month_start(month_text)
        if month is None or month >= timezone.localdate().replace(day=1):
            raise Http404
    assert month is not None  # noqa: S101
    return reports.monthly_report(org, month, settings_row.suppression_minimum)


def page(request: HttpRequest, slug: str) -> HttpResponse:
    report = _report(slug, request.GET.get("month"))
    return render(request, "funds/public.html", {
        "report": report, "chart": svg.chart(report), "months": reports.published_months(report.org),
        "month_param": report.month.strftime("%Y-%m"), "org": report.org})


def csv_file(request: HttpRequest, slug: str) -> HttpResponse:
    report = _report(slug, request.GET.get("month"))
    response = HttpResponse(reports.report_csv(report), content_type="text/csv; charset=utf-8")
    name = f"{report.org.slug}-{report.month.strftime('%Y-%m')}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def chart_file(request: HttpRequest, slug: str) -> HttpResponse:
    report = _report(slug, request.GET.get("month"))
    return HttpResponse(svg.chart(report, standalone=True), content_type="image/svg+xml")
