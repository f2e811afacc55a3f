"""The coordinator's knowledge-base pages: own articles, overrides, reviews, channel posts.

Editing is for coordinators and administrators; the list and the review pages
also for members given the reviewer right, who alone may mark an article
reviewed. Anyone else gets 404, and an article or post of another
organization is 404 too (no existence oracle).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.core.langs import LANGUAGE_NAMES

from . import actions, posts, reviews, service
from .forms import ArticleForm, NewArticleForm, PostForm, ReviewForm
from .labels import topic_label
from .models import Article, ChannelPost, ReviewStatus
from .views import safe_body

View = Callable[..., HttpResponse]
POSTS_SHOWN = 100


def knowledge_view(view: View) -> View:
    """Editors and reviewers."""
    @wraps(view)
    @login_required
    def wrapper(request: MemberRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        me = request.user
        if not (actions.can_edit(me) or actions.can_review(me)):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@knowledge_view
def manage(request: MemberRequest) -> HttpResponse:
    me = request.user
    lang = service.normalize_lang(request.GET.get("lang"))
    rows = Article.objects.filter(organization_id=me.organization_id)
    shipped = Article.objects.filter(organization__isnull=True)
    if lang:
        rows, shipped = rows.filter(lang=lang), shipped.filter(lang=lang)
    own = {a.key: a for a in rows}
    shipped_keys = {a.key: a for a in shipped}
    items = [_row(a, me, overrides=a.key in shipped_keys) for a in own.values()]
    items += [_row(a, me) for key, a in shipped_keys.items() if key not in own]
    items.sort(key=lambda item: (item["article"].lang, item["article"].title.lower()))
    states = reviews.states_for(me.organization, [item["article"] for item in items])
    for item in items:
        item["review"] = states[item["article"].pk]
    return render(request, "knowledge/manage.html", {
        "items": items, "lang": lang, "kb_langs": LANGUAGE_NAMES.items(),
        "can_edit": actions.can_edit(me), "can_review": actions.can_review(me),
        "org_index": reverse("knowledge:org_index", args=[me.organization.slug])})


@member_view(Right.KNOWLEDGE_EDIT)
def new_article(request: MemberRequest) -> HttpResponse:
    me = request.user
    form = NewArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lang, slug = form.cleaned_data["lang"], form.cleaned_data["slug"]
        try:
            actions.create_article(me, lang, slug, form.data_object())
        except actions.ArticleExists:
            form.add_error("slug", _("Your organization already has an article with this name "
                                     "in this language. Edit that one."))
        else:
            messages.success(request, _("The article was created."))
            return redirect("knowledge:manage_edit", lang, slug)
    return render(request, "knowledge/manage_form.html", {"form": form, "article": None},
                  status=400 if form.errors else 200)


@member_view(Right.KNOWLEDGE_EDIT)
def edit_article(request: MemberRequest, lang: str, slug: str) -> HttpResponse:
    me = request.user
    article = actions.own_article(me, lang, slug)
    form = ArticleForm.for_article(article, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.update_article(me, article, form.data_object())
        messages.success(request, _("The article was saved."))
        return redirect("knowledge:manage_edit", lang, slug)
    return render(request, "knowledge/manage_form.html", {
        "form": form, "article": article, "preview": safe_body(article),
        "public_url": service.article_url(lang, slug, me.organization),
        **_review_context(me, article),
    }, status=400 if form.errors else 200)


@member_view(Right.KNOWLEDGE_EDIT)
@require_POST
def override_article(request: MemberRequest, lang: str, slug: str) -> HttpResponse:
    actions.override_article(request.user, actions.shipped_article(lang, slug))
    messages.success(request, _("Your organization's copy was made. Edit it here."))
    return redirect("knowledge:manage_edit", lang, slug)


@knowledge_view
def review_article(request: MemberRequest, lang: str, slug: str) -> HttpResponse:
    """The article as the organization shows it, its review state and changes since; review."""
    me = request.user
    article = service.find_article(me.organization, lang, slug)
    if article is None:
        raise Http404
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        if not actions.can_review(me):
            raise Http404
        if form.is_valid() and _record(request, me, article, form):
            return redirect("knowledge:manage_review", lang, slug)
    return render(request, "knowledge/manage_review.html", {
        "article": article, "form": form, "public_url": service.article_url(lang, slug, me.organization),
        "seen": reviews.text_digest(article), "preview": safe_body(article),
        "history": reviews.history(me.organization, article), **_review_context(me, article),
    }, status=400 if form.errors else 200)


def _record(request: MemberRequest, me: Member, article: Article, form: ReviewForm) -> bool:
    data = form.cleaned_data
    try:
        actions.record_review(me, article, data["status"], data["note"], seen=data["seen"])
    except actions.TextChanged:
        form.add_error(None, _("The article changed while you were reading it. Read it again "
                               "below, then review it."))
        return False
    if data["status"] == ReviewStatus.REVIEWED:
        messages.success(request, _("“%(title)s” is marked as reviewed today.") % {"title": article.title})
    else:
        messages.success(request, _("“%(title)s” now says that the law changed and it is under "
                                    "review.") % {"title": article.title})
    return True


@member_view(Right.KNOWLEDGE_EDIT)
@require_POST
def delete_article(request: MemberRequest, lang: str, slug: str) -> HttpResponse:
    me = request.user
    actions.delete_article(me, actions.own_article(me, lang, slug))
    messages.success(request, _("Your organization's article was removed."))
    return redirect("knowledge:manage")


@member_view(Right.KNOWLEDGE_EDIT)
def channel_posts(request: MemberRequest) -> HttpResponse:
    me = request.user
    form = PostForm(request.POST or None, articles=service.visible_articles(me.organization))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            posts.schedule_post(me, article=data["article_obj"], text=data["text"],
                                lang=data["lang"], when=data["scheduled_for"])
        except posts.PostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The post was scheduled."))
            return redirect("knowledge:posts")
    shown = list(ChannelPost.objects.filter(organization_id=me.organization_id)
                 .select_related("article").order_by("-scheduled_for", "-pk")[:POSTS_SHOWN])
    retrying = posts.last_errors(shown)
    return render(request, "knowledge/posts.html", {
        "form": form, "posts": [{"post": p, "retrying": retrying.get(p.pk, "")} for p in shown],
    }, status=400 if form.errors else 200)


@member_view(Right.KNOWLEDGE_EDIT)
@require_POST
def cancel_post(request: MemberRequest, post_id: int) -> HttpResponse:
    me = request.user
    post = get_object_or_404(ChannelPost, pk=post_id, organization_id=me.organization_id)
    if posts.cancel_post(me, post):
        messages.success(request, _("The post was cancelled."))
    else:
        messages.error(request, _("The post is already on its way and cannot be cancelled."))
    return redirect("knowledge:posts")


def _review_context(me: Member, article: Article) -> dict[str, Any]:
    last = reviews.last_reviewed(me.organization, article)
    return {"review": reviews.state_for(me.organization, article), "last_review": last,
            "changes": reviews.changes_since(last, article) if last else None,
            "can_review": actions.can_review(me)}


def _row(article: Article, me: Member, overrides: bool = False) -> dict[str, Any]:
    return {"article": article, "topic": topic_label(article.topic), "overrides": overrides,
            "lang_name": LANGUAGE_NAMES[article.lang],
            "url": service.article_url(article.lang, article.slug, me.organization)}
