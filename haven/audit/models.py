"""Hash-chained audit entries, one chain per organization.

An entry holds who did what to which case and when, never content. Each entry's
hash covers the previous entry's hash, so an edited, removed or reordered entry
breaks the chain; the head row makes removing the newest entries visible too.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    seq = models.PositiveBigIntegerField()
    created = models.DateTimeField(default=timezone.now)
    # Plain ids, not foreign keys: the chain must survive purges of cases.
    actor_id = models.BigIntegerField(null=True)
    case_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="audit_seq_unique")
        ]
        indexes = [models.Index(fields=["organization", "case_id"])]


class AuditHead(models.Model):
    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
