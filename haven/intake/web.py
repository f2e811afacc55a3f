"""Helpers shared by the requester's pages: language, body limits, the conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from haven.accounts.models import Organization
from haven.core.langs import DEFAULT_LANG, LANGS

from . import conversations, registry
from .attachments import MemoryUploadHandler
from .engine import Engine, State, StateError
from .models import IntakeConversation

View = Callable[..., HttpResponse]
# The browser's handle on its unfinished conversation lives in a cookie of its own,
# not in a Django session: requesters never get a session row, and their pages
# need no session lookup (see :mod:`haven.intake.conversations`).
HANDLE_COOKIE = "haven_intake"
HANDLE_PATH = "/o/"
FORM_LIMIT = 128 * 1024  # a step's form; text answers are at most a few thousand characters
LEAVE_URLS = {  # "leave quickly": an ordinary weather page, in the requester's language
    "ru": "https://yandex.ru/pogoda/",
    "uk": "https://sinoptik.ua/",
    "en": "https://www.bbc.com/weather",
}


def current_lang() -> str:
    lang = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return lang if lang in LANGS else DEFAULT_LANG


def requester_page(limit: int = FORM_LIMIT, uploads: bool = False) -> Callable[[View], View]:
    """Every requester page: refuse big bodies unread, honour ?lang=, never cache.

    The CSRF check runs here, after the size check, rather than in the
    middleware: the middleware reads the whole body to find the token. With
    ``uploads``, files are kept in memory, never in a clear temporary file.
    """

    def decorate(view: View) -> View:
        protected = csrf_protect(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _declared_length(request) > limit:
                return render(request, "intake/too_large.html", status=413)
            if uploads:
                request.upload_handlers = [MemoryUploadHandler(request)]
            chosen = request.GET.get("lang", "")
            if chosen in LANGS:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
            response = protected(request, *args, **kwargs)
            if chosen in LANGS:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, samesite="Lax",
                                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                                    secure=settings.LANGUAGE_COOKIE_SECURE)
            # Pages carry answers, codenames or the thread: keep them out of every cache.
            response.headers["Cache-Control"] = "no-store, max-age=0"
            return response

        return csrf_exempt(wrapper)  # checked by ``protected`` above, once the size is known

    return decorate


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def organization(slug: str) -> Organization:
    return get_object_or_404(Organization, slug=slug)


@dataclass
class Conversation:
    """The requester's live conversation, opened for this request."""

    org: Organization
    row: IntakeConversation
    state: State
    engine: Engine

    def save(self, state: State) -> bool:
        if conversations.save(self.row, state):
            self.state = state
            return True
        return False


def handle_of(request: HttpRequest) -> str:
    """This browser's conversation handle, or "" (a well-formed token only)."""
    handle = request.COOKIES.get(HANDLE_COOKIE, "")
    return handle if conversations.well_formed(handle) else ""


def keep_handle(response: HttpResponse, handle: str) -> HttpResponse:
    """Give the browser its handle until it closes (the row itself expires in a day)."""
    response.set_cookie(HANDLE_COOKIE, handle, path=HANDLE_PATH, httponly=True, samesite="Strict",
                        secure=settings.SESSION_COOKIE_SECURE)
    return response


def forget_handle(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(HANDLE_COOKIE, path=HANDLE_PATH, samesite="Strict")
    return response


def load_conversation(request: HttpRequest, slug: str) -> Conversation | None:
    """The conversation of this browser's handle for the organization ``slug``.

    The organization comes with the conversation in one query (each page of an
    intake needs both); the language is kept to the page's.
    """
    handle = handle_of(request)
    if not handle:
        return None
    try:
        row, state = conversations.load(handle, org_slug=slug)
        engine = registry.engine(registry.category_of(state.questionnaire))
        state = engine.resume(state)
    except (conversations.ConversationGone, StateError, KeyError):
        return None
    conversation = Conversation(row.organization, row, state, engine)
    lang = current_lang()
    if lang != state.lang:
        conversation.save(engine.set_lang(state, lang))
    return conversation


def gone(request: HttpRequest, slug: str, status: int = 410) -> HttpResponse:
    """No conversation: already sent, expired, or cookies are off. Never an error page."""
    return render(request, "intake/gone.html", {"org": organization(slug)}, status=status)
