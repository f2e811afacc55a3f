"""The broadcast form: the message per language, the filters, the fallback language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Team
from haven.cases import categories
from haven.cases.actions import MAX_TEXT
from haven.cases.models import Status
from haven.core.langs import LANGS, LANGUAGE_NAMES

from .targets import OPEN_STATUSES, Filters


class BroadcastForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=40, required=False)
    fallback = forms.ChoiceField(
        label=_("For requesters whose language has no version, send"), required=False,
        help_text=_("Leave it at “nothing” to be told which versions are missing."))
    stamp = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["category"].choices = anything + list(categories.choices())  # type: ignore[attr-defined]
        self.fields["team"].choices = anything + [  # type: ignore[attr-defined]
            (t.pk, t.name) for t in Team.objects.filter(organization_id=organization_id)
            .order_by("name")]
        labels = dict(Status.choices)
        self.fields["status"].choices = [("", _("Any open status"))] + [  # type: ignore[attr-defined]
            (s, labels[s]) for s in OPEN_STATUSES]
        self.fields["fallback"].choices = [("", _("nothing: refuse"))] + [  # type: ignore[attr-defined]
            (lang, LANGUAGE_NAMES[lang]) for lang in LANGS]
        for lang in LANGS:
            self.fields[f"text_{lang}"] = forms.CharField(
                label=_("Message in %(lang)s") % {"lang": LANGUAGE_NAMES[lang]}, required=False,
                max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 6, "lang": lang}))

    def text_fields(self) -> list[forms.BoundField]:
        return [self[f"text_{lang}"] for lang in LANGS]

    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("category", "team", "status", "tag", "fallback")]

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(category=data["category"] or "", team=data["team"],
                       status=data["status"] or "", tag=(data["tag"] or "").strip().lower())

    def versions(self) -> dict[str, str]:
        return {lang: self.cleaned_data[f"text_{lang}"].strip() for lang in LANGS
                if (self.cleaned_data.get(f"text_{lang}") or "").strip()}
