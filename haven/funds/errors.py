"""The funds app's refusals. Views show their text; it says what to do next."""

from __future__ import annotations

from haven.accounts import rights
from haven.core.errors import Refusal


class FundsError(Refusal):
    """A refusal a person can act on; nothing was written."""


class NotAllowed(rights.NotAllowed, FundsError):
    """The role refusal of the rights table, caught with the funds' other refusals."""
