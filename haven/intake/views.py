"""The web intake: start, consent, one page per question, confirm, codename.

Plain HTML forms, no JavaScript. The browser's own Back button works: each
question has its own address (``step/?s=<id>``), and answering an earlier
question again carries on from there with the later answers kept. A form sent
twice, from an old page or after the request was sent, gets a page that says so
and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haven.accounts.models import Organization
from haven.cases.models import Channel

from . import conversations, fields, orgpage, submit
from .attachments import AttachmentRefused, CleanFile, clean
from .engine import CONFIRM, CONSENT, Engine, Prompt, StateError
from .models import IntakeSettings
from .questionnaire import Questionnaire
from .web import (
    Conversation,
    current_lang,
    forget_handle,
    gone,
    handle_of,
    keep_handle,
    load_conversation,
    organization,
    requester_page,
)

UPLOAD_LIMIT = 12 * 1024 * 1024 + 128 * 1024


def _step_url(slug: str, step_id: str | None = None, review: bool = False) -> str:
    url = reverse("intake:step", args=[slug])
    if not step_id:
        return url
    return f"{url}?s={step_id}&review=1" if review else f"{url}?s={step_id}"


def _next_page(slug: str, conv: Conversation, review: bool = False) -> HttpResponse:
    """Where the conversation stands now; ``review`` carries a change made from the review."""
    state = conv.state
    if state.phase == CONSENT:
        return redirect("intake:consent", slug)
    if state.phase == CONFIRM:
        return redirect("intake:confirm", slug)
    return redirect(_step_url(slug, state.current, review))


@require_http_methods(["GET"])
@requester_page()
def start(request: HttpRequest, slug: str) -> HttpResponse:
    org = organization(slug)
    row = orgpage.settings_for(org)
    lang = current_lang()
    context = {
        "org": org, "offered": orgpage.enabled(org, row), "lang": lang,
        "description": orgpage.words(row, "description", lang),
    }
    return render(request, "intake/start.html", context)


@require_http_methods(["GET", "POST"])
@requester_page()
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    """Who reads the answers; agreeing starts the conversation (nothing is stored before)."""
    source = request.POST if request.method == "POST" else request.GET
    topic = source.get("topic", "")
    if topic:
        org = organization(slug)
        row = orgpage.settings_for(org)
        chosen = next((q for q in orgpage.enabled(org, row) if q.category == topic), None)
        if chosen is None:
            return redirect("intake:start", slug)
        if request.method == "POST" and request.POST.get("agree"):
            handle = conversations.new_handle()
            state = Engine(chosen).start(current_lang(), consent=False)
            conversations.create(org, handle, state, Channel.WEB)
            earlier = handle_of(request)
            if earlier:
                conversations.discard(earlier)  # one conversation per browser
            return keep_handle(redirect(_step_url(slug, state.current)), handle)
        error = _("To go on, confirm that you have read who will see your answers.") \
            if request.method == "POST" else ""
        return _render_consent(request, org, chosen, error=error, row=row)
    conv = load_conversation(request, slug)
    if conv is None:
        return redirect("intake:start", slug) if request.method == "GET" else gone(request, slug)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            conversations.discard(handle_of(request))
            return forget_handle(redirect("intake:start", slug))
        if conv.state.phase == CONSENT and request.POST.get("agree"):
            conv.save(conv.engine.answer(conv.state, "yes").state)
        return _next_page(slug, conv)
    return _render_consent(request, conv.org, conv.engine.q, conv=conv)


def _render_consent(request: HttpRequest, org: Organization, questionnaire: Questionnaire, *,
                    conv: Conversation | None = None, error: str = "",
                    row: IntakeSettings | None = None) -> HttpResponse:
    lang = current_lang()
    row = row or orgpage.settings_for(org)
    context = {
        "org": org, "questionnaire": questionnaire, "intro": questionnaire.intro[lang],
        "retention": orgpage.words(row, "retention", lang), "new": conv is None,
        "retention_days": orgpage.retention_days(org), "error": error,
        "answered": conv is not None and conv.state.phase != CONSENT,
    }
    return render(request, "intake/consent.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@requester_page()
def step(request: HttpRequest, slug: str) -> HttpResponse:
    conv = load_conversation(request, slug)
    if conv is None:
        return gone(request, slug)
    if conv.state.phase == CONSENT:
        return redirect("intake:consent", slug)
    if request.method == "POST":
        return _answer(request, slug, conv)
    wanted = request.GET.get("s", "")
    if not wanted:
        return _next_page(slug, conv)
    try:
        shown = conv.engine.goto(conv.state, wanted)
    except StateError:
        return _next_page(slug, conv)  # a step not reached yet, or no longer asked
    return _render_step(request, conv, conv.engine.prompt(shown),
                        review=request.GET.get("review") == "1")


def _answer(request: HttpRequest, slug: str, conv: Conversation) -> HttpResponse:
    engine = conv.engine
    try:
        here = engine.goto(conv.state, request.POST.get("step", ""))
    except StateError:
        return _next_page(slug, conv)  # a form from a page that is out of date
    prompt = engine.prompt(here)
    raw: Any = request.POST.getlist("value") if prompt.field == "multi_choice" \
        else request.POST.get("value", "")
    result = engine.answer(here, raw)
    if request.POST.get("action") == "back":
        kept = replace(here, answers=result.state.answers) if result.error is None else here
        conv.save(engine.back(kept))
        return _next_page(slug, conv)
    review = request.POST.get("review") == "1"
    if result.error:
        return _render_step(request, conv, prompt, error=result.error, raw=raw, review=review)
    # A change made from the review goes back to it, asking only questions it opened.
    changed = engine.fast_forward(result.state) if review else result.state
    conv.save(changed)  # if another tab saved first, the next page shows where it is
    return _next_page(slug, conv, review)


def _render_step(request: HttpRequest, conv: Conversation, prompt: Prompt, *,
                 error: str = "", raw: Any = None, review: bool = False) -> HttpResponse:
    value = prompt.value if raw is None else raw
    if prompt.field == "number" and isinstance(value, int):
        value = str(value)
    chosen = set(value) if isinstance(value, list) else {value}
    context = {
        "org": conv.org, "prompt": prompt, "error": error, "value": value, "chosen": chosen,
        "questionnaire": conv.engine.q, "intro": conv.engine.q.intro[prompt.lang],
        "step_number": prompt.position, "step_total": prompt.total, "review": review,
        "number_range": fields.number_range(prompt.step, prompt.lang) if prompt.step else "",
        "date_example": fields.date_example(conv.engine.today(), prompt.lang),
    }
    return render(request, "intake/step.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@requester_page(limit=UPLOAD_LIMIT, uploads=True)
def confirm(request: HttpRequest, slug: str) -> HttpResponse:
    conv = load_conversation(request, slug)
    if conv is None:
        return gone(request, slug, status=410 if request.method == "GET" else 409)
    org = conv.org
    if conv.state.phase != CONFIRM:
        return _next_page(slug, conv)
    if request.method == "GET":
        return _render_confirm(request, conv)
    if request.POST.get("action") == "back":
        conv.save(conv.engine.back(conv.state))
        return _next_page(slug, conv)
    uploads, errors = _uploads(request, conv)
    if errors:
        return _render_confirm(request, conv, errors=errors, status=400)
    result = conv.engine.answer(conv.state, "yes" if request.POST.get("send") else "")
    if result.finished is None:
        return _render_confirm(request, conv, errors=[result.error or ""], status=400)
    try:
        done = submit.submit(org, result.finished, conversation=conv.row, uploads=uploads)
    except submit.AlreadySubmitted:
        return gone(request, slug, status=409)
    # The codename stays on its own page until the requester says it is written down,
    # so a refresh or a lost connection does not lose it (see conversations.keep_codename).
    handle = handle_of(request)
    conversations.keep_codename(org, handle, done.codename)
    return keep_handle(redirect("intake:sent", slug), handle)


@require_http_methods(["GET", "POST"])
@requester_page()
def sent(request: HttpRequest, slug: str) -> HttpResponse:
    """The new codename, until "I have written it down"; then how to come back."""
    org, handle = organization(slug), handle_of(request)
    if request.method == "POST":
        if handle:
            conversations.drop_codename(handle, org)
        return forget_handle(render(request, "intake/written.html", {"org": org, "confirmed": True}))
    codename = conversations.kept_codename(handle, org) if handle else None
    if codename is None:
        return render(request, "intake/written.html", {"org": org, "confirmed": False}, status=410)
    return render(request, "intake/done.html", {"org": org, "codename": codename})


def _render_confirm(request: HttpRequest, conv: Conversation, *, errors: list[str] | None = None,
                    status: int = 200) -> HttpResponse:
    prompt = conv.engine.prompt(conv.state)
    attachments = conv.engine.q.attachments
    context = {
        "org": conv.org, "prompt": prompt, "errors": errors or [],
        "attachments": attachments,
        "attachments_text": attachments.text[prompt.lang] if attachments else "",
        "questionnaire": conv.engine.q,
    }
    return render(request, "intake/confirm.html", context, status=status)


def _uploads(request: HttpRequest, conv: Conversation) -> tuple[tuple[CleanFile, ...], list[str]]:
    """Clean every attached file; list every problem so one page shows them all."""
    allowed = conv.engine.q.attachments
    sent = [f for f in request.FILES.getlist("files") if f.size]
    errors = [_("“%(name)s” is larger than 10 MB. Send a smaller photo.") % {"name": name}
              for name in getattr(request, "intake_oversized", [])]
    if sent and allowed is None:
        return (), [_("This form does not take attachments.")]
    if allowed is not None and len(sent) > allowed.max_files:
        errors.append(_("Attach at most %(n)d files.") % {"n": allowed.max_files})
        return (), errors
    cleaned = []
    for upload in sent:
        try:
            cleaned.append(clean(upload.name or "", upload.read()))
        except AttachmentRefused as exc:
            errors.append(str(exc))
    return tuple(cleaned), errors
