"""Every change to a broadcast: start, prepare the next batch, cancel.

A case's message is written by ``haven.cases.actions.broadcast_reply`` (the ordinary
reply path: the record under the case's key, the outbox row, the audit entry
``case.broadcast``). Writing a record under a case's key needs that key, which only a
member's key ring opens; so the batches are prepared inside the requests of the
coordinator who started the broadcast (the detail page continues it while open), and
the outbox sends them at its own pace. See docs/architecture.md, "Broadcasts".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from haven import outbox
from haven.accounts.models import Member
from haven.audit import chain
from haven.cases import actions as case_actions
from haven.cases import replies
from haven.cases.access import MANAGE, require
from haven.cases.keys import open_cases
from haven.cases.models import Case, Delivery, Status
from haven.core.errors import Refusal
from haven.core.langs import LANGS
from haven.vault import OrgVault

from . import targets
from .models import Broadcast, BroadcastCase, CaseState, State

BATCH = 25  # cases prepared per request: a few seconds at most on a small server


class BroadcastError(Refusal):
    """A refusal the coordinator can act on; the message says what to do."""


class StalePreview(BroadcastError):
    """The cases changed between the preview and Send."""


@dataclass
class Content:
    """What is sealed in ``Broadcast.content``."""

    versions: dict[str, str]
    fallback: str
    tag: str
    langs: dict[str, int]  # requesters' languages as previewed


def seal_content(ring: OrgVault, content: Content) -> bytes:
    return ring.encrypt_text(json.dumps(content.__dict__, ensure_ascii=False))


def open_content(ring: OrgVault, broadcast: Broadcast) -> Content:
    data = json.loads(ring.decrypt_text(bytes(broadcast.content)))
    return Content(versions=dict(data["versions"]), fallback=str(data["fallback"]),
                   tag=str(data["tag"]), langs=dict(data["langs"]))


def start(member: Member, ring: OrgVault, filters: targets.Filters, versions: dict[str, str],
          fallback: str, stamp: str) -> Broadcast:
    """Create the broadcast and one pending row per case of the preview, if it still holds."""
    require(member, MANAGE)
    versions = {lang: versions[lang].strip() for lang in LANGS if (versions.get(lang) or "").strip()}
    if not versions:
        raise BroadcastError(_("The message is empty; write it in at least one language."))
    seen = targets.preview(member, ring, filters, versions, fallback)
    if seen.problems():
        raise BroadcastError(seen.problems()[0])
    if not seen.targets:
        raise BroadcastError(_("No open case matches these filters; nothing was sent."))
    _check_channels(seen, versions)
    if seen.stamp() != stamp:
        raise StalePreview(_("The matching cases changed since the preview. Nothing was sent; "
                             "check the new counts below and send again."))
    content = Content(versions, fallback, filters.tag, dict(seen.by_lang))
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            organization_id=member.organization_id, created_by=member, filters=filters.clear(),
            counts={"total": seen.total, **{c: seen.by_channel[c] for c in targets.CHANNELS}},
            content=seal_content(ring, content))
        BroadcastCase.objects.bulk_create(
            BroadcastCase(broadcast=broadcast, case=t.case) for t in seen.targets)
        chain.record(member.organization_id, "broadcast.started", actor_id=member.pk,
                     detail={"broadcast": broadcast.pk, "targets": seen.total})
    return broadcast


def _check_channels(seen: targets.Preview, versions: dict[str, str]) -> None:
    """Each version must fit each channel it goes through (Telegram's length limit)."""
    for channel in targets.CHANNELS:
        handler = outbox.handler_for(channel)
        if not seen.by_channel[channel] or handler is None:
            continue
        for text in versions.values():
            try:
                handler.check(text)
            except case_actions.ActionError as exc:
                raise BroadcastError(str(exc)) from None


def step(member: Member, ring: OrgVault, broadcast: Broadcast, batch: int | None = None) -> int:
    """Prepare the next ``batch`` pending cases (only in the starter's own requests, whose
    key ring wrote the preview); the number of cases handled."""
    if broadcast.status != State.PREPARING or broadcast.created_by_id != member.pk:
        return 0
    require(member, MANAGE)
    content = open_content(ring, broadcast)
    rows = list(BroadcastCase.objects.filter(broadcast=broadcast, state=CaseState.PENDING)
                .select_related("case", "case__organization").order_by("pk")[:batch or BATCH])
    vaults = open_cases(ring, [row.case for row in rows])
    for row in rows:
        _prepare(member, ring, broadcast, content, row, row.case.pk in vaults,
                 targets.requester_lang(vaults.get(row.case.pk), row.case))
    if not BroadcastCase.objects.filter(broadcast=broadcast, state=CaseState.PENDING).exists():
        Broadcast.objects.filter(pk=broadcast.pk, status=State.PREPARING).update(
            status=State.DONE, finished=timezone.now())
    return len(rows)


def _prepare(member: Member, ring: OrgVault, broadcast: Broadcast, content: Content,
             row: BroadcastCase, openable: bool, lang: str) -> None:
    """One case, in one transaction: the row leaves "pending" only together with the case's
    record and outbox row, so a request killed half-way leaves it pending, never doubled."""
    case = row.case
    with transaction.atomic():
        if not BroadcastCase.objects.filter(pk=row.pk, state=CaseState.PENDING).update(
                state=CaseState.QUEUED):
            return  # another request (a second tab) took it, or it was cancelled
        reason, text = _text_for(case, content, openable, lang)
        if reason:
            BroadcastCase.objects.filter(pk=row.pk).update(state=CaseState.SKIPPED, reason=reason)
            return
        try:
            with transaction.atomic():
                record = case_actions.broadcast_reply(member, ring, case, text,
                                                      broadcast=broadcast.pk)
        except (case_actions.ActionError, Http404):
            BroadcastCase.objects.filter(pk=row.pk).update(state=CaseState.SKIPPED,
                                                           reason="unreachable")
            return
        BroadcastCase.objects.filter(pk=row.pk).update(record=record)


def _text_for(case: Case, content: Content, openable: bool, lang: str) -> tuple[str, str]:
    """("", text) for the case, or (reason, "") when it is no longer one to send to."""
    if case.status == Status.CLOSED or case.erased or case.held:
        return "closed", ""
    if not openable:
        return "unreadable", ""
    used = targets.version_for(lang, content.versions, content.fallback)
    if used is None:
        return "language", ""
    filled = replies.fill(targets.as_reply(content.versions), case, used)
    if filled.unfilled:
        return "deadline", ""
    return "", filled.text


def cancel(member: Member, broadcast: Broadcast) -> tuple[int, int]:
    """Stop a broadcast: cases not yet prepared get nothing, and messages still waiting
    unclaimed in the outbox are taken back. (cancelled, withdrawn)."""
    require(member, MANAGE)
    if broadcast.status == State.CANCELLED:
        raise BroadcastError(_("This broadcast was already cancelled."))
    with transaction.atomic():
        left = BroadcastCase.objects.filter(broadcast=broadcast, state=CaseState.PENDING).update(
            state=CaseState.CANCELLED)
        Broadcast.objects.filter(pk=broadcast.pk).update(status=State.CANCELLED,
                                                         finished=timezone.now())
        chain.record(member.organization_id, "broadcast.cancelled", actor_id=member.pk,
                     detail={"broadcast": broadcast.pk, "left": left})
    withdrawn = 0
    for row in (BroadcastCase.objects.filter(broadcast=broadcast, state=CaseState.QUEUED,
                                             record__delivery=Delivery.QUEUED)
                .select_related("case", "record")):
        assert row.record is not None  # noqa: S101 - the filter on record__delivery says so
        try:
            with transaction.atomic():
                if case_actions.withdraw_reply(member, row.case, row.record,
                                               broadcast=broadcast.pk):
                    BroadcastCase.objects.filter(pk=row.pk).update(state=CaseState.WITHDRAWN)
                    withdrawn += 1
        except Http404:
            continue  # a case this member cannot read: its message stays queued
    return left, withdrawn


@dataclass
class Progress:
    total: int
    pending: int
    prepared: int  # records written and queued in the outbox (including those sent since)
    sent: int
    waiting: int  # prepared, still in the outbox
    failed: int
    skipped: int
    cancelled: int
    withdrawn: int


def progress(broadcast: Broadcast) -> Progress:
    """Counts for the detail page, from the rows and the records' delivery marks."""
    states: dict[str, int] = {s: 0 for s in CaseState.values}
    for row in (BroadcastCase.objects.filter(broadcast=broadcast).values("state")
                .annotate(n=Count("pk"))):
        states[row["state"]] = row["n"]
    marks: dict[Any, int] = {}
    for mark in (BroadcastCase.objects.filter(broadcast=broadcast, state=CaseState.QUEUED)
                 .values("record__delivery").annotate(n=Count("pk"))):
        marks[mark["record__delivery"]] = mark["n"]
    return Progress(total=sum(states.values()), pending=states[CaseState.PENDING],
                    prepared=states[CaseState.QUEUED], sent=marks.get(Delivery.SENT, 0),
                    waiting=marks.get(Delivery.QUEUED, 0), failed=marks.get(Delivery.FAILED, 0),
                    skipped=states[CaseState.SKIPPED], cancelled=states[CaseState.CANCELLED],
                    withdrawn=states[CaseState.WITHDRAWN])


def of_organization(member: Member) -> Any:
    return Broadcast.objects.filter(organization_id=member.organization_id).order_by("-created")


def access_broadcast(member: Member, pk: int) -> Broadcast:
    """The member's organization's broadcast, or 404 (whether it exists elsewhere or not)."""
    found = of_organization(member).filter(pk=pk).select_related("created_by").first()
    if found is None:
        raise Http404
    return found
