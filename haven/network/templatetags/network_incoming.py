"""The desk's case page shows where a referred case came from (haven/desk imports no
network module: its panel template loads this tag)."""

from __future__ import annotations

from typing import Any

from django import template

from haven.accounts.rights import Right, can
from haven.cases.models import Case

from ..models import IncomingReferral

register = template.Library()


@register.simple_tag
def referred_by(case: Case) -> IncomingReferral | None:
    """The accepted referral this case was made from, if any."""
    return IncomingReferral.objects.select_related("partner").filter(
        case=case, organization_id=case.organization_id).first()


@register.simple_tag
def referrals_waiting(member: Any) -> int:
    """How many referrals from partners wait for a decision (0 for whoever cannot decide)."""
    if not can(member, Right.CASE_MANAGE):
        return 0
    return IncomingReferral.objects.filter(organization_id=member.organization_id,
                                           state=IncomingReferral.State.RECEIVED).count()
