from __future__ import annotations

from typing import Any

from django import template

from haven.knowledge.desk import case_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def kb_case_panel(context: template.Context) -> dict[str, Any]:
    """The knowledge panel's data for the case page (see ``haven.knowledge.desk``)."""
    return case_panel(context["request"], context["case"])
