from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "haven.core"
    label = "core"
    verbose_name = "Haven core"

    def ready(self) -> None:
        from . import checks, worker  # noqa: F401  (registers checks and periodic tasks)
