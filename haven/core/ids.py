"""Row ids read from a form or a query string: a number the database can hold, or None.

``"²".isdigit()`` is true but ``int("²")`` fails; ``"99999999999999999999"`` is
digits but too large for a 64-bit column (SQLite raises ``OverflowError``). A
view that takes an id from the request reads it here, and answers 404 (or
ignores the filter) for anything else.
"""

from __future__ import annotations

LARGEST = 2**63 - 1


def row_id(text: object) -> int | None:
    """``text`` as a positive id that fits the database, else None."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= LARGEST else None
