from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "haven.intake"
    label = "intake"
    verbose_name = "Intake"
