"""Forms of the coordinator's knowledge-base pages."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.langs import LANGS, LANGUAGE_NAMES

from .actions import ArticleData
from .content import TOPICS
from .labels import TOPIC_LABELS, topic_label
from .models import Article, ReviewStatus
from .plaintext import TELEGRAM_LIMIT, escape_for_telegram
from .reviews import REVIEW_AGE_MAX, REVIEW_AGE_MIN

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RELATED_RE = re.compile(r"^(ru|uk|en)/[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL_RE = re.compile(r"^https?://\S+$")
LANG_CHOICES = [(code, LANGUAGE_NAMES[code]) for code in LANGS]


def _topic_choices() -> list[tuple[str, str]]:
    return [(t, topic_label(t)) for t in TOPIC_LABELS if t in TOPICS]


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    topic = forms.ChoiceField(label=_("Topic"), choices=_topic_choices)
    body_markdown = forms.CharField(
        label=_("Text"), max_length=30_000, widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Markdown: ## for a heading, - for a list item, **bold**. HTML is shown as "
                    "text. End with the note that this is general information, not legal advice."))
    tags = forms.CharField(label=_("Words people search with, separated by commas"),
                           max_length=800, required=False)
    sources = forms.CharField(
        label=_("Sources, one per line"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Title | https://address (the address may be left out)."))
    related = forms.CharField(
        label=_("Translations, separated by commas"), max_length=500, required=False,
        help_text=_("The same article in other languages, such as en/acs-deadlines."))
    unverified = forms.BooleanField(label=_("Needs confirmation by a lawyer"), required=False)

    def __init__(self, *args: Any, lang: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.article_lang = lang

    @classmethod
    def for_article(cls, article: Article, data: Any = None) -> ArticleForm:
        initial = {
            "title": article.title, "topic": article.topic, "body_markdown": article.body_markdown,
            "tags": ", ".join(article.tags), "related": ", ".join(article.related),
            "unverified": article.unverified,
            "sources": "\n".join(s["title"] + (f" | {s['url']}" if s.get("url") else "")
                                 for s in article.sources),
        }
        return cls(data, initial=initial, lang=article.lang)

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()][:50]

    def clean_related(self) -> list[str]:
        keys = [k.strip() for k in self.cleaned_data["related"].split(",") if k.strip()]
        for key in keys:
            if not _RELATED_RE.match(key):
                raise forms.ValidationError(
                    _("Write each translation as language/slug, such as en/acs-deadlines."))
        return keys

    def clean_sources(self) -> list[dict[str, str | None]]:
        found: list[dict[str, str | None]] = []
        for line in self.cleaned_data["sources"].splitlines():
            title, _bar, url = (part.strip() for part in line.partition("|"))
            if not title and not url:
                continue
            if not title or (url and not _URL_RE.match(url)):
                raise forms.ValidationError(
                    _("Write each source as: title | https://address."))
            found.append({"title": title, "url": url or None})
        if not found:
            raise forms.ValidationError(_("Name at least one source."))
        return found

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lang = cleaned.get("lang") or self.article_lang
        if lang and any(k.startswith(f"{lang}/") for k in cleaned.get("related") or ()):
            self.add_error("related", _("A translation must be in another language."))
        return cleaned

    def data_object(self) -> ArticleData:
        c = self.cleaned_data
        return ArticleData(title=c["title"], topic=c["topic"], body_markdown=c["body_markdown"],
                           tags=c["tags"], related=c["related"], sources=c["sources"],
                           unverified=c["unverified"])


class NewArticleForm(ArticleForm):
    lang = forms.ChoiceField(label=_("Language"), choices=LANG_CHOICES)
    slug = forms.CharField(
        label=_("Short name in the address"), max_length=100,
        help_text=_("Lower-case Latin letters, digits and hyphens, such as acs-deadlines. "
                    "The name of a shipped article replaces it for your organization."))

    field_order = ["lang", "slug", "title", "topic", "body_markdown", "tags", "sources",
                   "related", "unverified"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        if not _SLUG_RE.match(slug):
            raise forms.ValidationError(
                _("Use lower-case Latin letters, digits and hyphens, such as acs-deadlines."))
        return slug


class PostForm(forms.Form):
    article = forms.ChoiceField(label=_("Article"), required=False)
    text = forms.CharField(label=_("Or a short text"), required=False, max_length=TELEGRAM_LIMIT,
                           widget=forms.Textarea(attrs={"rows": 5}))
    lang = forms.ChoiceField(label=_("Language of the text"), choices=LANG_CHOICES)
    scheduled_for = forms.DateTimeField(
        label=_("Post at (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args: Any, articles: list[Article], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"scheduled_for": timezone.now().replace(second=0,
                                                                              microsecond=0)})
        super().__init__(*args, **kwargs)
        self.articles = {a.key: a for a in articles}
        cast(forms.ChoiceField, self.fields["article"]).choices = [("", "—")] + [
            (a.key, f"{a.lang} · {a.title}") for a in articles]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        key, text = cleaned.get("article"), (cleaned.get("text") or "").strip()
        if bool(key) == bool(text):
            raise forms.ValidationError(_("Choose an article or write a short text, not both."))
        if text and len(escape_for_telegram(text)) > TELEGRAM_LIMIT:
            self.add_error("text", _("The text is too long for Telegram once prepared "
                                     "(%(max)d characters). Shorten it.") % {"max": TELEGRAM_LIMIT})
        cleaned["article_obj"] = self.articles.get(key) if key else None
        return cleaned


class ReviewForm(forms.Form):
    """Mark reviewed, or mark the law changed (with a short note for readers)."""

    status = forms.ChoiceField(choices=ReviewStatus.choices, error_messages={
        "required": _("Choose whether the article is reviewed or the law changed."),
        "invalid_choice": _("Choose whether the article is reviewed or the law changed.")})
    note = forms.CharField(label=_("Note for readers (optional)"), max_length=300, required=False,
                           help_text=_("For example: which law changed and when. Shown with "
                                       "the warning until the next review."))
    seen = forms.CharField(widget=forms.HiddenInput, max_length=64, error_messages={
        "required": _("Open the article again, read it, then review it."),
        "max_length": _("Open the article again, read it, then review it.")})


class ReviewAgeForm(forms.Form):
    review_age_months = forms.IntegerField(
        label=_("A knowledge article's review is overdue after (months)"),
        min_value=REVIEW_AGE_MIN, max_value=REVIEW_AGE_MAX, error_messages={
            "required": _("Enter a number of months from 1 to 36."),
            "invalid": _("Enter a number of months from 1 to 36."),
            "min_value": _("Enter a number of months from 1 to 36."),
            "max_value": _("Enter a number of months from 1 to 36.")})
