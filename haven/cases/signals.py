"""Signals other apps listen to, so cases need not know about every channel."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a case's content was purged or burned (kwargs: case).
content_purged = Signal()
# Sent after a member reopened a closed case (kwargs: case, vault).
reopened = Signal()
