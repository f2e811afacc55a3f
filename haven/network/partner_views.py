"""The partners page: who this organization works with, its card, and the forms to change that.

Administrators only (``org.admin``); anyone else gets 404, and so does a partner id of
another organization. Every change goes through :mod:`haven.network.actions`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.core.errors import Refusal

from . import actions
from .keys import org_fingerprint
from .models import Partner
from .partner_forms import AskForm, CardForm, ConfirmForm
from .partners import (
    Card,
    candidates,
    check_card,
    our_card,
    partner_fingerprint,
    partners_of,
    read_card,
    site_url_is_set,
)

ADMIN = Right.ORG_ADMIN


def _partner(request: MemberRequest, partner_id: int) -> Partner:
    """Our organization's partner row, or 404 whether it exists elsewhere or not."""
    return get_object_or_404(Partner, pk=partner_id, organization_id=request.user.organization_id)


def _page(request: MemberRequest, *, ask_form: AskForm | None = None,
          card_form: CardForm | None = None, status: int = 200) -> HttpResponse:
    org = request.user.organization
    rows = [{"partner": p, "fingerprint": partner_fingerprint(p)} for p in partners_of(org)]
    return render(request, "network/partners.html", {
        "rows": rows, "card": our_card(org), "fingerprint": org_fingerprint(org),
        "site_url_set": site_url_is_set(),
        "ask_form": ask_form or AskForm(candidates=candidates(org)),
        "card_form": card_form or CardForm(),
    }, status=status)


@member_view(ADMIN)
def partners(request: MemberRequest) -> HttpResponse:
    return _page(request)


@member_view(ADMIN)
def card_file(request: MemberRequest) -> HttpResponse:
    """Our card as a file, for an administrator who sends it rather than pasting it."""
    org = request.user.organization
    response = HttpResponse(our_card(org).text() + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="haven-card-{org.slug}.txt"'
    return response


@member_view(ADMIN)
@require_POST
def ask(request: MemberRequest) -> HttpResponse:
    form = AskForm(request.POST, candidates=candidates(request.user.organization))
    if form.is_valid():
        target = form.cleaned_data["organization"]
        try:
            actions.ask_partner(request.user, target.pk)
        except Refusal as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("“%(name)s” was asked to become your partner. It becomes "
                                        "one when its administrator accepts on their partners "
                                        "page.") % {"name": target.name})
            return redirect("network:partners")
    return _page(request, ask_form=form, status=400)


def _confirm_page(request: MemberRequest, card: Card, form: ConfirmForm | None = None,
                  status: int = 200) -> HttpResponse:
    org = request.user.organization
    return render(request, "network/partner_add.html", {
        "card": card, "their_fingerprint": card.fingerprint, "fingerprint": org_fingerprint(org),
        "form": form or ConfirmForm(initial={"card": card.text()}),
    }, status=status)


@member_view(ADMIN)
@require_POST
def add(request: MemberRequest) -> HttpResponse:
    """Two steps: the pasted card is checked and its fingerprint shown; the partner is added
    only when the confirmation (the compared fingerprint) comes back with the card."""
    org = request.user.organization
    if "confirm" in request.POST:
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            return redirect("network:partners")  # a page tampered with: start again
        try:
            card = read_card(form.cleaned_data["card"])
        except Refusal as exc:
            card_form = CardForm({"card": form.cleaned_data["card"]})
            card_form.is_valid()
            card_form.add_error(None, str(exc))
            return _page(request, card_form=card_form, status=400)
        try:
            partner = actions.add_partner(request.user, card,
                                          confirmed=form.cleaned_data["confirmed"])
        except Refusal as exc:
            form.add_error(None, str(exc))
            return _confirm_page(request, card, form, status=400)
        messages.success(request, _("“%(name)s” is now your partner. Its administrator must add "
                                    "your card too before anything can travel between you.")
                         % {"name": partner.name})
        return redirect("network:partners")
    card_form = CardForm(request.POST, request.FILES)
    if card_form.is_valid():
        try:
            card = read_card(card_form.card_text())
            check_card(org, card)
        except Refusal as exc:
            card_form.add_error(None, str(exc))
        else:
            return _confirm_page(request, card)
    return _page(request, card_form=card_form, status=400)


def _answer(request: MemberRequest, partner_id: int, accept: bool) -> HttpResponse:
    partner = _partner(request, partner_id)
    try:
        if accept:
            actions.accept_partner(request.user, partner.pk)
            messages.success(request, _("“%(name)s” is now your partner.") % {"name": partner.name})
        else:
            actions.decline_partner(request.user, partner.pk)
            messages.success(request, _("You declined the invitation of “%(name)s”.")
                             % {"name": partner.name})
    except Refusal as exc:
        messages.error(request, str(exc))
    return redirect("network:partners")


@member_view(ADMIN)
@require_POST
def accept(request: MemberRequest, partner_id: int) -> HttpResponse:
    return _answer(request, partner_id, accept=True)


@member_view(ADMIN)
@require_POST
def decline(request: MemberRequest, partner_id: int) -> HttpResponse:
    return _answer(request, partner_id, accept=False)


@member_view(ADMIN)
def end(request: MemberRequest, partner_id: int) -> HttpResponse:
    """A confirmation page, then the end of the partnership (or of our invitation)."""
    partner = _partner(request, partner_id)
    context: dict[str, Any] = {"partner": partner, "fingerprint": partner_fingerprint(partner)}
    if request.method == "POST":
        try:
            actions.end_partner(request.user, request.org_vault, partner.pk)
        except Refusal as exc:
            context["error"] = str(exc)
            return render(request, "network/partner_end.html", context, status=400)
        messages.success(request, _("The partnership with “%(name)s” has ended.")
                         % {"name": partner.name})
        return redirect("network:partners")
    return render(request, "network/partner_end.html", context)
