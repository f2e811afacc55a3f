"""The outbox row. Defined here, registered under the ``cases`` app label.

The model was created by ``haven/cases/migrations``; keeping ``app_label = "cases"``
keeps its table name and migration history, so moving the code moved no data.
``haven/cases/models.py`` imports it, so it is registered whenever the cases app is.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Outbox(models.Model):
    """A message on its way to a requester. Deleted once delivered.

    The payload is encrypted with the server's outbox key (the worker sends with
    no member present); see docs/threat-model.md for what that means.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey("cases.CaseRecord", null=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20)
    payload = models.BinaryField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")  # the claiming batch
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        app_label = "cases"  # the table (cases_outbox) and its migrations stay with cases
        indexes = [models.Index(fields=["channel", "next_attempt"]),
                   models.Index(fields=["claim_token"], name="cases_outbo_claim_t_idx")]
