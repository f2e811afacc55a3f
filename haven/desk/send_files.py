"""A reply with a file (an application template, a checklist) to the requester.

The file is checked and cleaned like intake's (haven.intake.attachments: type by
content, images rebuilt from their pixels, PDFs with scripts refused), kept in
memory while the request is read (never in a clear temporary file), and handed to
``actions.reply``, which keeps it on the case and spools a copy for the channel.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions
from haven.cases.access import WORK, access_case_by_number
from haven.core.errors import Refusal
from haven.intake.attachments import MAX_BYTES, AttachmentRefused, CleanFile, MemoryUploadHandler, clean

from . import case_views


@csrf_exempt
def reply_with_file(request: HttpRequest, number: int) -> HttpResponseBase:
    # Upload handlers must be set before anything reads the body; the CSRF check runs
    # in _reply_with_file, after the right is checked.
    request.upload_handlers = [MemoryUploadHandler(request)]
    return _reply_with_file(request, number)


@member_view(WORK)
@require_POST
@csrf_protect
def _reply_with_file(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    try:
        file = _cleaned(request)
        messages.success(request, case_views.reply_text(request, me, case, file))
        return redirect("desk:case", number=case.number)
    except (Refusal, AttachmentRefused) as exc:  # nothing was saved or spooled
        case.refresh_from_db()
        typed = request.POST.get("text", "")[:actions.MAX_TEXT * 2]
        messages.error(request, str(exc))
        return case_views.render_refused_reply(request, me, case, typed)


def _cleaned(request: MemberRequest) -> CleanFile | None:
    upload = request.FILES.get("file")  # parses the body, which notes an oversized file
    oversized = getattr(request, "intake_oversized", [])
    if oversized:
        raise actions.ActionError(_("“%(name)s” is larger than %(mb)d MB. Send a smaller file: "
                                    "a PDF saved with smaller images, or a photo of the page.")
                                  % {"name": oversized[0], "mb": MAX_BYTES // 2**20})
    if upload is None or not upload.size:
        return None
    return clean(upload.name or "", upload.read())
