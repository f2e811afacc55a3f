"""An organization's public intake page: which categories, and its own words."""

from __future__ import annotations

from haven.accounts.models import Organization
from haven.cases.models import OrgSettings

from .models import IntakeSettings
from .questionnaire import Questionnaire
from .registry import ordered


def settings_for(org: Organization) -> IntakeSettings:
    """The saved settings, or unsaved defaults (every category, no custom words)."""
    row = IntakeSettings.objects.filter(organization=org).first()
    return row or IntakeSettings(organization=org, enabled=None, description={}, retention={})


def enabled(org: Organization, row: IntakeSettings | None = None) -> list[Questionnaire]:
    row = row or settings_for(org)
    offered = ordered()
    if row.enabled is None:
        return offered
    return [q for q in offered if q.category in set(row.enabled)]


def retention_days(org: Organization) -> int:
    row = OrgSettings.objects.filter(organization=org).first()
    return row.retention_days if row else OrgSettings._meta.get_field("retention_days").default


def words(row: IntakeSettings, field: str, lang: str) -> str:
    value = getattr(row, field) or {}
    return str(value.get(lang) or "") if isinstance(value, dict) else ""
