"""The organization's own audit page: account and security events, for administrators."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.audit.models import AuditEntry

from . import audit_labels as labels
from .common import paginate


def audit_rows(entries: list[AuditEntry], names: dict[int, str]) -> list[dict[str, Any]]:
    """Entries in words, for the audit table (the case's page and the organization's)."""
    return [{"entry": e, "actor": names.get(e.actor_id or 0, ""),
             "what": labels.event_label(e.action), "details": labels.details(e.detail, names)}
            for e in entries]


def member_names(org_id: int) -> dict[int, str]:
    return {m.pk: str(m) for m in Member.objects.filter(organization_id=org_id)}


@member_view(Right.ORG_ADMIN)
def organization_audit(request: MemberRequest) -> HttpResponse:
    """Entries that concern no case (logins, invitations, roles, settings), newest first."""
    org_id = request.user.organization_id
    entries = AuditEntry.objects.filter(organization_id=org_id, case_id__isnull=True).order_by("-seq")
    page = paginate(request, entries)
    return render(request, "desk/org_audit.html", {
        "page": page, "entries": audit_rows(page.object_list, member_names(org_id))})
