"""Ready replies: list and search, add, edit, delete (coordinators and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.cases import actions, categories, replies
from haven.cases.access import MANAGE
from haven.cases.models import SavedReply
from haven.core.langs import LANGUAGE_NAMES

from .forms import ReadyReplyForm


def _rows(request: MemberRequest, query: str) -> list[dict[str, object]]:
    found = replies.of_organization(request.org_vault, request.user.organization_id)
    if query:
        found = [r for r in found if r.matches(query)]
    return [{"reply": r, "category": categories.get(r.category) if r.category else None,
             "versions": [(lang, LANGUAGE_NAMES[lang], r.versions[lang]) for lang in r.langs]}
            for r in found]


@member_view(MANAGE)
def saved_replies(request: MemberRequest) -> HttpResponse:
    me, org_vault = request.user, request.org_vault
    form = ReadyReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_reply(me, org_vault, form.cleaned_data["title"], form.versions(),
                               form.cleaned_data["category"])
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The ready reply was saved."))
            return redirect("desk:replies")
    query = request.GET.get("q", "").strip()[:200]
    return render(request, "desk/replies.html", {
        "form": form, "rows": _rows(request, query), "query": query,
        "variables": replies.VARIABLES,
    }, status=400 if form.errors else 200)


def _initial(reply: replies.ReadyReply) -> dict[str, object]:
    return {"version": reply.version, "title": reply.title, "category": reply.category,
            **{f"text_{lang}": text for lang, text in reply.versions.items()}}


@member_view(MANAGE)
def edit_saved_reply(request: MemberRequest, reply_id: int) -> HttpResponse:
    me, org_vault = request.user, request.org_vault
    row = get_object_or_404(SavedReply, pk=reply_id, organization_id=me.organization_id)
    current = replies.decrypt(org_vault, row)
    form = ReadyReplyForm(request.POST or None, initial=_initial(current))
    status = 200
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["version"]:
            try:
                actions.edit_reply(me, org_vault, row, form.cleaned_data["title"], form.versions(),
                                   form.cleaned_data["category"], form.cleaned_data["version"])
            except actions.StaleReply as exc:
                if not SavedReply.objects.filter(pk=row.pk).exists():
                    messages.error(request, str(exc))
                    return redirect("desk:replies")
                row.refresh_from_db()
                fresh = replies.decrypt(org_vault, row)
                messages.error(request, str(exc))
                return render(request, "desk/reply_edit.html", {
                    "form": ReadyReplyForm(initial=_initial(fresh)), "reply": fresh,
                    "variables": replies.VARIABLES}, status=409)
            except actions.ActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The ready reply was saved."))
                return redirect("desk:replies")
        elif not form.errors:
            form.add_error(None, _("The form was incomplete; nothing was saved. Try again."))
        status = 400
    return render(request, "desk/reply_edit.html",
                  {"form": form, "reply": current, "variables": replies.VARIABLES}, status=status)


@member_view(MANAGE)
@require_POST
def delete_saved_reply(request: MemberRequest, reply_id: int) -> HttpResponse:
    me = request.user
    row = get_object_or_404(SavedReply, pk=reply_id, organization_id=me.organization_id)
    actions.delete_reply(me, row)
    messages.success(request, _("The ready reply was deleted."))
    return redirect("desk:replies")
