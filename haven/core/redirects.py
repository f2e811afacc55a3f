"""Redirects whose target comes from the request: only to this site, never elsewhere.

A form posts ``next`` so the member returns to the page they were on. Anything
that is not a path on this host (``https://evil.example/``, ``//evil.example``,
``javascript:``, or ``queue``, which ``redirect`` would take for a URL name and
fail with a 500) is replaced by the fallback page, so a crafted link cannot
send a caseworker, signed in, to a look-alike site.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The posted ``next`` if it is a path on this site, else the fallback (a URL or a URL name)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(fallback)


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the posted ``next`` page if it is on this site, else to the fallback."""
    return redirect(safe_next(request, fallback))
