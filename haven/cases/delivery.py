"""What a delivery result changes on a case: the reply's mark, and a notice when it failed.

``haven.outbox`` sits below cases and knows no case model: it sends ``sent`` and
``failed`` inside the transaction that deletes the row, and these receivers write
the case side in that same transaction. Rows without a case or record (the bot's
own answers, knowledge's channel posts) change nothing here.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from haven import outbox

from .models import CaseRecord, Delivery, Outbox, Reminder


@receiver(outbox.sent)
def mark_sent(sender: Any, row: Outbox, **kwargs: Any) -> None:
    if row.record_id:
        CaseRecord.objects.filter(pk=row.record_id).update(delivery=Delivery.SENT,
                                                           delivery_error="")


@receiver(outbox.failed)
def mark_failed(sender: Any, row: Outbox, code: str, **kwargs: Any) -> None:
    if row.record_id:
        CaseRecord.objects.filter(pk=row.record_id).update(delivery=Delivery.FAILED,
                                                           delivery_error=code)
    if row.case_id:
        Reminder.objects.create(organization_id=row.organization_id, case_id=row.case_id,
                                kind="delivery_failed", detail={"error": code})
