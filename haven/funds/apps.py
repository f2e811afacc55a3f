from __future__ import annotations

from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "haven.funds"
    label = "funds"
    verbose_name = "Funds"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the worker's periodic tasks)
