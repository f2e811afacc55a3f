"""Haven's Telegram bot: webhook and polling, the conversation, the outbox sender, a fake Bot API.

Module map: ``views`` (webhook, settings page) and ``processing`` (record once,
process once) receive updates; ``dialog``, ``intake_flow`` and ``media`` answer
them; ``sender`` and ``pacing`` deliver through the outbox; ``bots`` manages the
token and mode; ``links`` and ``chats`` say where a chat is and what it is doing;
``fake`` is the Bot API used by the tests and ``haven chat``.
"""
