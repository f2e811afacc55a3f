"""Opens the logged-in member's keys for each request, or ends the session."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .keys import read_key_session
from .models import Member
from .services import known_time_zones

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
            request.org_vault = keys.ring(user.pk)  # type: ignore[attr-defined]
        return get_response(request)

    return middleware


Handler = Callable[[HttpRequest], HttpResponse]


def activate_time_zone(get_response: Handler) -> Handler:
    """Times on the desk in the member's zone, else their organization's (UTC by default)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            timezone.activate(ZoneInfo(zone_of(user)))  # type: ignore[arg-type]
        else:
            timezone.deactivate()
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware


def zone_of(member: Member) -> str:
    """The member's zone name; a name Python no longer knows falls back to UTC."""
    for zone in (member.time_zone, member.organization.time_zone):
        if zone and zone in known_time_zones():
            return zone
    return "UTC"
