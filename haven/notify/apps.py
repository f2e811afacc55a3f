from __future__ import annotations

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "haven.notify"
    label = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from haven import outbox
        from haven.telegram import hooks

        from . import bot, channels, tasks  # noqa: F401 - tasks registers the worker's periodic tasks

        channels.register()
        outbox.failed.connect(channels.on_failed, dispatch_uid="notify-failed")
        hooks.add_command(bot.on_command)
        hooks.add_status(bot.on_status)
