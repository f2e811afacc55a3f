from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "haven.network"
    label = "network"
    verbose_name = "Network"

    def ready(self) -> None:
        from . import actions, followup, receipts, tasks, transport  # noqa: F401 - registers the worker's periodic tasks and the inbox's handlers

        transport.connect()  # the outbox handler of channel "network" and its signals
        followup.register()  # the web requester's question about a referral
        receipts.register()  # partners' answers to our referrals
