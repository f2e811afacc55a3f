"""Opening a case's attachments: one file (view, preview, download) or all of them as a ZIP.

Scoped like the case page (another organization's file, or no right to read: 404);
the opening is audited by the cases actions before anything is decrypted.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, StreamingHttpResponse

from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions, files
from haven.cases.access import READ, access_case_by_number

from . import file_serving


@member_view(READ)
def open_file(request: MemberRequest, number: int, record_id: int, how: str) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    attachment = files.attachment_of(case, record_id)
    if attachment is None or how not in actions.FILE_OPENINGS:
        raise Http404
    response = file_serving.opened_response(
        actions.open_file(me, request.org_vault, case, attachment, how), how)
    if response is None:
        raise Http404
    return response


@member_view(READ)
def all_files(request: MemberRequest, number: int) -> StreamingHttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    if not files.attachments_of(case):
        raise Http404  # nothing to archive (the page offers no link then)
    return file_serving.archive_response(actions.open_all_files(me, request.org_vault, case),
                                         case.number)
