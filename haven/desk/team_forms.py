"""Forms of the team settings and of a case's team and access."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Member
from haven.cases import categories


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name of the team"), max_length=100)
    categories = forms.MultipleChoiceField(
        label=_("Categories routed to this team"), required=False,
        widget=forms.CheckboxSelectMultiple, choices=categories.choices,
        help_text=_("New requests in these categories go to this team. A category no team "
                    "takes goes to the default team."))

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if not name:
            raise forms.ValidationError(_("Give the team a name."))
        return name


CAP_ERROR = _("Enter the cap as a whole number from 1 to 500.")


class AutoAssignForm(forms.Form):
    auto_assign = forms.BooleanField(
        label=_("Assign new cases automatically"), required=False,
        help_text=_("Each new case goes to the member with the fewest open cases, among those "
                    "below the cap. When everyone is at the cap, new cases wait unassigned."))
    assign_cap = forms.IntegerField(
        label=_("Open cases per member at most"), min_value=1, max_value=500,
        error_messages={"required": CAP_ERROR, "invalid": CAP_ERROR, "min_value": CAP_ERROR,
                        "max_value": CAP_ERROR},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}))


class AddMemberForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Member"), coerce=int)

    def __init__(self, *args: Any, candidates: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [  # type: ignore[attr-defined]
            (m.pk, f"{m} ({m.get_role_display()})") for m in candidates]


class MoveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    team = forms.TypedChoiceField(label=_("Move to the team"), coerce=int)

    def __init__(self, *args: Any, teams: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]  # type: ignore[attr-defined]


class RestrictForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    members = forms.TypedMultipleChoiceField(
        label=_("Who else may read this case"), coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, candidates: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [  # type: ignore[attr-defined]
            (m.pk, str(m)) for m in candidates]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
