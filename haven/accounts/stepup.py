"""Step-up: admin actions need the password typed again within the last few minutes.

A stolen or left-open session can then not invite, re-key, change roles,
deactivate, lock or mint backup codes without the password (review L-6). Every
re-typed password that is wrong counts towards the login lock, through the
login throttle (``haven.accounts.login``), so a session holder cannot guess it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import login as login_service
from .models import Member

SESSION_KEY = "haven_step_up_at"
View = Callable[..., HttpResponse]


class WrongPassword(Exception):
    """The re-typed password was refused; the message is safe to show."""


def mark(request: HttpRequest) -> None:
    """The member typed the password just now (at login or on the confirm page)."""
    request.session[SESSION_KEY] = time.time()


def is_fresh(request: HttpRequest) -> bool:
    typed_at = request.session.get(SESSION_KEY)
    return isinstance(typed_at, float) and time.time() - typed_at < settings.HAVEN_STEP_UP_MINUTES * 60


def check_password(request: HttpRequest, member: Member, password: str) -> None:
    """Check the member's password against the login throttle; raise WrongPassword."""
    try:
        login_service.refuse_if_locked(member, member.username)
    except login_service.LoginRefused as exc:
        raise WrongPassword(str(exc)) from exc
    if not member.check_password(password):
        try:
            login_service.count_failure(member, member.username, login_service.PASSWORD)
        except login_service.LoginRefused as exc:
            raise WrongPassword(_("The current password is wrong.")) from exc


def step_up_required(view: View) -> View:
    """Send the member to type the password again first when the last time is too old."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_fresh(request):
            return view(request, *args, **kwargs)
        if request.method == "POST":
            messages.info(request, _("Type your password again, then repeat what you were doing."))
            back = reverse("accounts:home")
        else:
            back = request.get_full_path()
        return redirect(f"{reverse('accounts:confirm')}?{urlencode({'next': back})}")

    return wrapper
