"""Template helpers for money pages: ``{% load funds_tags %}``."""

from __future__ import annotations

from typing import Any

from django import template

from haven.funds import access, money

register = template.Library()


@register.filter
def amount(value: int, currency: str) -> str:
    """``{{ row.amount|amount:row.currency }}`` -> ``1 234.56``."""
    return money.format_amount(int(value), currency)


@register.filter
def manages_funds(member: Any) -> bool:
    return bool(member) and access.can_manage(member)


@register.filter
def sees_funds(member: Any) -> bool:
    """For the main navigation: show the "Funds" link to those who may open it."""
    return bool(member) and access.can_read(member)


@register.filter
def configures_funds(member: Any) -> bool:
    return bool(member) and access.can_configure(member)


@register.simple_tag(takes_context=True)
def case_payouts(context: Any, case: Any) -> list[Any]:
    """The payouts of ``case`` for the member viewing the desk's case page."""
    from haven.funds.case import payouts_for_case

    request = context["request"]
    return payouts_for_case(request.user, request.org_vault, case)
