"""The bot settings page's forms: one per action, so each post does one thing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Mode


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Bot token from @BotFather"), max_length=100, strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Stored encrypted; never shown again. Paste a new one to replace it."))


class ModeForm(forms.Form):
    mode = forms.ChoiceField(label=_("How the bot receives messages"), choices=Mode.choices,
                             widget=forms.RadioSelect)


class ChannelForm(forms.Form):
    channel = forms.CharField(
        label=_("Public channel for posts"), max_length=64, required=False, strip=True,
        help_text=_("@name or numeric id (-100…). Add the bot to the channel as an administrator "
                    "that may post. Leave empty for no channel."))
