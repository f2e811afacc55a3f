"""The worker's periodic tasks for accounts: expired links lose their keys."""

from __future__ import annotations

from django.utils import timezone

from haven.core.worker import periodic

from .models import Invite
from .services import wipe_links


@periodic(every=300)
def wipe_expired_links() -> int:
    """An invitation or reset link that expired unused opens nothing from then on.

    The row itself stays a while (the admin page lists it); core's purge deletes it.
    """
    expired = Invite.objects.filter(expires__lte=timezone.now()).exclude(public_key=b"")
    return wipe_links(expired)
