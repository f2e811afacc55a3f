from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import Role


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    password = forms.CharField(label=_("Password"), max_length=1024, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class NewPasswordMixin(forms.Form):
    new_password = forms.CharField(label=_("New password"), max_length=1024, strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(label=_("New password again"), max_length=1024, strip=False,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_password"), data.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", _("The two passwords differ; type them again."))
        elif new:
            try:
                validate_password(new, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password", exc)
        return data


class AcceptInviteForm(NewPasswordMixin):
    """Step 1 of accepting a link: choose the password."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=100)


class ResumeInviteForm(forms.Form):
    """Step 1 again, after the password was chosen: type it once more."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=100)
    password = forms.CharField(label=_("The password you chose"), max_length=1024, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class InviteCodeForm(forms.Form):
    """Step 2: confirm the new second factor with a code."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=100)
    step_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    code = forms.CharField(
        label=_("The 6-digit code your app shows now"), max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class ChangePasswordForm(NewPasswordMixin):
    old_password = forms.CharField(label=_("Current password"), max_length=1024, strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["old_password", "new_password", "new_password_again"]


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(label=_("Your password"), max_length=1024, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    next = forms.CharField(widget=forms.HiddenInput, max_length=500, required=False)


class InviteForm(forms.Form):
    username = forms.CharField(label=_("Username for the new member"), max_length=150)
    display_name = forms.CharField(label=_("Name shown to colleagues"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CASEWORKER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TimeZoneForm(forms.Form):
    """An IANA zone name; the service checks it against the zones Python knows."""

    time_zone = forms.CharField(label=_("Time zone"), max_length=64, required=False,
                                widget=forms.TextInput(attrs={"list": "time-zones",
                                                              "autocomplete": "off",
                                                              "autocapitalize": "none"}))
