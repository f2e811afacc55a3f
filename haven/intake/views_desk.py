"""Intake pages for members: the organization's intake settings, the fraud flag."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.cases import actions as case_actions
from haven.cases import categories
from haven.cases.access import NotAllowed, access_case_by_number
from haven.core.langs import LANGS, LANGUAGE_NAMES
from haven.core.redirects import redirect_back

from . import actions, orgpage, registry


class SettingsForm(forms.Form):
    enabled = forms.MultipleChoiceField(
        label=gettext_lazy("Topics offered on the intake page"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["enabled"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - narrows the type
        field.choices = [(q.category, categories.get(q.category).name) for q in registry.ordered()]
        for lang in LANGS:
            self.fields[f"description_{lang}"] = forms.CharField(
                label=_("What the organization does (%(lang)s)") % {"lang": LANGUAGE_NAMES[lang]},
                required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
        for lang in LANGS:
            self.fields[f"retention_{lang}"] = forms.CharField(
                label=_("Who reads requests and how long they are kept (%(lang)s)")
                % {"lang": LANGUAGE_NAMES[lang]}, required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Shown on the consent step. Leave empty for the standard wording."))


@member_view(Right.ORG_ADMIN)
def settings_view(request: MemberRequest) -> HttpResponse:
    member = request.user
    row = orgpage.settings_for(member.organization)
    initial: dict[str, object] = {
        "enabled": row.enabled if row.enabled is not None else [q.category for q in registry.ordered()],
    }
    for lang in LANGS:
        initial[f"description_{lang}"] = orgpage.words(row, "description", lang)
        initial[f"retention_{lang}"] = orgpage.words(row, "retention", lang)
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.save_settings(
            member, enabled=data["enabled"],
            description={lang: data[f"description_{lang}"] for lang in LANGS},
            retention={lang: data[f"retention_{lang}"] for lang in LANGS},
        )
        messages.success(request, _("Intake settings saved."))
        return redirect("intake:settings")
    intake_url = request.build_absolute_uri(reverse("intake:start", args=[member.organization.slug]))
    return render(request, "intake/settings.html", {"form": form, "intake_url": intake_url},
                  status=400 if form.errors else 200)


@require_POST
@login_required
def fraud_view(request: HttpRequest, number: int) -> HttpResponse:
    member = request.user
    if not isinstance(member, Member):
        raise Http404
    case = access_case_by_number(member, number)
    suspected = request.POST.get("suspected") == "1"
    try:
        case_actions.set_fraud_suspected(member, case, suspected)
    except NotAllowed as exc:  # 404 as the desk answers a missing role, so no id is told apart
        raise Http404 from exc
    messages.success(request, _("Marked as suspected fraud or duplicate.") if suspected
                     else _("The fraud mark was removed."))
    return redirect_back(request, "desk:queue")
