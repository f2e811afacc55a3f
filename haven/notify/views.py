"""The member's notification settings page (/account/notifications/): no JavaScript.

Every write is a call into :mod:`.addresses` or :mod:`.smtp`. The member's own
addresses are opened for their own page only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.models import Member
from haven.accounts.rights import Right, can
from haven.telegram.models import Bot

from . import addresses, smtp
from .forms import EmailForm, PreferenceForm, SmtpForm
from .models import Address, Destination, SmtpSettings


def _member(request: HttpRequest) -> Member:
    return request.user  # type: ignore[return-value]


def _page(request: HttpRequest, *, code: str = "", pref_form: PreferenceForm | None = None,
          email_form: EmailForm | None = None, smtp_form: SmtpForm | None = None,
          status: int = 200) -> HttpResponse:
    member = _member(request)
    pref = addresses.preference(member)
    kinds = addresses.offered_kinds(member)
    dests = {d.kind: d for d in Destination.objects.filter(member=member)}
    email = dests.get(Address.EMAIL)
    bot = Bot.objects.filter(organization_id=member.organization_id).first()
    context: dict[str, Any] = {
        "pref_form": pref_form or PreferenceForm(kinds=kinds, initial={
            "kinds": pref.kinds, "quiet_from": pref.quiet_from, "quiet_to": pref.quiet_to,
            "digest": pref.digest, "digest_hour": pref.digest_hour}),
        "telegram": dests.get(Address.TELEGRAM), "email": email,
        "email_address": addresses.open_address(email) if email else "",
        "email_form": email_form or EmailForm(),
        "bot_username": bot.username if bot is not None and bot.token else "",
        "code": code, "refused": addresses.refused_link(member),
        "smtp_ready": smtp.server_for(member.organization_id) is not None,
        "is_admin": can(member, Right.ORG_ADMIN),
    }
    if context["is_admin"]:
        own = SmtpSettings.objects.filter(organization_id=member.organization_id).first()
        context["smtp_form"] = smtp_form or SmtpForm(initial={
            "host": own.host, "port": own.port, "security": own.security,
            "username": own.username, "sender": own.sender} if own else None)
    return render(request, "notify/settings.html", context, status=status)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method != "POST":
        return _page(request)
    form = PreferenceForm(request.POST, kinds=addresses.offered_kinds(member))
    if not form.is_valid():
        return _page(request, pref_form=form, status=400)
    data = form.cleaned_data
    try:
        addresses.save_preference(member, kinds=data["kinds"], quiet_from=data["quiet_from"],
                                  quiet_to=data["quiet_to"], digest=data["digest"],
                                  digest_hour=data["digest_hour"], lang=translation.get_language() or "")
    except addresses.NotifyError as exc:
        form.add_error(None, str(exc))
        return _page(request, pref_form=form, status=400)
    messages.success(request, _("Your notification choices were saved."))
    return redirect("notify:settings")


@login_required
@require_POST
def link_telegram(request: HttpRequest) -> HttpResponse:
    if not Bot.objects.filter(organization_id=_member(request).organization_id, token__isnull=False).exists():
        messages.error(request, _("Your organization has no Telegram bot yet; ask an administrator."))
        return redirect("notify:settings")
    return _page(request, code=addresses.new_link_code(_member(request)))


@login_required
@require_POST
def unlink(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in Address.values:
        raise Http404
    if addresses.unlink(_member(request), kind):
        messages.success(request, _("Notifications to Telegram are off.") if kind == Address.TELEGRAM
                         else _("Notifications by e-mail are off."))
    return redirect("notify:settings")


@login_required
@require_POST
def set_email(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if smtp.server_for(member.organization_id) is None:
        raise Http404
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _page(request, email_form=form, status=400)
    try:
        addresses.set_email(member, form.cleaned_data["address"])
    except addresses.NotifyError as exc:
        form.add_error("address", str(exc))
        return _page(request, email_form=form, status=400)
    messages.success(request, _("Notifications will also go to this e-mail address."))
    return redirect("notify:settings")


@login_required
@require_POST
def set_smtp(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if not can(member, Right.ORG_ADMIN):
        raise Http404
    form = SmtpForm(request.POST)
    if not form.is_valid():
        return _page(request, smtp_form=form, status=400)
    data = form.cleaned_data
    try:
        smtp.configure(member, host=data["host"], port=data["port"], security=data["security"],
                       username=data["username"], password=data["password"], sender=data["sender"])
    except addresses.NotifyError as exc:
        form.add_error(None, str(exc))
        return _page(request, smtp_form=form, status=400)
    messages.success(request, _("The e-mail server for notifications was saved."))
    return redirect("notify:settings")
