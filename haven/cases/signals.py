"""Signals other apps listen to, so cases need not know about every channel."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a case's content was purged or burned (kwargs: case).
content_purged = Signal()
# Sent inside the transaction that closes a case (kwargs: case): what is kept only
# while a case is open (duplicate fingerprints, a chat's link to it) goes now.
closed = Signal()
# Sent after a member reopened a closed case (kwargs: case, vault).
reopened = Signal()
# Sent when a member's organization key is at hand on the desk (the queue page, a
# search), so apps finish what intake left for it (kwargs: vault, organization_id).
unlocked = Signal()
