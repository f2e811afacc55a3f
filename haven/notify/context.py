"""Every page tells a member whose notifications stopped reaching them (one small query)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import Destination, State


def problems(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    states = set(Destination.objects.filter(member_id=user.pk).exclude(state=State.ACTIVE)
                 .values_list("state", flat=True))
    return {"notify_blocked": State.BLOCKED in states, "notify_bounced": State.BOUNCED in states}
