"""The funds app's refusals. Views show their text; it says what to do next."""

from __future__ import annotations


class FundsError(Exception):
    """A refusal a person can act on; nothing was written."""


class NotAllowed(FundsError):
    """The member's role does not allow this."""
