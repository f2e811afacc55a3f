"""The requester comes back: codename, the thread, a reply, erasing the request.

Nothing is kept between requests: every form carries the codename (in a
hidden field of a page that is never cached) and each request derives the
requester's key from it again. Codenames only travel in POST bodies, never in
addresses, so they stay out of logs and browser history.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts.models import Organization
from haven.cases.actions import ActionError

from . import followup, followup_hooks, throttle
from .attachments import MAX_BYTES, AttachmentRefused, CleanFile, clean, safe_name
from .web import organization, requester_page

MESSAGE_MAX = 4000
FILES_MAX = 3  # a few files a message, each checked and cleaned like intake's
BODY_LIMIT = 12 * 1024 * 1024 + 128 * 1024  # as the intake form's: all files together


@require_http_methods(["GET", "POST"])
@requester_page(limit=BODY_LIMIT, uploads=True)
def follow_up(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization(slug)
    if request.method == "GET":
        return _form(request, org)
    codename = request.POST.get("codename", "")
    if throttle.codename_wait(org, codename):
        return _form(request, org, _("These words were tried too often. Wait a few minutes "
                                     "and try again."), status=429)
    if not throttle.begin(request):
        return _form(request, org, _("Too many wrong codenames from this connection. "
                                     "Wait 15 minutes and try again."), status=429)
    try:
        opened = followup.open_case(org, codename)
    except followup.NotFound:
        throttle.failed(org, codename)
        return _form(request, org, _("No request matches this codename. Check the words "
                                     "and their order, and try again."), status=400)
    throttle.succeeded(request)
    return _act(request, org, opened, codename, request.POST.get("action", "open"))


def _act(request: HttpRequest, org: Organization, opened: followup.Opened, codename: str,
         action: str) -> HttpResponse:
    if action == "erase":
        return render(request, "intake/erase_confirm.html", {"org": org, "codename": codename})
    if action == "erase_confirmed":
        followup.erase(opened)
        return render(request, "intake/erased.html", {"org": org})
    if action == "download":
        return _download(request, opened)
    notice, error, draft = "", "", ""
    hooked = followup_hooks.ACTIONS.get(action)
    if hooked is not None:
        notice, error = hooked(request, opened)
    elif action == "send" and not opened.is_open:
        # Closed while they were writing: say so, and give the text back to copy.
        draft = request.POST.get("message", "")[:MESSAGE_MAX * 2]
        error = _("Your message was not sent: this request has been closed meanwhile. Your "
                  "text is below so that you can copy it into a new request.")
    elif action == "send":
        draft = request.POST.get("message", "")
        attached, error = _uploads(request)
        error = error or _check_message(draft, bool(attached))
        if not error:
            try:
                sent = followup.send(opened, draft, request.POST.get("token", ""), attached)
            except ActionError as exc:
                error = str(exc)
            else:
                notice = _("Your message was sent.") if sent else _("This message was already sent.")
                draft = ""
    return _thread(request, org, opened, codename, notice=notice, error=error, draft=draft)


def _uploads(request: HttpRequest) -> tuple[list[CleanFile], str]:
    """The message's files, cleaned; or the reasons they were refused (then none is kept)."""
    sent = [f for f in request.FILES.getlist("files") if f.size]
    errors = [_("“%(name)s” is larger than %(mb)d MB. Send a smaller file, or a photo of the "
                "page.") % {"name": name, "mb": MAX_BYTES // 2**20}
              for name in getattr(request, "intake_oversized", [])]
    if len(sent) > FILES_MAX:
        return [], " ".join([_("Attach at most %(n)d files to one message; send the others in "
                               "the next one.") % {"n": FILES_MAX}, _("Nothing was sent.")])
    cleaned = []
    for upload in sent:
        try:
            cleaned.append(clean(upload.name or "", upload.read()))
        except AttachmentRefused as exc:
            errors.append(str(exc))
    if errors:
        return [], " ".join([*errors, _("Nothing was sent.")])
    return cleaned, ""


def _download(request: HttpRequest, opened: followup.Opened) -> HttpResponse:
    """A file the organization sent, as a download (never shown in the page)."""
    try:
        file = followup.open_file(opened, int(request.POST.get("file", "0") or 0))
    except (ValueError, followup.NotFound):
        return HttpResponse(_("This file is not in your request."), status=404,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(file.data, content_type="application/octet-stream")
    name = safe_name(file.name, file.type) if file.type in ("image/jpeg", "image/png",
                                                              "application/pdf") else "document"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _check_message(text: str, with_files: bool = False) -> str:
    if not text.strip() and not with_files:
        return _("The message is empty; write something first.")
    if len(text) > MESSAGE_MAX:
        return _("The message is too long (%(n)d characters; at most %(max)d). Shorten it or "
                 "send it in two parts.") % {"n": len(text), "max": MESSAGE_MAX}
    return ""


def _thread(request: HttpRequest, org: Organization, opened: followup.Opened, codename: str,
            **extra: Any) -> HttpResponse:
    context = {
        "org": org, "case": opened.case, "codename": codename, "is_open": opened.is_open,
        "messages_list": followup.thread(opened), "token": secrets.token_urlsafe(16),
        "message_max": MESSAGE_MAX, "files_max": FILES_MAX,
        "panels": [html for panel in followup_hooks.PANELS if (html := panel(request, opened, codename))],
        **extra,
    }
    return render(request, "intake/thread.html", context, status=400 if extra.get("error") else 200)


def _form(request: HttpRequest, org: Organization, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "intake/followup.html", {"org": org, "error": error}, status=status)
