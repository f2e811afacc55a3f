"""Team settings: the teams of an organization, their members and the categories routed to them.

Only members with the team.manage right (administrators) reach these pages; anyone
else, and anyone asking for another organization's team, gets 404. Every change goes
through the teams' actions, which refuse with a message that says what to do next.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.models import Member, Team, TeamKey
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.cases import actions as team_actions
from haven.cases import categories, fair
from haven.cases.access import MANAGE, can
from haven.core.errors import Refusal
from haven.core.redirects import redirect_back

from .common import active_members
from .team_forms import AddMemberForm, AutoAssignForm, TeamForm

TEAM_MANAGE = Right.TEAM_MANAGE


def _team(me: Member, team_id: int) -> Team:
    """The member's organization's team, or 404 whether it exists elsewhere or not."""
    return get_object_or_404(Team, pk=team_id, organization_id=me.organization_id)


def _category_names(slugs: list[str]) -> list[str]:
    return [categories.get(slug).name for slug in slugs]


@member_view(TEAM_MANAGE)
def teams(request: MemberRequest) -> HttpResponse:
    me = request.user
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_actions.create_team(me, request.org_vault, form.cleaned_data["name"],
                                            form.cleaned_data["categories"])
        except Refusal as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The team “%(name)s” was created. You are its first "
                                        "member; add the colleagues who work its cases.")
                             % {"name": team.name})
            return redirect("desk:team", team_id=team.pk)
    org = me.organization
    rows = []
    held = set(TeamKey.objects.filter(member=me).values_list("team_id", flat=True))
    sizes: dict[int, int] = {}
    for team_id in TeamKey.objects.filter(team__organization_id=me.organization_id,
                                          member__is_active=True).values_list("team_id", flat=True):
        sizes[team_id] = sizes.get(team_id, 0) + 1
    for team in Team.objects.filter(organization_id=me.organization_id).order_by("name"):
        rows.append({"team": team, "categories": _category_names(list(team.categories or [])),
                     "members": sizes.get(team.pk, 0), "mine": team.pk in held,
                     "default": team.pk == org.default_team_id})
    return render(request, "desk/teams.html", {"rows": rows, "form": form},
                  status=400 if form.errors else 200)


def waiting_notes(me: Member, teams: list[Team]) -> list[dict[str, object]]:
    """Why cases of automatically assigning teams wait unassigned, in words, and whether
    ``me`` may give them out now (a coordinator in the team)."""
    notes = []
    for w in fair.waiting(teams):
        values = {"n": w.count, "team": w.team.name, "cap": w.cap}
        if w.reason == "cap":
            text = ngettext("%(n)d case waits: every member of “%(team)s” has %(cap)d open cases "
                            "(the cap). Raise the cap, add a member to the team, or assign it "
                            "by hand.",
                            "%(n)d cases wait: every member of “%(team)s” has %(cap)d open cases "
                            "(the cap). Raise the cap, add a member to the team, or assign them "
                            "by hand.", w.count) % values
        elif w.reason == "nobody":
            text = ngettext("%(n)d case waits: nobody in “%(team)s” can work cases. Add an active "
                            "caseworker or coordinator to the team.",
                            "%(n)d cases wait: nobody in “%(team)s” can work cases. Add an active "
                            "caseworker or coordinator to the team.", w.count) % values
        else:
            text = ngettext("%(n)d case of “%(team)s” waits unassigned, and some members have "
                            "fewer than %(cap)d open cases.",
                            "%(n)d cases of “%(team)s” wait unassigned, and some members have "
                            "fewer than %(cap)d open cases.", w.count) % values
        notes.append({"team": w.team, "text": text,
                      "can_assign": w.reason == "room" and can(me, MANAGE)
                      and TeamKey.objects.filter(team=w.team, member=me).exists()})
    return notes


def _team_page(request: MemberRequest, team: Team, *, form: TeamForm | None = None,
               add_form: AddMemberForm | None = None, auto_form: AutoAssignForm | None = None,
               status: int = 200) -> HttpResponse:
    me = request.user
    keys = list(TeamKey.objects.filter(team=team, member__isnull=False).select_related("member")
                .order_by("member__display_name", "member__username"))
    members = [k.member for k in keys if k.member is not None]
    inside = {m.pk for m in members}
    candidates = [m for m in active_members(me) if m.pk not in inside]
    open_cases = {load.member.pk: load.open_cases for load in fair.loads(team)}
    return render(request, "desk/team.html", {
        "team": team, "members": [(m, open_cases.get(m.pk)) for m in members],
        "holds_key": me.pk in inside,
        "auto_form": auto_form or AutoAssignForm(initial={"auto_assign": team.auto_assign,
                                                          "assign_cap": team.assign_cap}),
        "waiting": waiting_notes(me, [team]),
        "is_default": me.organization.default_team_id == team.pk,
        "categories": _category_names(list(team.categories or [])),
        "form": form or TeamForm(initial={"name": team.name,
                                          "categories": list(team.categories or [])}),
        "add_form": add_form or AddMemberForm(candidates=candidates),
        "candidates": candidates,
    }, status=status)


@member_view(TEAM_MANAGE)
def team_page(request: MemberRequest, team_id: int) -> HttpResponse:
    me = request.user
    team = _team(me, team_id)
    if request.method != "POST":
        return _team_page(request, team)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team_actions.update_team(me, team, form.cleaned_data["name"],
                                     form.cleaned_data["categories"])
        except Refusal as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The team was saved."))
            return redirect("desk:team", team_id=team.pk)
    team.refresh_from_db()
    return _team_page(request, team, form=form, status=400)


@member_view(TEAM_MANAGE)
@require_POST
def auto_assign(request: MemberRequest, team_id: int) -> HttpResponse:
    me = request.user
    team = _team(me, team_id)
    form = AutoAssignForm(request.POST)
    if form.is_valid():
        on, cap = form.cleaned_data["auto_assign"], form.cleaned_data["assign_cap"]
        try:
            changed = team_actions.set_auto_assign(me, team, on, cap)
        except Refusal as exc:
            form.add_error(None, str(exc))
        else:
            if not changed:
                messages.info(request, _("Nothing changed."))
            elif on:
                messages.success(request, _("New cases of this team now go to the member with "
                                            "the fewest open cases, at most %(cap)d each.")
                                 % {"cap": cap})
            else:
                messages.success(request, _("New cases of this team are no longer assigned "
                                            "automatically."))
            return redirect("desk:team", team_id=team.pk)
    return _team_page(request, team, auto_form=form, status=400)


@member_view(MANAGE)
@require_POST
def assign_waiting(request: MemberRequest, team_id: int) -> HttpResponse:
    """A coordinator in the team gives its waiting cases out now by the fair rule."""
    me = request.user
    team = _team(me, team_id)
    try:
        done = team_actions.assign_waiting(me, team)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        if done:
            messages.success(request, ngettext("%(n)d waiting case was assigned.",
                                               "%(n)d waiting cases were assigned.", done)
                             % {"n": done})
        else:
            messages.info(request, _("No case was assigned: nothing waits, or every member is "
                                     "at the cap."))
    return redirect_back(request, "desk:queue")


@member_view(TEAM_MANAGE)
@require_POST
def add_member(request: MemberRequest, team_id: int) -> HttpResponse:
    me = request.user
    team = _team(me, team_id)
    inside = set(TeamKey.objects.filter(team=team, member__isnull=False)
                 .values_list("member_id", flat=True))
    candidates = [m for m in active_members(me) if m.pk not in inside]
    form = AddMemberForm(request.POST, candidates=candidates)
    if not form.is_valid():
        return _team_page(request, team, add_form=form, status=400)
    other = next(m for m in candidates if m.pk == form.cleaned_data["member"])
    try:
        team_actions.add_team_member(me, request.org_vault, team, other)
    except Refusal as exc:
        form.add_error(None, str(exc))
        return _team_page(request, team, add_form=form, status=400)
    messages.success(request, _("%(name)s is now a member of the team and can open its cases.")
                     % {"name": other})
    return redirect("desk:team", team_id=team.pk)


@member_view(TEAM_MANAGE)
@require_POST
def remove_member(request: MemberRequest, team_id: int, member_id: int) -> HttpResponse:
    me = request.user
    team = _team(me, team_id)
    other = get_object_or_404(Member, pk=member_id, organization_id=me.organization_id)
    try:
        team_actions.remove_team_member(me, team, other)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s is no longer a member of the team.") % {"name": other})
    return redirect("desk:team", team_id=team.pk)


@member_view(TEAM_MANAGE)
@require_POST
def make_default(request: MemberRequest, team_id: int) -> HttpResponse:
    me = request.user
    team = _team(me, team_id)
    try:
        team_actions.set_default_team(me, team)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Requests of a category no team takes now go to “%(name)s”.")
                         % {"name": team.name})
    return redirect("desk:team", team_id=team.pk)


def my_teams(me: Member) -> list[Team]:
    """The teams the member is in, for the queue's team filter (they see no other team's cases)."""
    return list(Team.objects.filter(organization_id=me.organization_id, keys__member=me)
                .order_by("name"))
