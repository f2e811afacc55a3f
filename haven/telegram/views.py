"""The webhook Telegram calls, and the administrators' bot settings page.

The webhook does as little as possible before answering: it checks the secret
header (as a keyed hash, in constant time), refuses bodies over 1 MB by their
declared length before reading them, checks that the body is an update, and
records it (encrypted) by ``update_id``. The worker processes it. Anything
refused records nothing; anything recorded is answered 200, whatever its kind,
so Telegram never retries an update Haven chose to ignore.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right

from . import bots, processing, sealing
from .forms import ChannelForm, ModeForm, TokenForm
from .models import Bot, Mode

SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105 - a header name, not a secret
View = Callable[..., HttpResponse]


@csrf_exempt  # Telegram cannot send a CSRF token; the secret header authenticates it
def webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    bot_id, expected = _webhook_target(public_id[:64])
    given = sealing.secret_hash(request.META.get(SECRET_HEADER, ""))
    if not expected or not hmac.compare_digest(given, expected):
        return HttpResponse(status=401)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return HttpResponse(status=411)
    if length > processing.MAX_BODY:
        return HttpResponse(status=413)
    try:
        update = processing.parse(request.body)
    except processing.BadUpdate:
        return HttpResponse(status=400)
    processing.record(bot_id, update["update_id"], request.body)
    return HttpResponse(status=200)


_TARGETS: dict[str, tuple[float, int, str]] = {}
TARGET_SECONDS = 5.0  # a changed secret is honoured within this time; Telegram retries meanwhile


def _webhook_target(public_id: str) -> tuple[int, str]:
    """(bot id, secret hash) for a webhook address, kept in memory for a few seconds."""
    now = time.monotonic()
    cached = _TARGETS.get(public_id)
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    found = Bot.objects.filter(public_id=public_id).values_list("pk", "webhook_secret_hash").first()
    bot_id, expected = found if found is not None else (0, "")
    if len(_TARGETS) > 1000:
        _TARGETS.clear()  # only random ids can grow it; start over
    _TARGETS[public_id] = (now + TARGET_SECONDS, bot_id, expected)
    return bot_id, expected


@member_view(Right.ORG_ADMIN)
def settings_page(request: MemberRequest) -> HttpResponse:
    member = request.user
    return _page(request, member)


def _page(request: HttpRequest, member: Member, forms: dict[str, Any] | None = None,
          status: int = 200) -> HttpResponse:
    bot = Bot.objects.filter(organization_id=member.organization_id).first()
    forms = forms or {}
    context = {
        "bot": bot,
        "health": bots.health(bot) if bot else None,
        "webhook_url": bots.webhook_url(bot) if bot else "",
        "token_form": forms.get("token") or TokenForm(),
        "mode_form": forms.get("mode") or ModeForm(initial={"mode": bot.mode if bot else Mode.OFF}),
        "channel_form": forms.get("channel") or ChannelForm(initial={"channel": bot.channel if bot else ""}),
    }
    return render(request, "telegram/settings.html", context, status=status)


@require_POST
@member_view(Right.ORG_ADMIN)
def settings_action(request: MemberRequest, action: str) -> HttpResponse:
    member = request.user
    forms = {"token": TokenForm, "mode": ModeForm, "channel": ChannelForm}
    if action == "check":
        return _run(request, lambda: _check(member))
    if action not in forms:
        raise Http404
    form = forms[action](request.POST)
    if not form.is_valid():
        return _page(request, member, forms={action: form}, status=400)
    value = form.cleaned_data[action]
    steps = {"token": lambda: _set_token(member, value), "mode": lambda: _set_mode(member, value),
             "channel": lambda: _set_channel(member, value)}
    return _run(request, steps[action])


def _run(request: HttpRequest, step: Callable[[], str]) -> HttpResponse:
    try:
        messages.success(request, step())
    except bots.BotError as exc:
        messages.error(request, str(exc))
    return redirect("telegram:settings")


def _set_token(member: Member, token: str) -> str:
    bot = bots.set_token(member, token)
    if bot.mode != Mode.OFF:
        bots.set_mode(member, bot.mode)  # register the webhook (or polling) for the new token
    return _("The token works: this is the bot @%(name)s.") % {"name": bot.username}


def _set_mode(member: Member, mode: str) -> str:
    bot = bots.set_mode(member, mode)
    return _("The bot now works in this mode: %(mode)s.") % {"mode": bot.get_mode_display()}


def _set_channel(member: Member, channel: str) -> str:
    bots.set_channel(member, channel)
    return _("Channel saved.") if channel else _("No channel: posts are off.")


def _check(member: Member) -> str:
    bot = bots.bot_for(member.organization)
    info = bots.check(bot)
    text = _("Telegram answers: the bot is @%(name)s.") % {"name": info["username"]}
    if bot.mode == Mode.WEBHOOK:
        if not info.get("url_ok"):
            text += " " + _("The webhook is not registered at this server's address: choose "
                            "webhook mode again.")
        if info.get("telegram_error"):
            text += " " + _("Telegram's last delivery error: %(error)s") % {"error": info["telegram_error"]}
    return text
