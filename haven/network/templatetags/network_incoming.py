"""The desk's case page shows where a referred case came from (haven/desk imports no
network module: its panel template loads this tag)."""

from __future__ import annotations

from django import template

from haven.cases.models import Case

from ..models import IncomingReferral

register = template.Library()


@register.simple_tag
def referred_by(case: Case) -> IncomingReferral | None:
    """The accepted referral this case was made from, if any."""
    return IncomingReferral.objects.select_related("partner").filter(
        case=case, organization_id=case.organization_id).first()
