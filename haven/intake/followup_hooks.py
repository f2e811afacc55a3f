"""What packages above intake add to the requester's follow-up page.

Intake imports no package built on it (the layer rules), yet the network must ask a
web requester whether their request may go to a partner, on the page they already
come back to with their codename. So a package registers here, from its
``AppConfig.ready``:

- a *panel*: ``panel(request, opened, codename) -> str``, the HTML it adds above the
  thread ("" for nothing). Its forms post to the follow-up address with the codename
  in a hidden field, like the page's own, so nothing is kept between requests;
- an *action*: ``action(request, opened) -> (notice, error)``, run when a form posts
  ``action=<name>`` with a codename that opened the case (after the same throttling
  as every follow-up request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .followup import Opened

Panel = Callable[["HttpRequest", "Opened", str], str]
Action = Callable[["HttpRequest", "Opened"], tuple[str, str]]

PANELS: list[Panel] = []
ACTIONS: dict[str, Action] = {}
RESERVED = frozenset({"open", "send", "erase", "erase_confirmed", "download"})


def add_panel(panel: Panel) -> None:
    if panel not in PANELS:
        PANELS.append(panel)


def add_action(name: str, action: Action) -> None:
    if name in RESERVED:
        raise ValueError(f"the follow-up page's own action: {name}")
    ACTIONS[name] = action
