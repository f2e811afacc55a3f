"""Bulk work: one action applied to many cases a member ticked in a queue.

Each case goes through the same single-case function as on its own page (assign,
set_status, set_tags, move_case, add_note), in a transaction of its own, so one
refusal undoes nothing of the others and every case gets its own audit entry. A case
that changed since the page was shown (its ``version``), one the member may not change,
and one they cannot see are each refused by number, and the caller says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Team
from haven.core.errors import Refusal
from haven.vault import OrgVault

from . import actions
from .access import WORK, require
from .keys import case_vault, readable_cases
from .models import Case, Status

MAX_CASES = 200
MAX_REASON = 1000
KINDS = ("assign", "assign_me", "unassign", "status", "tag_add", "tag_remove", "move", "close")


class TooMany(actions.ActionError):
    """More cases were selected than one action may change."""


@dataclass(frozen=True)
class Pick:
    """A ticked case: its number and the version the page showed (None: not posted)."""

    number: int
    version: int | None


@dataclass(frozen=True)
class BulkAction:
    """What to do with every ticked case (the argument the ``kind`` needs is set)."""

    kind: str
    assignee: Member | None = None
    status: str = ""
    tag: str = ""
    team: Team | None = None
    reason: str = ""


@dataclass
class Outcome:
    changed: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # number, why

    def refusals_by_reason(self) -> list[tuple[str, list[int]]]:
        """The refused numbers grouped by their reason, in the order first met."""
        groups: dict[str, list[int]] = {}
        for number, why in self.refused:
            groups.setdefault(why, []).append(number)
        return list(groups.items())


def _stale() -> str:
    return _("changed since you loaded the page")


def _not_found() -> str:
    return _("not found")


def apply(member: Member, ring: OrgVault, action: BulkAction, picks: Iterable[Pick]) -> Outcome:
    """Apply ``action`` to each picked case the member may read, each in its own transaction.

    More than MAX_CASES picks are refused as a whole (nothing changes). A case outside
    ``readable_cases(member)`` (another team's, another organization's, held, or none at
    all) is refused as "not found", and nothing else is said about it.
    """
    require(member, WORK)
    _check(action)
    chosen = {p.number: p for p in picks}
    if len(chosen) > MAX_CASES:
        raise TooMany(_("You selected %(n)d cases; at most %(max)d can be changed at once. "
                        "Nothing was changed: select fewer and apply again.")
                      % {"n": len(chosen), "max": MAX_CASES})
    found = {c.number: c for c in readable_cases(member).filter(
        held=False, number__in=list(chosen)).select_related("organization")}
    outcome = Outcome()
    for number in sorted(chosen):
        case, version = found.get(number), chosen[number].version
        if case is None:
            outcome.refused.append((number, _not_found()))
        elif version is None or version != case.version:
            outcome.refused.append((number, _stale()))
        else:
            why = _apply_one(member, ring, action, case, version)
            if why:
                outcome.refused.append((number, why))
            else:
                outcome.changed.append(number)
    return outcome


def _check(action: BulkAction) -> None:
    """Refuse, before any case is touched, an action without the argument it needs."""
    kind = action.kind
    if kind not in KINDS:
        raise actions.ActionError(_("Choose what to do with the selected cases."))
    if kind == "assign" and action.assignee is None:
        raise actions.ActionError(_("Choose the member to assign the selected cases to."))
    if kind == "status" and action.status not in set(Status.values) - {Status.CLOSED}:
        raise actions.ActionError(_("Choose the new status (to close cases, use the action “Close "
                                    "with the reason written below”)."))
    if kind in ("tag_add", "tag_remove") and actions.clean_tags([action.tag]) != [action.tag]:
        raise actions.ActionError(_("Type the tag to add or remove (at most 40 characters)."))
    if kind == "move" and action.team is None:
        raise actions.ActionError(_("Choose the team to move the selected cases to."))
    if kind == "close" and not action.reason.strip():
        raise actions.ActionError(_("Write the reason for closing; it is kept as an internal "
                                    "note on each case."))
    if kind == "close" and len(action.reason) > MAX_REASON:
        raise actions.ActionError(_("The reason is %(n)d characters long; the limit is %(max)d.")
                                  % {"n": len(action.reason), "max": MAX_REASON})


def _apply_one(member: Member, ring: OrgVault, action: BulkAction, case: Case, version: int) -> str:
    """Change one case; "" when done, else why it was not changed (nothing of it kept)."""
    unchanged = _unchanged(ring, action, case)
    if unchanged:
        return unchanged
    try:
        with transaction.atomic():
            _change(member, ring, action, case, version)
    except actions.StaleCase:
        return _stale()
    except Refusal as exc:  # the action's own words: a role, a transition, a team
        return str(exc)
    except Http404:  # the member holds no key of it after all
        return _not_found()
    return ""


def _tags(ring: OrgVault, case: Case) -> list[str]:
    if not case.tags:
        return []
    return list(json.loads(case_vault(ring, case).decrypt_text(bytes(case.tags))))


def _unchanged(ring: OrgVault, action: BulkAction, case: Case) -> str:
    """Why the action would change nothing on this case ("" if it would change it)."""
    kind = action.kind
    if kind in ("assign", "assign_me"):
        target = action.assignee.pk if action.assignee else None
        if case.assignee_id == target:
            return _("already assigned to that member")
    if kind == "unassign" and case.assignee_id is None:
        return _("already unassigned")
    if kind == "status" and case.status == action.status:
        return _("already has that status")
    if kind == "close" and case.status == Status.CLOSED:
        return _("already closed")
    if kind in ("tag_add", "tag_remove"):
        try:
            has = action.tag in _tags(ring, case)
        except Http404:
            return _not_found()
        if kind == "tag_add" and has:
            return _("already has that tag")
        if kind == "tag_remove" and not has:
            return _("does not have that tag")
    return ""


def _change(member: Member, ring: OrgVault, action: BulkAction, case: Case, version: int) -> None:
    kind = action.kind
    if kind in ("assign", "assign_me", "unassign"):
        actions.assign(member, case, action.assignee if kind != "unassign" else None, version, ring)
    elif kind == "status":
        actions.set_status(member, case, action.status, version, ring)
    elif kind in ("tag_add", "tag_remove"):
        tags = set(_tags(ring, case))
        tags = tags | {action.tag} if kind == "tag_add" else tags - {action.tag}
        actions.set_tags(member, ring, case, sorted(tags), version)
    elif kind == "move":
        assert action.team is not None  # noqa: S101 - _check refused a move without a team
        actions.move_case(member, ring, case, action.team, version)
    elif kind == "close":
        # No field holds a reason for closing: it is kept as an internal note, under the
        # case's key. The status goes first, so a stale case is refused before the note.
        actions.set_status(member, case, Status.CLOSED, version, ring)
        actions.add_note(member, ring, case, _("Reason for closing: %(reason)s")
                         % {"reason": action.reason})
