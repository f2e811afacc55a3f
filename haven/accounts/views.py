"""Login, invitations, the organization's members and a member's own account."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.core.redirects import redirect_back

from . import login as login_service
from . import services, stepup
from .forms import (
    AcceptInviteForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    InviteCodeForm,
    InviteForm,
    LoginForm,
    ResumeInviteForm,
    RoleForm,
    TimeZoneForm,
)
from .keys import close_key_session, open_key_session
from .middleware import SESSION_ID_KEY, zone_of
from .models import Invite, Member, Role
from .pages import member_view
from .rights import Right

View = Callable[..., HttpResponse]


def access_member_by_id(request: HttpRequest, member_id: int) -> Member:
    """A member of the requester's own organization, or 404 (never 403)."""
    return get_object_or_404(Member, pk=member_id, organization_id=request.user.organization_id)  # type: ignore[union-attr]


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            member, keys = login_service.login(
                request, form.cleaned_data["username"], form.cleaned_data["password"],
                form.cleaned_data["code"],
            )
        except login_service.LoginRefused as exc:
            error = str(exc)
        else:
            django_login(request, member)
            stepup.mark(request)
            session_id, cookie = open_key_session(member, keys)
            request.session[SESSION_ID_KEY] = session_id
            response = redirect(settings.LOGIN_REDIRECT_URL)
            response.set_cookie(
                settings.HAVEN_KEY_COOKIE, cookie, httponly=True, samesite="Strict",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            return response
    status = 400 if error or form.errors else 200  # a refused form is a 400 (pentest F12)
    return render(request, "accounts/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_id = request.session.get(SESSION_ID_KEY)
    if session_id:
        close_key_session(session_id)
    django_logout(request)
    messages.info(request, _("You are logged out. Your keys were removed from the server."))
    response = redirect(settings.LOGIN_URL)
    response.delete_cookie(settings.HAVEN_KEY_COOKIE)
    return response


def accept_invite(request: HttpRequest) -> HttpResponse:
    """Two steps: choose the password (step 1), then enrol and confirm a random TOTP secret."""
    token = request.POST.get("token") or request.GET.get("t", "")
    invite = services.find_invite(token)
    if invite is None:
        return render(request, "accounts/invite_invalid.html",
                      status=400 if request.method == "POST" else 404)
    if request.method == "POST" and request.POST.get("step") == "code":
        return _invite_code_step(request, invite, token)
    form = _password_form(invite, token, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        password = form.cleaned_data.get("new_password") or form.cleaned_data["password"]
        try:
            enrolment = services.choose_password(token, password)
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            code_form = InviteCodeForm(initial={"token": token, "step_key": enrolment.step_key})
            return _code_page(request, invite, code_form, enrolment.secret)
    return render(request, "accounts/invite.html", {
        "form": form, "invite": invite, "is_rekey": invite.kind == Invite.Kind.REKEY,
        "resuming": invite.password_set_at is not None,
    }, status=400 if form.errors else 200)


def _password_form(invite: Invite, token: str, data: Any) -> AcceptInviteForm | ResumeInviteForm:
    if invite.password_set_at is not None:
        return ResumeInviteForm(data, initial={"token": token})
    return AcceptInviteForm(data, initial={"token": token}, user=invite.member)


def _invite_code_step(request: HttpRequest, invite: Invite, token: str) -> HttpResponse:
    form = InviteCodeForm(request.POST)
    secret = services.pending_secret(token, request.POST.get("step_key", ""))
    if secret is None:
        # Not this browser's second step (or a page from before): start step 1 again.
        return redirect(f"{reverse('accounts:invite')}?t={quote(token)}")
    if not form.is_valid():
        return _code_page(request, invite, form, secret)
    try:
        member, codes = services.confirm_second_factor(token, form.cleaned_data["step_key"],
                                                       form.cleaned_data["code"])
    except services.AccountError as exc:
        form.add_error("code", str(exc))
        return _code_page(request, invite, form, secret)
    return render(request, "accounts/invite_done.html", {"codes": codes, "enrolled": member})


def _code_page(request: HttpRequest, invite: Invite, form: InviteCodeForm, secret: str) -> HttpResponse:
    return render(request, "accounts/invite_code.html", {
        "form": form, "invite": invite, "qr_svg": _totp_qr(invite, secret),
        "manual_key": _base32(secret), "is_rekey": invite.kind == Invite.Kind.REKEY,
    }, status=400 if form.errors else 200)


def _base32(hex_secret: str) -> str:
    text = base64.b32encode(bytes.fromhex(hex_secret)).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _totp_qr(invite: Invite, hex_secret: str) -> str:
    label = quote(f"Haven ({invite.organization.slug}):{invite.member.username}")
    uri = f"otpauth://totp/{label}?secret={_base32(hex_secret).replace(' ', '')}&issuer=Haven"
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg if isinstance(svg, str) else svg.decode("utf-8")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    member: Member = request.user  # type: ignore[assignment]
    members = Member.objects.filter(organization=member.organization).order_by("username")
    pending = {i.member_id: i for i in Invite.objects.filter(
        organization=member.organization, used_at__isnull=True).order_by("created")}
    return render(request, "accounts/home.html", {
        "org": member.organization, "members": members, "pending": pending,
        "invite_form": InviteForm(), "roles": Role.choices,
        "zone_form": TimeZoneForm(initial={"time_zone": member.organization.time_zone}),
        "zones": sorted(services.known_time_zones()) if member.is_admin else [],
    })


@member_view(Right.ORG_ADMIN)
@stepup.step_up_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the invitation form: every field needs a valid value."))
        return redirect("accounts:home")
    try:
        role = form.cleaned_data["role"]
        org = request.user.organization  # type: ignore[union-attr]
        # Case roles join the default team (if the inviter holds its key); treasurers,
        # viewers and volunteers read no team's cases unless a team member adds them.
        teams = [org.default_team] if org.default_team and role in services.TEAM_ROLES else []
        issued = services.invite_member(
            request.user, request.org_vault.private_key,  # type: ignore[arg-type, attr-defined]
            form.cleaned_data["username"], form.cleaned_data["display_name"], role,
            ring=request.org_vault, teams=teams,  # type: ignore[attr-defined]
        )
    except services.AccountError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:home")
    return render(request, "accounts/link_issued.html", {"issued": issued, "who": issued.invite.member})


@member_view(Right.ORG_ADMIN)
@stepup.step_up_required
@require_POST
def member_action(request: HttpRequest, member_id: int, action: str) -> HttpResponse:
    target = access_member_by_id(request, member_id)
    by: Member = request.user  # type: ignore[assignment]
    try:
        if action == "rekey":
            issued = services.rekey_member(by, request.org_vault.private_key, target,  # type: ignore[attr-defined]
                                           request.org_vault)  # type: ignore[attr-defined]
            return render(request, "accounts/link_issued.html", {"issued": issued, "who": target})
        if action == "role":
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise services.AccountError(_("Choose one of the listed roles."))
            services.set_role(by, target, form.cleaned_data["role"])
            messages.success(request, _("The role was changed."))
        elif action == "reviewer":
            allowed = request.POST.get("allowed") == "yes"
            services.set_knowledge_reviewer(by, target, allowed)
            done = (_("%(name)s may now mark knowledge articles reviewed.") if allowed
                    else _("%(name)s may no longer mark knowledge articles reviewed."))
            messages.success(request, done % {"name": target})
        elif action == "deactivate":
            services.deactivate(by, target)
            messages.success(request, _("The member can no longer log in; their keys were removed."))
        else:
            raise Http404
    except services.AccountError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:home")


@member_view(Right.ORG_ADMIN)
@stepup.step_up_required
def lock_organization(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        ended = services.lock_organization(request.user)  # type: ignore[arg-type]
        django_logout(request)
        messages.info(request, _("Every session of the organization was ended (%(n)d).") % {"n": ended})
        response = redirect(settings.LOGIN_URL)
        response.delete_cookie(settings.HAVEN_KEY_COOKIE)
        return response
    return render(request, "accounts/lock.html")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    member: Member = request.user  # type: ignore[assignment]
    form = ChangePasswordForm(request.POST or None, user=member)
    if request.method == "POST" and form.is_valid():
        try:
            stepup.check_password(request, member, form.cleaned_data["old_password"])
            services.change_password(member, form.cleaned_data["old_password"],
                                     form.cleaned_data["new_password"])
        except (stepup.WrongPassword, services.AccountError) as exc:
            form.add_error("old_password", str(exc))
        else:
            update_session_auth_hash(request, member)
            messages.success(request, _("Your password was changed and your key re-wrapped with it."))
            return redirect("accounts:account")
    return _account_page(request, member, form, TimeZoneForm(initial={"time_zone": member.time_zone}))


def _account_page(request: HttpRequest, member: Member, form: ChangePasswordForm,
                  zone_form: TimeZoneForm) -> HttpResponse:
    return render(request, "accounts/account.html", {
        "form": form, "zone_form": zone_form, "zone": zone_of(member),
        "org_zone": member.organization.time_zone, "zones": sorted(services.known_time_zones()),
        "codes_left": member.backup_codes.filter(used_at__isnull=True).count(),
    }, status=400 if form.errors or zone_form.errors else 200)


@login_required
@require_POST
def account_time_zone(request: HttpRequest) -> HttpResponse:
    member: Member = request.user  # type: ignore[assignment]
    form = TimeZoneForm(request.POST)
    if form.is_valid():
        try:
            services.set_member_time_zone(member, form.cleaned_data["time_zone"])
        except services.AccountError as exc:
            form.add_error("time_zone", str(exc))
        else:
            messages.success(request, _("Times on the desk are now shown in %(zone)s.")
                             % {"zone": zone_of(member)})
            return redirect("accounts:account")
    return _account_page(request, member, ChangePasswordForm(user=member), form)


@member_view(Right.ORG_ADMIN)
@require_POST
def organization_time_zone(request: HttpRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST)
    try:
        if not form.is_valid():
            raise services.AccountError(_("Type the name of a time zone, such as Europe/Moscow."))
        services.set_organization_time_zone(request.user, form.cleaned_data["time_zone"])  # type: ignore[arg-type]
    except services.AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The organization's time zone is now %(zone)s.")
                         % {"zone": form.cleaned_data["time_zone"].strip()})
    return redirect("accounts:home")


@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Type the password again before admin actions (step-up, valid HAVEN_STEP_UP_MINUTES)."""
    member: Member = request.user  # type: ignore[assignment]
    form = ConfirmPasswordForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        try:
            stepup.check_password(request, member, form.cleaned_data["password"])
        except stepup.WrongPassword as exc:
            form.add_error("password", str(exc))
        else:
            stepup.mark(request)
            return redirect_back(request, "accounts:home")
    return render(request, "accounts/confirm.html", {
        "form": form, "step_up_minutes": settings.HAVEN_STEP_UP_MINUTES}, status=400 if form.errors else 200)


@login_required
@stepup.step_up_required
@require_POST
def new_backup_codes(request: HttpRequest) -> HttpResponse:
    codes = services.regenerate_backup_codes(request.user)  # type: ignore[arg-type]
    return render(request, "accounts/backup_codes.html", {"codes": codes})
