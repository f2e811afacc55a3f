from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from haven.accounts.models import Member
from haven.cases import categories, rules
from haven.cases.actions import clean_tags
from haven.cases.models import TRANSITIONS, Case, Priority, Status
from haven.core.langs import LANGS, LANGUAGE_NAMES


class CaseForm(forms.Form):
    """The case's status, assignee, priority, category and tags: one form, one button.

    Every status is accepted here so that a refused transition gets the actions'
    own message; the page offers only the current status and those that may follow.
    """

    FIELDS = ("category", "priority", "tags", "assignee", "status")

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    assignee = forms.TypedChoiceField(label=_("Assigned to"), coerce=int, empty_value=None,
                                      required=False)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    category = forms.ChoiceField(label=_("Category"), choices=categories.choices)
    tags = forms.CharField(label=_("Tags, separated by commas"), max_length=800, required=False)

    def __init__(self, *args: Any, case: Case, members: list[Member], tags: list[str],
                 **kwargs: Any) -> None:
        self.current = {"status": case.status, "assignee": case.assignee_id,
                        "priority": case.priority, "category": case.category,
                        "tags": clean_tags(tags)}
        kwargs["initial"] = {**self.current, "version": case.version, "tags": ", ".join(tags)}
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("nobody")), *((m.pk, str(m)) for m in members)]
        self.status_choices = [(case.status, Status(case.status).label)] + [
            (s, Status(s).label) for s in Status.values if s in TRANSITIONS.get(case.status, set())]

    def changed(self) -> list[str]:
        """Valid fields whose value differs from the case as it was loaded."""
        data = dict(self.cleaned_data)
        if "tags" in data:
            data["tags"] = clean_tags(data["tags"].split(","))
        return [name for name in self.FIELDS
                if name in data and name not in self.errors and data[name] != self.current[name]]


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=25_000,
                           strip=True)


class DeadlineForm(forms.Form):
    due = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}),
                          validators=[MinValueValidator(date(rules.YEARS.start, 1, 1)),
                                      MaxValueValidator(date(rules.YEARS.stop - 1, 12, 31))])
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


class ReadyReplyForm(forms.Form):
    """A ready reply: a title, an optional category and one text per language.

    Emptiness, lengths and variables are checked by the action (one message for the
    form and for any other caller); the form only carries the fields.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ChoiceField(label=_("Suggest it for cases of the category"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("any category (not suggested)")), *categories.choices()]
        for lang in LANGS:
            self.fields[f"text_{lang}"] = forms.CharField(
                label=_("Text in %(language)s") % {"language": LANGUAGE_NAMES[lang]},
                widget=forms.Textarea(attrs={"rows": 6, "lang": lang}), required=False,
                max_length=40_000, strip=False)

    def versions(self) -> dict[str, str]:
        return {lang: self.cleaned_data.get(f"text_{lang}", "") for lang in LANGS}


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(label=_("Delete closed cases after (days)"),
                                        min_value=1, max_value=3650)
