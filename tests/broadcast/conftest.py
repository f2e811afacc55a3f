"""The Telegram fake and the web visitor, borrowed from those areas' own fixtures."""

from __future__ import annotations

from haven.cases import actions
from haven.cases.models import Case, Channel
from haven.telegram import links
from haven.telegram.models import Bot
from tests.conftest import Persona
from tests.intake.conftest import _fresh_cache, visitor  # noqa: F401 - fixtures used here
from tests.telegram.conftest import bot, fake, quick_chats  # noqa: F401 - fixtures used here


def telegram_case_in(persona: Persona, on: Bot, chat_id: int, lang: str) -> Case:
    """A case as the bot makes it, in the requester's language, bound to ``chat_id``."""
    case = actions.create_case(persona.org, category="summons", channel=Channel.TELEGRAM,
                               summary="Повестка", first_message="Пришла повестка", lang=lang)
    links.bind(case, on, chat_id, lang)
    return case
