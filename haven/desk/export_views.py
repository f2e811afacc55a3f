"""Exporting a case file (PDF, or an encrypted archive with the originals) and the list
of cases as CSV (metadata only) for the organization's own reporting.

Every export is audited as ``case.exported`` before anything is decrypted; the
decrypted content exists only in the member's request; responses are ``no-store``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions
from haven.cases.access import MANAGE, WORK, access_case_by_number
from haven.cases.models import Case, RecordKind
from haven.core.ids import row_id

from . import case_file, file_serving
from .audit_views import member_names
from .case_views import _deadlines
from .common import summary_parts

CSV_COLUMNS = ("number", "category", "status", "priority", "channel", "created", "first_reply",
               "closed")


def _download(data: bytes | Iterator[bytes], name: str, kind: str, *,
              stream: bool = False) -> HttpResponse | StreamingHttpResponse:
    response: HttpResponse | StreamingHttpResponse = (
        StreamingHttpResponse(data, content_type=kind) if stream
        else HttpResponse(data, content_type=kind))
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _notes(request: MemberRequest, case: Case) -> list[dict[str, object]]:
    records = actions.read_case(request.user, request.org_vault, case)
    return [{"pk": item["record"].pk, "created": item["record"].created,
             "text": str(item["body"])} for item in records
            if item["record"].kind == RecordKind.NOTE]


@member_view(WORK)
def export_case(request: MemberRequest, number: int) -> HttpResponse | StreamingHttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    if case.erased:
        raise Http404  # nothing to export (the case page offers no link then)
    refused = ""
    if request.method == "POST":
        what = request.POST.get("what", "")
        passphrase = request.POST.get("passphrase", "")
        notes = {n for n in (row_id(v) for v in request.POST.getlist("notes")) if n is not None}
        try:
            if what not in actions.EXPORTS:
                raise case_file.WeakPassphrase(_("Choose the case file or the archive."))
            if what == "archive":
                case_file.check_passphrase(passphrase)
            records, opened = actions.export_case(me, request.org_vault, case, what, len(notes))
            pdf = case_file.case_pdf(
                case, summary=summary_parts(request.org_vault, case).text,
                author=me.organization.name, records=records, notes=notes,
                deadlines=_deadlines(request, case), opened=opened,
                names=member_names(me.organization_id))
            if what == "pdf":
                return _download(pdf, f"case-{case.number}.pdf", "application/pdf")
            return _download(case_file.archive(pdf, opened, passphrase, case.number),
                             f"case-{case.number}.zip", file_serving.DOWNLOAD, stream=True)
        except case_file.WeakPassphrase as refusal:
            refused = str(refusal)
    response = render(request, "desk/export.html", {
        "case": case, "notes": _notes(request, case), "refused": refused,
        "min_passphrase": case_file.MIN_PASSPHRASE}, status=400 if refused else 200)
    response["Cache-Control"] = "no-store"
    return response


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def _rows(cases: Iterator[Case]) -> Iterator[str]:
    class Line:
        def write(self, text: str) -> str:
            return text

    writer = csv.writer(Line())
    yield writer.writerow(CSV_COLUMNS)
    for case in cases:
        yield writer.writerow((case.number, case.category, case.status, case.priority,
                               case.channel, _when(case.created), _when(case.first_reply_at),
                               _when(case.closed_at)))


@require_GET
@member_view(MANAGE)
def cases_csv(request: MemberRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_rows(actions.export_metadata(request.user)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, "cases.csv") or "attachment"
    response["Cache-Control"] = "no-store"
    return response
