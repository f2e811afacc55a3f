"""Password strength, checked with zxcvbn."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3


class StrengthValidator:
    """Refuses short passwords and ones zxcvbn scores below 3 of 4."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < MIN_LENGTH:
            raise ValidationError(
                _("Use at least %(n)d characters; a few unrelated words work well.")
                % {"n": MIN_LENGTH},
                code="password_too_short",
            )
        hints = [getattr(user, "username", ""), getattr(user, "display_name", "")]
        result = zxcvbn(password[:100], user_inputs=[h for h in hints if h])
        if result["score"] < MIN_SCORE:
            raise ValidationError(
                _("This password is too easy to guess. Add more unrelated words."),
                code="password_too_weak",
            )

    def get_help_text(self) -> str:
        return _("At least %(n)d characters, hard to guess: a few unrelated words work well.") % {
            "n": MIN_LENGTH
        }
