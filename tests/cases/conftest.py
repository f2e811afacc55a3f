from __future__ import annotations

from typing import Any

import pytest

from haven.cases import actions, outbox
from haven.cases.models import Case, Channel, Outbox
from tests.conftest import Persona


class RecordingHandler:
    """A channel that records what it was asked to send and can be told to fail."""

    name = Channel.WEB

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail: list[outbox.DeliveryError] = []

    def check(self, text: str) -> None:
        if len(text) > 4096 * 3:
            raise actions.ActionError("too long for this channel")

    def address(self, case: Case) -> dict[str, Any]:
        return {"case": case.number}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(payload)


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> RecordingHandler:
    handler = RecordingHandler()
    monkeypatch.setitem(outbox.HANDLERS, Channel.WEB, handler)
    return handler


def make_case(persona: Persona, text: str = "I got a summons", **kw: Any) -> Case:
    """A case as intake makes it: sealed to the organization, no member present."""
    defaults = {"category": "summons", "channel": Channel.WEB, "summary": text[:60],
                "answers": {"what": text}, "first_message": text}
    return actions.create_case(persona.org, **{**defaults, **kw})
