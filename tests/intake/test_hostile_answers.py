"""Hostile answers on the public intake (penetration test F9): the refusal tells the truth."""

from __future__ import annotations

import pytest

from haven.intake.models import IntakeConversation

from .conftest import SUMMONS_ANSWERS, Visitor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("length", [5_000, 100_000])
def test_an_answer_far_over_the_limit_is_refused_with_its_real_length(
    visitor: Visitor, length: int
) -> None:
    visitor.start("summons", "en")
    for step, value in SUMMONS_ANSWERS[:-1]:
        visitor.answer(step, value)
    refused = visitor.answer("situation", "x" * length)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert f"The answer is too long ({length} characters; at most 3000). Shorten it." in page
    assert "20001" not in page
    assert IntakeConversation.objects.count() == 1  # the conversation and earlier answers stay
