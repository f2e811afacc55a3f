"""Public pages under /kb/, an organization's view under /kb/o/<slug>/, editing under /kb/manage/."""

from __future__ import annotations

from django.urls import path, register_converter

from . import manage_views, views


class LangConverter:
    regex = "ru|uk|en"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LangConverter, "kblang")

app_name = "knowledge"

urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("manage/", manage_views.manage, name="manage"),
    path("manage/new/", manage_views.new_article, name="manage_new"),
    path("manage/posts/", manage_views.channel_posts, name="posts"),
    path("manage/posts/<int:post_id>/cancel/", manage_views.cancel_post, name="post_cancel"),
    path("manage/<kblang:lang>/<slug:slug>/edit/", manage_views.edit_article, name="manage_edit"),
    path("manage/<kblang:lang>/<slug:slug>/override/", manage_views.override_article,
         name="manage_override"),
    path("manage/<kblang:lang>/<slug:slug>/review/", manage_views.review_article,
         name="manage_review"),
    path("manage/<kblang:lang>/<slug:slug>/delete/", manage_views.delete_article,
         name="manage_delete"),
    path("o/<slug:org_slug>/", views.index, name="org_index"),
    path("o/<slug:org_slug>/search/", views.search, name="org_search"),
    path("o/<slug:org_slug>/<kblang:lang>/<slug:slug>/", views.article, name="org_article"),
    path("<kblang:lang>/<slug:slug>/", views.article, name="article"),
]
