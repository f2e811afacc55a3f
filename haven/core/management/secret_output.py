"""Commands that print a secret (the recovery key, a one-time admin link) say where not to run them (I-8)."""

from __future__ import annotations

import os
from typing import Any

# Set by systemd for services (INVOCATION_ID, JOURNAL_STREAM) and by most CI systems (CI).
_UNATTENDED = ("INVOCATION_ID", "JOURNAL_STREAM", "CI")


def warn(stderr: Any, what: str) -> None:
    """Write to standard error that ``what`` follows on standard output, and where it must not go."""
    stderr.write(
        f"WARNING: this command prints {what} to standard output. Run it yourself in a terminal; "
        "never under systemd, cron or CI, whose logs (the journal, mail, build logs) would keep it "
        "on the server."
    )
    found = [name for name in _UNATTENDED if os.environ.get(name)]
    if found:
        stderr.write(f"WARNING: this looks like an unattended run ({', '.join(found)} is set).")
