from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from . import delivery, tasks  # noqa: F401  (outbox receivers, periodic tasks)
