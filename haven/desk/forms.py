from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Member
from haven.cases import categories, rules
from haven.cases.models import Priority, Status


class VersionedForm(forms.Form):
    """Carries the case version the member saw, to refuse stale changes."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class AssignForm(VersionedForm):
    assignee = forms.TypedChoiceField(label=_("Assigned to"), coerce=int, empty_value=None,
                                      required=False)

    def __init__(self, *args: Any, members: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("nobody")), *((m.pk, str(m)) for m in members)]
        self.fields["assignee"].choices = choices  # type: ignore[attr-defined]


class DetailsForm(VersionedForm):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    category = forms.ChoiceField(label=_("Category"), choices=categories.choices)


class TagsForm(VersionedForm):
    tags = forms.CharField(label=_("Tags, separated by commas"), max_length=800, required=False)


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=25_000,
                           strip=True)


class DeadlineForm(forms.Form):
    due = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RuleForm(forms.Form):
    rule = forms.ChoiceField(label=_("Legal rule"))
    value = forms.CharField(label=_("Year (YYYY) or date (YYYY-MM-DD) the rule needs"),
                            max_length=10)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(r.id, f"{r.title} — {r.input_label}") for r in rules.all_rules().values()]
        self.fields["rule"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rule = rules.all_rules().get(data.get("rule", ""))
        if rule is not None and "value" in data:
            try:
                data["parsed"] = rules.parse_input(rule, data["value"])
            except rules.RuleError:
                self.add_error("value", _("This rule needs a year like 2027.")
                               if rule.input_type == "year"
                               else _("This rule needs a date like 2027-03-15."))
        return data


class NewCaseForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=categories.choices)
    summary = forms.CharField(label=_("Summary (one line)"), max_length=200)
    text = forms.CharField(label=_("What the person told you"), widget=forms.Textarea,
                           max_length=20_000)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.NORMAL)


class SavedReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea, max_length=20_000)


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(label=_("Delete closed cases after (days)"),
                                        min_value=1, max_value=3650)
