"""A broadcast and the cases it reaches, one row each (never the same case twice)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")
    DONE = "done", _("Prepared: in the outbox")
    CANCELLED = "cancelled", _("Cancelled")


class CaseState(models.TextChoices):
    PENDING = "pending", _("Not yet prepared")
    QUEUED = "queued", _("Prepared")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")
    WITHDRAWN = "withdrawn", _("Withdrawn from the outbox")


class Broadcast(models.Model):
    """One message to many cases. Its text, the tag it filtered by and its language counts
    are sealed under the organization key (``content``); the other filters (category,
    team, status) and the counts by channel are metadata the desk already shows in clear."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    created_by = models.ForeignKey("accounts.Member", null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    filters = models.JSONField(default=dict)  # category, team, status, tagged (bool)
    counts = models.JSONField(default=dict)  # total and per channel, as previewed
    content = models.BinaryField()  # sealed JSON: versions, fallback, tag, languages
    status = models.CharField(max_length=20, choices=State.choices, default=State.PREPARING)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created"])]


class BroadcastCase(models.Model):
    """One case of a broadcast. The unique pair is what keeps a resumed broadcast from
    writing to a case twice; ``state`` moves from pending in the transaction that writes
    the case's record and outbox row."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=CaseState.choices, default=CaseState.PENDING)
    reason = models.CharField(max_length=20, blank=True)  # why skipped (a code, see views)
    record = models.ForeignKey("cases.CaseRecord", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "case"],
                                               name="broadcast_case_once")]
        indexes = [models.Index(fields=["broadcast", "state"])]
