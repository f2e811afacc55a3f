"""Writes of the network's rows, each with its audit entry in the same transaction.

Each part of the network keeps its writes in its own block below.
"""

from __future__ import annotations

import random
import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Organization
from haven.audit import chain
from haven.core.errors import Refusal
from haven.vault import OrgVault

from . import figures
from .keys import NoSigningKey, sign_as
from .models import CollectedFigures, FiguresCollection, Partner, Publication

# Figures ----------------------------------------------------------------------------------


class FiguresError(Refusal):
    """Figures that cannot be published as asked; the message says what to do."""


def publish_figures(member: Member, ring: OrgVault, month: date, epsilon: float | None,
                    rng: random.Random | None = None) -> Publication:
    """Count ``month``, add noise (when ``epsilon``), suppress cells under 5, sign and keep
    it as the organization's publication of that month, replacing an earlier one."""
    org: Organization = member.organization
    if month not in figures.finished_months(org):
        raise FiguresError(_("Choose a finished month of the last two years."))
    if epsilon is not None and not figures.EPSILON_MIN <= epsilon <= figures.EPSILON_MAX:
        raise FiguresError(_("Choose an ε between 0.1 and 10, or leave it empty for no noise."))
    counts = figures.count_month(org, month)
    published = figures.privatize(counts, epsilon, rng or secrets.SystemRandom())
    now = timezone.now()
    body = figures.body_for(org, month, epsilon, published, now)
    try:
        signature = sign_as(ring, org, body)
    except NoSigningKey as exc:
        raise FiguresError(_("Your keys do not open the organization's signing key; "
                             "log in again or ask another administrator.")) from exc
    with transaction.atomic():
        replaced = Publication.objects.filter(organization=org, month=month).delete()[0] > 0
        row = Publication.objects.create(organization=org, month=month, body=body,
                                         signature=signature, epsilon=epsilon, published=now,
                                         published_by=member)
        chain.record(org.pk, "figures.published", actor_id=member.pk,
                     detail={"month": figures.month_key(month), "epsilon": epsilon,
                             "replaced": replaced})
    return row


def keep_collected(partner: Partner, verified: list[tuple[date, bytes, bytes, dict]],
                   error: str, refused: int) -> int:
    """Keep a partner's verified months (replacing older copies of the same month) and note
    how the collection went. Earlier good copies stay when this try failed."""
    now = timezone.now()
    with transaction.atomic():
        for month, body, signature, data in verified:
            CollectedFigures.objects.update_or_create(
                organization_id=partner.organization_id, partner=partner, month=month,
                defaults={"body": body, "signature": signature, "figures": data,
                          "collected": now})
        status, _made = FiguresCollection.objects.get_or_create(partner=partner)
        status.tried, status.error, status.refused = now, error[:200], refused
        if not error:
            status.succeeded = now
        status.save()
    return len(verified)
