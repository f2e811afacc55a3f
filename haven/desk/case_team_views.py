"""A case's team and who may read it: move to another team, restrict, open to the team again.

The case page shows the panel (:func:`team_panel`); the three forms post here. Each
change goes through the teams' actions, which re-seal the case's own small key and
refuse with a message (a stale form, a move that would lock everyone out).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.models import Member, Team, TeamKey
from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions as team_actions
from haven.cases import keys
from haven.cases.access import MANAGE, READ, access_case_by_number, can
from haven.cases.models import Case, CaseKey
from haven.core.errors import Refusal

from .team_forms import MoveForm, RestrictForm, VersionForm


def _team_members(team: Team | None) -> list[Member]:
    if team is None:
        return []
    return [k.member for k in TeamKey.objects.filter(team=team, member__is_active=True)
            .select_related("member").order_by("member__display_name", "member__username")
            if k.member is not None]


def team_panel(me: Member, case: Case) -> dict[str, Any]:
    """What the case page shows of the case's team and, to a coordinator, the forms."""
    readers = [k.member for k in CaseKey.objects.filter(case=case, member__isnull=False)
               .select_related("member") if k.member is not None] if case.restricted else []
    panel: dict[str, Any] = {"team": case.team, "restricted": case.restricted,
                             "readers": readers, "can_change": can(me, MANAGE)}
    if panel["can_change"]:
        teams = [t for t in Team.objects.filter(organization_id=me.organization_id).order_by("name")
                 if t.pk != case.team_id]
        reader_ids = {m.pk for m in readers}
        candidates = [m for m in _team_members(case.team) if m.pk != case.assignee_id]
        panel.update({
            "move_form": MoveForm(teams=teams, initial={"version": case.version}),
            "restrict_form": RestrictForm(candidates=candidates, initial={
                "version": case.version, "members": sorted(reader_ids)}),
            "teams": teams, "candidates": candidates,
        })
    return panel


def _after(request: MemberRequest, me: Member, case: Case, done: str) -> HttpResponse:
    """Back to the case, or to the queue when the change took it out of the member's reach."""
    if keys.readable_cases(me).filter(pk=case.pk).exists():
        messages.success(request, done)
        return redirect("desk:case", number=case.number)
    messages.success(request, done + " " + _("You are not among those who may read it now, "
                                             "so it has left your queues."))
    return redirect("desk:queue")


def _refused(request: MemberRequest, case: Case, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("desk:case", number=case.number)


@member_view(READ)
@require_POST
def move(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    teams = list(Team.objects.filter(organization_id=me.organization_id))
    form = MoveForm(request.POST, teams=teams)
    if not form.is_valid():
        return _refused(request, case, _("Choose one of your organization's teams; nothing "
                                         "was changed."))
    team = next(t for t in teams if t.pk == form.cleaned_data["team"])
    try:
        team_actions.move_case(me, request.org_vault, case, team, form.cleaned_data["version"])
    except Refusal as exc:
        return _refused(request, case, str(exc))
    return _after(request, me, case, _("Case #%(n)d now belongs to the team “%(team)s”.")
                  % {"n": case.number, "team": team.name})


@member_view(READ)
@require_POST
def restrict(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    form = RestrictForm(request.POST, candidates=_team_members(case.team))
    if not form.is_valid():
        return _refused(request, case, _("Tick members of the case's team only; nothing was "
                                         "changed."))
    try:
        team_actions.restrict_case(me, request.org_vault, case, form.cleaned_data["members"],
                                   form.cleaned_data["version"])
    except Refusal as exc:
        return _refused(request, case, str(exc))
    return _after(request, me, case, _("Case #%(n)d is restricted: only its assignee and the "
                                       "members you chose can open it.") % {"n": case.number})


@member_view(READ)
@require_POST
def unrestrict(request: MemberRequest, number: int) -> HttpResponse:
    me = request.user
    case = access_case_by_number(me, number)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, _("The form was incomplete; nothing was saved. Try again."))
    try:
        team_actions.unrestrict_case(me, request.org_vault, case, form.cleaned_data["version"])
    except Refusal as exc:
        return _refused(request, case, str(exc))
    return _after(request, me, case, _("Case #%(n)d is open to its whole team again.")
                  % {"n": case.number})
