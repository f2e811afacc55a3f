from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "haven.telegram"
    label = "telegram"
    verbose_name = "Telegram bot"

    def ready(self) -> None:
        from haven.cases import signals

        from . import referrals, sender, tasks  # noqa: F401 - registers the worker's periodic tasks

        sender.register()  # the outbox handlers for "telegram" and "telegram-channel"
        referrals.register()  # asks a requester whether their case may go to a partner
        signals.content_purged.connect(_forget, dispatch_uid="telegram-forget")
        signals.reopened.connect(_rearm, dispatch_uid="telegram-rearm")
        signals.closed.connect(_disconnect, dispatch_uid="telegram-disconnect")


def _disconnect(sender: Any, case: Any, **kwargs: Any) -> None:
    """A closed case keeps no server copy of its chat id, and its chat forgets it."""
    from . import links

    links.disconnect(case)


def _forget(sender: Any, case: Any, **kwargs: Any) -> None:
    """A purged or burned case keeps no server copy of its chat id; its chat forgets it."""
    from . import links

    links.disconnect(case)
    links.forget(case.pk)


def _rearm(sender: Any, case: Any, vault: Any, **kwargs: Any) -> None:
    """Closing a case dropped the server copy of its chat id; reopening restores it."""
    from . import links

    if case.channel == "telegram":
        links.rearm(case, vault)
