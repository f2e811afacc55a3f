"""The accounts' periodic tasks (registered with :mod:`haven.core.worker` in ``ready``)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from haven.core.worker import periodic

from .models import Invite, KeySession
from .services import wipe_links


@periodic(every=300, purges=True)
def purge_expired_sessions() -> int:
    """Expired logins, their encrypted keys and used or stale invitation links."""
    now = timezone.now()
    keys, _ = KeySession.objects.filter(expires__lte=now).delete()
    sessions, _ = Session.objects.filter(expire_date__lte=now).delete()
    invites, _ = Invite.objects.filter(expires__lte=now - timedelta(days=30)).delete()
    return keys + sessions + invites


@periodic(every=300)
def wipe_expired_links() -> int:
    """An invitation or reset link that expired unused opens nothing from then on.

    The row itself stays a while (the admin page lists it); the purge above deletes it.
    """
    expired = Invite.objects.filter(expires__lte=timezone.now()).exclude(public_key=b"")
    return wipe_links(expired)
