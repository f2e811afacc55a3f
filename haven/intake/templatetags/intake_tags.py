"""Small template helpers for the requester's pages."""

from __future__ import annotations

from django import template

from haven.cases import categories

from ..web import LEAVE_URLS, current_lang

register = template.Library()


@register.simple_tag
def leave_url() -> str:
    """An ordinary page to jump to when someone comes near (in the page's language)."""
    return LEAVE_URLS.get(current_lang(), LEAVE_URLS["en"])


@register.simple_tag
def category_name(slug: str, lang: str = "") -> str:
    names = categories.get(slug).names
    return names.get(lang or current_lang()) or names.get("en") or slug
