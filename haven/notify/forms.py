from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Digest, Kind
from .smtp import SECURITY

HOURS = [("", _("No quiet hours"))] + [(str(h), f"{h:02d}:00") for h in range(24)]


class PreferenceForm(forms.Form):
    kinds = forms.MultipleChoiceField(label=_("Tell me when"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    quiet_from = forms.TypedChoiceField(label=_("Quiet from"), choices=HOURS, required=False,
                                        coerce=int, empty_value=None)
    quiet_to = forms.TypedChoiceField(label=_("Quiet until"), choices=HOURS, required=False,
                                      coerce=int, empty_value=None)
    digest = forms.ChoiceField(label=_("How often"), choices=Digest.choices)
    digest_hour = forms.TypedChoiceField(label=_("Daily digest at"), coerce=int,
                                         choices=[(str(h), f"{h:02d}:00") for h in range(24)])

    def __init__(self, *args: Any, kinds: list[Kind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["kinds"]
        field.choices = [(k.value, k.label) for k in kinds]


class EmailForm(forms.Form):
    address = forms.CharField(label=_("E-mail address"), max_length=254,
                              widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SmtpForm(forms.Form):
    host = forms.CharField(label=_("SMTP server"), max_length=200, required=False,
                           help_text=_("Leave empty to use the server's own settings."))
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=587)
    security = forms.ChoiceField(label=_("Security"), choices=[
        (s, {"starttls": "STARTTLS", "tls": "TLS", "none": _("None (a server on this machine only)")}[s])
        for s in SECURITY])
    username = forms.CharField(label=_("User name"), max_length=200, required=False)
    password = forms.CharField(label=_("Password"), required=False, widget=forms.PasswordInput,
                               help_text=_("Leave empty to keep the stored one."))
    sender = forms.CharField(label=_("Sender address"), max_length=254, required=False)
