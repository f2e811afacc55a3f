from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "haven.accounts"
    label = "accounts"
    verbose_name = "Organizations and members"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the worker's periodic tasks)
