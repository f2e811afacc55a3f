"""Security headers and body limits applied to every response."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


Handler = Callable[[HttpRequest], HttpResponse]


def security_headers(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        static = request.path.startswith(settings.STATIC_URL)
        public = getattr(response, "cache_public", False)
        if not static and not public and "no-store" not in response.headers.get("Cache-Control", ""):
            # Pages behind login hold decrypted case content, and pages before it hold
            # secrets too (an invitation's TOTP key, backup codes): no page is kept by
            # a browser or a proxy. Only static files (no secrets) may be cached, and a
            # response its view marks ``cache_public`` (an organization's published
            # figures, public by design, kept briefly).
            response.headers["Cache-Control"] = "no-store"
        return response

    return middleware


def limit_body_size(get_response: Handler) -> Handler:
    """Refuse bodies over the limit by their declared length, before reading them."""

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = next((size for prefix, size in getattr(settings, "HAVEN_BODY_LIMITS", ())
                      if request.path.startswith(prefix)), settings.HAVEN_MAX_BODY_BYTES)
        if length > limit:
            html = render_to_string("core/too_large.html", request=None)
            return HttpResponse(html, status=413)
        return get_response(request)

    return middleware
