from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def haven(request: HttpRequest) -> dict[str, Any]:
    """Values every template may use."""
    user = getattr(request, "user", None)  # absent on static-file error pages
    return {
        "HAVEN_MODE": settings.MODE,
        "member": user if user is not None and user.is_authenticated else None,
        "now": timezone.now(),
    }
