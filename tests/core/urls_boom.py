"""Haven's URLs plus one view that fails with the request's input in its exception (log tests)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from haven.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    """Fail as a careless lookup would: the typed value inside the message, and in its cause."""
    typed = request.POST.get("name", "") + request.GET.get("q", "")
    try:
        int(typed)
    except ValueError as exc:
        raise LookupError(f"Field 'id' expected a number but got {typed!r}") from exc
    return HttpResponse("no")


urlpatterns = [path("boom/", boom), *urlpatterns]
