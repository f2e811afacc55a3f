"""Opens the logged-in member's keys for each request, or ends the session."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from haven.vault import OrgVault

from .keys import read_key_session

SESSION_ID_KEY = "haven_key_session"


def unlock_keys(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        request.org_vault = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            session_id = request.session.get(SESSION_ID_KEY, "")
            cookie = request.COOKIES.get(settings.HAVEN_KEY_COOKIE, "")
            keys = read_key_session(user, session_id, cookie) if session_id and cookie else None  # type: ignore[arg-type]
            if keys is None or not user.is_active:
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                response = redirect(settings.LOGIN_URL)
                response.delete_cookie(settings.HAVEN_KEY_COOKIE)
                return response
            request.org_vault = OrgVault(keys.org_private)  # type: ignore[attr-defined]
        return get_response(request)

    return middleware
