"""Fair assignment: a team that switched it on gives each new case to one of its members.

The rule: among the team's active members whose role may work cases, those with fewer
open cases than the team's cap (``Team.assign_cap``), the one with the fewest open cases;
on a tie the one assigned a case of this team least recently (``TeamKey.last_assigned``,
never counts as earliest), then the lowest id. Open cases are all the member's open
cases in the organization (what their "Mine" queue shows), not only this team's.

Volunteers hold no team key (they read only the cases sealed to them), so the rule never
picks one. Viewers and treasurers cannot work cases; deactivated members are skipped.
When every member is at the cap the case stays unassigned and :func:`waiting` says why;
a coordinator's "Assign waiting cases now" (:func:`assign_waiting`) runs the same rule
later. Choosing and assigning happen under a lock on the team's row, so two intakes at
once cannot both give a case to a member who had room for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Role, Team, TeamKey
from haven.accounts.rights import RIGHTS, Right, require

from .models import OPEN_STATUSES, Case
from .teams import TeamError

# Roles that may work cases and can be in a team (volunteers are in none).
WORKING_ROLES = sorted(role for role, rights in RIGHTS.items()
                       if Right.CASE_WORK in rights and role != Role.VOLUNTEER)
NEVER = float("-inf")  # never assigned: before everyone


@dataclass(frozen=True)
class Load:
    member: Member
    open_cases: int
    last_assigned: datetime | None


def loads(team: Team) -> list[Load]:
    """The team's members who may be picked, in the rule's order (first is picked first)."""
    keys = list(TeamKey.objects.filter(team=team, member__isnull=False, member__is_active=True,
                                       member__role__in=WORKING_ROLES)
                .exclude(member__public_key=None).select_related("member"))
    ids = [k.member_id for k in keys]
    counts = dict(Case.objects.filter(organization_id=team.organization_id, assignee_id__in=ids,
                                      status__in=OPEN_STATUSES)
                  .values("assignee_id").annotate(n=Count("pk")).values_list("assignee_id", "n"))
    found = [Load(k.member, counts.get(k.member.pk, 0), k.last_assigned)
             for k in keys if k.member is not None]

    def order(load: Load) -> tuple[int, float, int]:
        last = load.last_assigned.timestamp() if load.last_assigned else NEVER
        return (load.open_cases, last, load.member.pk)

    return sorted(found, key=order)


def pick(team: Team) -> Member | None:
    """Who the next case of ``team`` goes to, or None when every member is at the cap."""
    for load in loads(team):
        if load.open_cases < team.assign_cap:
            return load.member
    return None


def _give(case: Case, team: Team, member: Member, actor: Member | None) -> bool:
    from haven.cases.actions import assign_automatically  # actions imports this module

    return assign_automatically(case, team, member, actor)


def assign_fairly(case: Case, actor: Member | None = None) -> Member | None:
    """Give ``case`` to its team's next member if the team assigns automatically; returns
    the assignee. Runs inside the caller's transaction (intake's, or a release's)."""
    if case.team_id is None or case.assignee_id is not None or case.held or case.restricted:
        return None
    if not Team.objects.filter(pk=case.team_id, auto_assign=True).exists():
        return None  # the usual case: no lock taken
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=case.team_id)
        if not team.auto_assign:
            return None
        chosen = pick(team)
        if chosen is None or not _give(case, team, chosen, actor):
            return None
    return chosen


def waiting_cases(team: Team) -> QuerySet[Case]:
    """The team's open cases nobody is assigned, oldest first (restricted cases are left to
    the coordinator: only the chosen members read them)."""
    return Case.objects.filter(team=team, assignee__isnull=True, status__in=OPEN_STATUSES,
                               held=False, restricted=False, erased=False).order_by("created", "pk")


def assign_waiting(member: Member, team: Team) -> int:
    """A coordinator in the team gives its waiting cases out by the same rule, oldest
    first, until every member is at the cap; returns how many were assigned."""
    require(member, Right.CASE_MANAGE)
    if team.organization_id != member.organization_id:
        raise TeamError(_("No such team."))
    if not TeamKey.objects.filter(team=team, member=member).exists():
        raise TeamError(_("Only a member of the team “%(team)s” can give out its waiting "
                          "cases; ask one of them.") % {"team": team.name})
    done = 0
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if not locked.auto_assign:
            raise TeamError(_("Automatic assignment is off for “%(team)s”: an administrator "
                              "switches it on in the team's settings, or assign the cases by "
                              "hand.") % {"team": locked.name})
        for case in waiting_cases(locked):
            chosen = pick(locked)
            if chosen is None:
                break
            if _give(case, locked, chosen, member):
                done += 1
    return done


@dataclass(frozen=True)
class Waiting:
    """Cases of an automatically assigning team that wait for a member, and why."""

    team: Team
    count: int
    reason: str  # "cap": every member is at the cap; "nobody": nobody may work cases; "room"
    cap: int


def waiting(teams: list[Team]) -> list[Waiting]:
    """For each team that assigns automatically and has cases waiting: how many and why."""
    found = []
    for team in teams:
        if not team.auto_assign:
            continue
        count = waiting_cases(team).count()
        if not count:
            continue
        members = loads(team)
        if not members:
            reason = "nobody"
        elif all(load.open_cases >= team.assign_cap for load in members):
            reason = "cap"
        else:
            reason = "room"
        found.append(Waiting(team, count, reason, team.assign_cap))
    return found
