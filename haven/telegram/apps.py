from __future__ import annotations

from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "haven.telegram"
    label = "telegram"
    verbose_name = "Telegram bot"
