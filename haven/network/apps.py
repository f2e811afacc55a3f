from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "haven.network"
    label = "network"
    verbose_name = "Network"

    def ready(self) -> None:
        from . import tasks, transport  # noqa: F401 - registers the worker's periodic tasks

        transport.connect()  # the outbox handler of channel "network" and its signals
        from . import actions  # noqa: F401 - registers the inbox's handler of referrals in
