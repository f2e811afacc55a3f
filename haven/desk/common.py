"""Helpers shared by the desk's views."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from haven.accounts.models import Member
from haven.cases import summaries
from haven.cases.keys import try_case_vault
from haven.cases.models import Case
from haven.vault import CaseVault, OrgVault, VaultError

View = Callable[..., HttpResponseBase]  # pages, and streamed downloads
PAGE_SIZE = 50


def active_members(me: Member) -> list[Member]:
    """The active members of ``me``'s organization (for assignment choices and filters)."""
    return list(Member.objects.filter(organization_id=me.organization_id, is_active=True))


def summary_of(org_vault: OrgVault | None, case: Case) -> str:
    return summary_parts(org_vault, case).text


def _opened(vault: OrgVault | None, case: Case) -> CaseVault | None:
    """The case's vault from the member's key ring (or the case's vault itself)."""
    if vault is None:
        return None
    return try_case_vault(vault, case)


def summary_parts(org_vault: OrgVault | None, case: Case) -> summaries.Summary:
    """The summary and its language ("" when not known); empty for a burned case, "?"
    for one the member holds no key of."""
    if not case.summary:
        return summaries.Summary("")
    vault = _opened(org_vault, case)
    if vault is None:
        return summaries.Summary("?")
    try:
        return summaries.unpack(vault.decrypt_text(bytes(case.summary)), case.category)
    except VaultError:
        return summaries.Summary("?")


def tags_of(org_vault: OrgVault | None, case: Case) -> list[str]:
    vault = _opened(org_vault, case)
    if not case.tags or vault is None:
        return []
    return list(json.loads(vault.decrypt_text(bytes(case.tags))))


COUNT_CAP = 999


@dataclass
class Page:
    """One page of a queue, found without counting the whole queue.

    Counting 100,000 cases on every view cost more than everything else on the
    page; a page needs only to know whether there is a next one.
    """

    object_list: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def paginate(request: HttpRequest, items: Any) -> Page:
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), 10_000)
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    rows = list(items[start:start + PAGE_SIZE + 1])
    return Page(rows[:PAGE_SIZE], number, len(rows) > PAGE_SIZE)


def capped_count(items: Any) -> int:
    """How many, up to COUNT_CAP + 1 (shown as "999+")."""
    return int(items[:COUNT_CAP + 1].count())
