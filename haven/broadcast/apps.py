from __future__ import annotations

from django.apps import AppConfig


class BroadcastConfig(AppConfig):
    name = "haven.broadcast"
    label = "broadcast"
    verbose_name = "Broadcasts"
