"""A flood of fake requests must not bury real ones (M-5).

Each organization takes at most ``HAVEN_INTAKE_HOURLY_LIMIT`` new cases an hour
(default 3,000: a real surge after a mobilization announcement is about 1,000
an hour, so it never gets there). Beyond it, new cases are still created and
the requester sees exactly the same confirmation and codename (nothing tells a
flooder the limit was reached), but the cases are *held*: kept out of the
queues until a coordinator releases or discards them on the desk's held page.
``HAVEN_INTAKE_HOURLY_LIMITS`` sets other limits per organization
(``slug=limit,slug=limit``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from haven.accounts.models import Organization
from haven.cases.models import Case


def hourly_limit(org: Organization) -> int:
    """The organization's own limit from HAVEN_INTAKE_HOURLY_LIMITS, or the server's."""
    for entry in settings.HAVEN_INTAKE_HOURLY_LIMITS:
        slug, _sep, value = entry.partition("=")
        if slug.strip() == org.slug and value.strip().isdigit():
            return int(value)
    return int(settings.HAVEN_INTAKE_HOURLY_LIMIT)


def flooded(org: Organization) -> bool:
    """True when the organization already received its hourly limit of cases in the last hour."""
    limit = hourly_limit(org)
    since = timezone.now() - timedelta(hours=1)
    return Case.objects.filter(organization=org, created__gte=since)[:limit].count() >= limit
