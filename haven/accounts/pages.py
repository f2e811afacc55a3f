"""Member pages: one decorator that checks a right, and the request type it hands on.

``member_view(right)`` lets through a logged-in, active member whose role has
``right`` (:mod:`haven.accounts.rights`) and answers 404 to anyone else, so a
page does not even say that it exists. The view then gets a
:class:`MemberRequest`: ``request.user`` is the :class:`Member` and
``request.org_vault`` the organization's keys opened by
``haven.accounts.middleware.unlock_keys`` (a member without open keys is sent to log in
again before any view runs).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from haven.vault import OrgVault

from .models import Member
from .rights import Right, can


class MemberRequest(HttpRequest):
    """The request a member page receives (for annotations; Django builds it as usual)."""

    user: Member
    org_vault: OrgVault


View = Callable[..., Any]


def member_view(right: Right) -> Callable[[View], View]:
    """Logged in, active, with ``right`` in the organization; otherwise 404 (no oracle)."""

    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not can(request.user, right):
                raise Http404
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]

        return wrapper

    return decorate
