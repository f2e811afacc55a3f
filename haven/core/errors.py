"""The one base of every refusal a person can act on.

A refusal's message says what to do next, in the reader's language; every page
shows it the same way, as ``str(exc)`` (a form error or a message), and no page
needs to know which package refused. ``ActionError`` (cases), ``AccountError``,
``FundsError``, ``BotError``, ``PostError``, ``ArticleError`` and
``NotAllowed`` (rights) derive from it.
"""

from __future__ import annotations


class Refusal(Exception):
    """A refusal a person can act on; the message says what to do."""
