"""Forms of the partners page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Organization

from .partners import MAX_CARD


class AskForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none(),
        empty_label=_("Choose an organization"),
        error_messages={"required": _("Choose the organization to ask."),
                        "invalid_choice": _("Choose an organization from the list; this one "
                                            "cannot be asked (any more).")})

    def __init__(self, *args: Any, candidates: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared just above
        field.queryset = candidates


class CardForm(forms.Form):
    card = forms.CharField(
        label=_("The partner's card"), required=False, max_length=MAX_CARD * 2,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Paste the text that starts with “haven-card:”, or upload their card file "
                    "below."))
    card_file = forms.FileField(label=_("…or the card file"), required=False)

    def card_text(self) -> str:
        """The pasted text, or the uploaded file's (a card is a few hundred characters)."""
        upload = self.cleaned_data.get("card_file")
        if upload is not None and not str(self.cleaned_data.get("card") or "").strip():
            return upload.read(MAX_CARD + 1).decode("utf-8", errors="replace")
        return str(self.cleaned_data.get("card") or "")


class ConfirmForm(forms.Form):
    card = forms.CharField(widget=forms.HiddenInput, max_length=MAX_CARD * 2)
    confirmed = forms.BooleanField(
        label=_("I compared this fingerprint with the partner's administrator over another "
                "channel, and it matches"), required=False)
