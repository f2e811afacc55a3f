"""The CSV import wizard: upload, map columns, preview, commit (all or nothing).

A bank export names donors, so between the steps it is kept only encrypted
under the organization key (an :class:`ImportDraft` row visible to the member
who uploaded it), and the upload itself is read in memory, never spooled to a
temporary file in clear.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right

from . import access, actions, drafts, ledger
from .errors import FundsError
from .forms import CommitForm, MappingForm, UploadForm
from .importing import Mapping, Parsed, Table, check_file, check_mapping, read_table
from .models import ImportDraft

# About 50,000 rows: checked and booked well within the web server's 60 s timeout.
# Larger exports go through ``haven funds import``.
MAX_UPLOAD = 5 * 1024 * 1024

PREVIEW_ROWS = 100


class _MemoryOnly(MemoryFileUploadHandler):
    """Keeps the whole upload in memory up to :data:`MAX_UPLOAD`, and drops anything larger."""

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int,
                         boundary: Any, encoding: str | None = None) -> None:
        self.activated = content_length is not None and content_length <= MAX_UPLOAD + 65536


@csrf_exempt
def upload(request: MemberRequest) -> HttpResponseBase:
    # Upload handlers must be set before anything reads the body. The CSRF check
    # still runs (csrf_protect on _upload), after the role check, so the body of
    # someone who may not import is never parsed.
    request.upload_handlers = [_MemoryOnly(request)]
    return _upload(request)


@member_view(Right.FUNDS_MANAGE)
@csrf_protect
def _upload(request: MemberRequest) -> HttpResponse:
    member = request.user
    form = UploadForm(request.POST or None, request.FILES or None)
    too_big = ""
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD + 65536:
            form = UploadForm()  # the handler dropped the file; "required" would mislead
            too_big = _("The file is larger than 5 MB. Split it, or ask the server's "
                        "administrator to run the command-line import (haven funds import).")
        elif form.is_valid():
            data = form.cleaned_data["file"].read()
            try:
                read_table(data)
            except FundsError as exc:
                form.add_error("file", str(exc))
            else:
                draft = drafts.create(member, request.org_vault.encrypt(data))
                return redirect("funds:import_map", pk=draft.pk)
    kept = ImportDraft.objects.filter(member=member, created__gt=drafts.oldest()).order_by("-created")
    return render(request, "funds/import_upload.html",
                  {"form": form, "drafts": kept, "too_big": too_big},
                  status=400 if form.errors or too_big else 200)


class _Expired(Exception):
    pass


def _draft(request: MemberRequest, pk: int) -> tuple[ImportDraft, bytes]:
    """The member's upload, decrypted; 404 for anyone else's, :class:`_Expired` when old."""
    draft = access.access_draft(request.user, pk)
    if draft.created <= drafts.oldest():
        drafts.remove(draft)
        messages.info(request, _("That upload was older than a day and was removed; upload "
                                 "the file again."))
        raise _Expired
    return draft, request.org_vault.decrypt(bytes(draft.data))


@member_view(Right.FUNDS_MANAGE)
def mapping(request: MemberRequest, pk: int) -> HttpResponse:
    try:
        draft, data = _draft(request, pk)
    except _Expired:
        return redirect("funds:import")
    table = read_table(data)
    ch = ledger.chart(request.user.organization)
    saved = Mapping.from_json(draft.settings) if draft.settings else None
    form = MappingForm(request.POST or None, headers=table.headers, chart=ch,
                       initial=MappingForm.initial_from(saved) if saved else None)
    if request.method == "POST" and form.is_valid():
        chosen = form.mapping()
        problems = check_mapping(chosen, table.headers, ch)
        for problem in problems:
            form.add_error(None, problem)
        if not problems:
            drafts.choose_mapping(draft, chosen)
            return redirect("funds:import_preview", pk=draft.pk)
    return render(request, "funds/import_map.html", {
        "form": form, "draft": draft, "headers": table.headers, "sample": _sample(table),
        "rows": len(table.rows)}, status=400 if form.errors else 200)


def _sample(table: Table) -> list[list[str]]:
    width = len(table.headers)
    return [(cells + [""] * width)[:width] for _n, cells in table.rows[:5]]


def _checked(request: MemberRequest, draft: ImportDraft, data: bytes) -> Parsed:
    member = request.user
    ch = ledger.chart(member.organization)
    return check_file(data, Mapping.from_json(draft.settings), ch, member.organization_id,
                      request.org_vault)


@member_view(Right.FUNDS_MANAGE)
def preview(request: MemberRequest, pk: int) -> HttpResponse:
    try:
        draft, data = _draft(request, pk)
    except _Expired:
        return redirect("funds:import")
    if not draft.settings:
        return redirect("funds:import_map", pk=draft.pk)
    try:
        parsed = _checked(request, draft, data)
    except FundsError as exc:
        messages.error(request, str(exc))
        return redirect("funds:import_map", pk=draft.pk)
    funds = ledger.chart(request.user.organization).funds
    shown = [{"row": r, "fund": funds[r.fund_id].label, "duplicate": r.row in parsed.duplicates}
             for r in parsed.rows[:PREVIEW_ROWS]]
    return render(request, "funds/import_preview.html", {
        "draft": draft, "parsed": parsed, "shown": shown, "form": CommitForm(),
        "more": max(len(parsed.rows) - PREVIEW_ROWS, 0),
        "duplicate_rows": sorted(parsed.duplicates)[:500],
        "new_rows": len(parsed.rows) - len(parsed.duplicates)})


@member_view(Right.FUNDS_MANAGE)
@require_POST
def commit(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.user
    try:
        draft, data = _draft(request, pk)
    except _Expired:
        return redirect("funds:import")
    try:
        parsed = _checked(request, draft, data)
        if parsed.error_count:
            raise FundsError(_("%(n)d rows have errors; correct the file and upload it "
                               "again. Nothing was imported.") % {"n": parsed.error_count})
        form = CommitForm(request.POST)
        include = form.is_valid() and form.cleaned_data["include_duplicates"]
        rows = parsed.to_book(include)
        if not rows:
            raise FundsError(_("Every row looks like a donation already booked, so nothing was "
                               "imported. If they are new, tick “Import the rows flagged as "
                               "duplicates too”."))
        batch = actions.import_donations(
            member, request.org_vault, rows, holding_id=Mapping.from_json(draft.settings).holding_id
            or 0, source="web", skipped=len(parsed.rows) - len(rows))
    except FundsError as exc:
        messages.error(request, str(exc))
        return redirect("funds:import_preview", pk=pk)
    drafts.remove(draft)
    messages.success(request, _("%(n)d donations were imported; %(s)d duplicates were left "
                                "out.") % {"n": batch.rows, "s": batch.skipped})
    return redirect("funds:donations")


@member_view(Right.FUNDS_MANAGE)
@require_POST
def cancel(request: MemberRequest, pk: int) -> HttpResponse:
    drafts.remove(access.access_draft(request.user, pk))
    messages.info(request, _("The upload was removed."))
    return redirect("funds:import")
