from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "haven.network"
    label = "network"
    verbose_name = "Network"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the worker's periodic tasks)
