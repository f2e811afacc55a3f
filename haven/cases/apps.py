from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the worker's periodic tasks)
