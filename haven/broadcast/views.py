"""Broadcast pages under /desk/broadcasts/: list, new (preview, send), detail (progress, cancel).

No JavaScript: the detail page of a broadcast being prepared refreshes itself with a
``<meta http-equiv="refresh">`` to the step address, which prepares the next batch
with the starter's keys and comes back (docs/architecture.md, "Broadcasts").
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from haven.accounts.models import Team
from haven.accounts.pages import MemberRequest, member_view
from haven.cases import categories, replies
from haven.cases.access import MANAGE
from haven.cases.models import Status
from haven.core.errors import Refusal
from haven.core.langs import LANGS, LANGUAGE_NAMES

from . import actions, targets
from .forms import BroadcastForm
from .models import Broadcast, CaseState, State

REASONS = {"closed": _lazy("closed or erased since"),
           "unreadable": _lazy("no longer readable with your keys"),
           "language": _lazy("no version in the requester's language"),
           "deadline": _lazy("no deadline for {deadline}"),
           "unreachable": _lazy("the channel cannot reach the requester")}


@member_view(MANAGE)
def broadcasts(request: MemberRequest) -> HttpResponse:
    rows = [(b, actions.progress(b)) for b in actions.of_organization(request.user)[:50]]
    return render(request, "broadcast/list.html", {"rows": rows})


@member_view(MANAGE)
def new(request: MemberRequest) -> HttpResponse:
    me = request.user
    saved = replies.of_organization(request.org_vault, me.organization_id)
    if request.method != "POST":
        chosen = replies.get(request.org_vault, me.organization_id,
                             int(request.GET["reply"]) if request.GET.get("reply", "").isdigit()
                             else None)
        initial = {f"text_{lang}": text for lang, text in (chosen.versions if chosen else {}).items()}
        form = BroadcastForm(initial=initial, organization_id=me.organization_id)
        return render(request, "broadcast/new.html", {"form": form, "saved": saved,
                                                      "chosen": chosen})
    form = BroadcastForm(request.POST, organization_id=me.organization_id)
    context = {"form": form, "saved": saved}
    if not form.is_valid():
        return render(request, "broadcast/new.html", context, status=400)
    filters, versions = form.filters(), form.versions()
    if request.POST.get("action") == "send":
        try:
            broadcast = actions.start(me, request.org_vault, filters, versions,
                                      form.cleaned_data["fallback"] or "",
                                      form.cleaned_data["stamp"] or "")
        except Refusal as exc:
            messages.error(request, str(exc))
        else:
            actions.step(me, request.org_vault, broadcast)
            return redirect("broadcast:detail", broadcast.pk)
    return _preview(request, form, context, filters, versions)


def _preview(request: MemberRequest, form: BroadcastForm, context: dict[str, object],
             filters: targets.Filters, versions: dict[str, str]) -> HttpResponse:
    if not versions:
        messages.error(request, _("The message is empty; write it in at least one language."))
        return render(request, "broadcast/new.html", context, status=400)
    seen = targets.preview(request.user, request.org_vault, filters, versions,
                           form.cleaned_data["fallback"] or "")
    data = request.POST.copy()
    data["stamp"] = seen.stamp()  # what Send compares against (stale preview refused)
    form = BroadcastForm(data, organization_id=request.user.organization_id)
    form.is_valid()
    return render(request, "broadcast/new.html", {
        **context, "form": form, "preview": seen, "reach": reach_sentence(seen),
        "problems": seen.problems()})


def reach_sentence(seen: targets.Preview) -> str:
    """"This will reach 143 cases: 120 in Telegram, 23 on the web follow-up page; 98 ru, …"."""
    channels = {"telegram": ngettext("%(n)d in Telegram", "%(n)d in Telegram",
                                     seen.by_channel["telegram"]),
                "web": ngettext("%(n)d on the web follow-up page", "%(n)d on the web follow-up page",
                                seen.by_channel["web"])}
    parts = [channels[c] % {"n": seen.by_channel[c]} for c in targets.CHANNELS if seen.by_channel[c]]
    langs = [f"{seen.by_lang[lang]} {lang}" for lang in LANGS if seen.by_lang[lang]]
    head = ngettext("This will reach %(n)d case", "This will reach %(n)d cases", seen.total) % {
        "n": seen.total}
    return f"{head}: {', '.join(parts)}; {', '.join(langs)}." if parts else f"{head}."


@member_view(MANAGE)
def detail(request: MemberRequest, pk: int) -> HttpResponse:
    broadcast = actions.access_broadcast(request.user, pk)
    content = actions.open_content(request.org_vault, broadcast)
    done = actions.progress(broadcast)
    mine = broadcast.created_by_id == request.user.pk
    refresh = ""
    if broadcast.status == State.PREPARING and mine:
        refresh = "step"
    elif broadcast.status != State.CANCELLED and done.waiting:
        refresh = "self"
    return render(request, "broadcast/detail.html", {
        "broadcast": broadcast, "done": done, "mine": mine, "refresh": refresh,
        "versions": [(LANGUAGE_NAMES[lang], content.versions[lang]) for lang in LANGS
                     if content.versions.get(lang)],
        "fallback": LANGUAGE_NAMES.get(content.fallback, ""), "tag": content.tag,
        "lang_counts": [(lang, content.langs.get(lang, 0)) for lang in LANGS if content.langs.get(lang)],
        "reasons": _skipped(broadcast), "team": _team_name(broadcast),
        "category": (categories.get(broadcast.filters["category"]).name
                     if broadcast.filters.get("category") else ""),
        "status": dict(Status.choices).get(broadcast.filters.get("status") or "", "")})


def _skipped(broadcast: Broadcast) -> list[tuple[str, int]]:
    rows = (broadcast.cases.filter(state=CaseState.SKIPPED).values("reason")
            .annotate(n=Count("pk")).order_by("reason"))
    return [(str(REASONS.get(r["reason"], r["reason"])), r["n"]) for r in rows]


def _team_name(broadcast: Broadcast) -> str:
    team = Team.objects.filter(pk=broadcast.filters.get("team") or 0,
                               organization_id=broadcast.organization_id).first()
    return team.name if team else ""


@member_view(MANAGE)
def step(request: MemberRequest, pk: int) -> HttpResponse:
    """The next batch. GET is allowed so that the detail page's meta refresh continues the
    broadcast without JavaScript: it only continues what its starter confirmed by POST,
    each case at most once, and the session cookie (SameSite=Strict) is not sent on a
    request another site starts."""
    broadcast = actions.access_broadcast(request.user, pk)
    try:
        actions.step(request.user, request.org_vault, broadcast)
    except Refusal as exc:
        messages.error(request, str(exc))
    return redirect("broadcast:detail", broadcast.pk)


@member_view(MANAGE)
@require_POST
def cancel(request: MemberRequest, pk: int) -> HttpResponse:
    broadcast = actions.access_broadcast(request.user, pk)
    try:
        left, withdrawn = actions.cancel(request.user, broadcast)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Cancelled: %(left)s not reached, %(withdrawn)s taken back "
                                    "from the outbox.") % {
            "left": ngettext("%(n)d case", "%(n)d cases", left) % {"n": left},
            "withdrawn": ngettext("%(n)d message", "%(n)d messages", withdrawn) % {"n": withdrawn}})
    return redirect("broadcast:detail", broadcast.pk)
