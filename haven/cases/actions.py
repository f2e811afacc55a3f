"""Every change to a case goes through a function here.

Each function checks the member's right, writes the change and its audit entry
in one transaction, and refuses a stale change (the case changed meanwhile).
Views never change models directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from haven import outbox
from haven.accounts.models import Member, Organization
from haven.audit import chain
from haven.core.errors import Refusal
from haven.vault import OrgVault
from haven.vault.purposes import Lookup

from . import categories, files, search, signals, summaries
from .access import MANAGE, READ, WORK, NotAllowed, require
from .models import (
    TRANSITIONS,
    Attachment,
    Case,
    CaseRecord,
    CaseTag,
    Deadline,
    Delivery,
    OrgSettings,
    Priority,
    RecordKind,
    Reminder,
    SavedReply,
    SearchField,
    Status,
)

MAX_TEXT = 20_000
MAX_TAGS = 20
# A reply moves a new case to "waiting on requester"; from any other status the
# caseworker decides (a referred or in-progress case may not be waiting at all).
REPLY_MOVES: dict[str, str] = {Status.NEW: Status.WAITING}


class ActionError(Refusal):
    """A refusal the member can act on; the message says what to do."""


class StaleCase(ActionError):
    """The case changed after the member loaded the form."""


def _audit(case: Case, actor: Member | None, action: str, **detail: Any) -> None:
    chain.record(case.organization_id, action, actor_id=actor.pk if actor else None,
                 case_id=case.pk, detail=detail)


def _bump(case: Case, expected_version: int | None, **changes: Any) -> None:
    """Write ``changes`` if the case is still at ``expected_version``; else StaleCase."""
    now = timezone.now()
    query = Case.objects.filter(pk=case.pk)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    if not query.update(version=F("version") + 1, updated=now, **changes):
        raise StaleCase(_("Someone changed this case while you had it open. Nothing was "
                          "saved; check the case as it is now and try again."))
    case.refresh_from_db()


def _clean_text(text: str, what: str) -> str:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ActionError(_("The %(what)s is empty; write something first.") % {"what": what})
    if len(text) > MAX_TEXT:
        raise ActionError(_("The %(what)s is %(n)d characters long; the limit is %(max)d. "
                            "Shorten it or split it.") % {"what": what, "n": len(text), "max": MAX_TEXT})
    return text


def next_number(org: Organization) -> int:
    settings_row, _created = OrgSettings.objects.select_for_update().get_or_create(organization=org)
    number = settings_row.next_number
    OrgSettings.objects.filter(pk=org.pk).update(next_number=F("next_number") + 1)
    return number


def create_case(
    org: Organization, *, category: str, channel: str, summary: str,
    answers: dict[str, Any] | None = None, first_message: str = "",
    by: Member | None = None, vault: OrgVault | None = None,
    priority: int = Priority.NORMAL, lang: str = "", held: bool = False,
) -> Case:
    """Open a case. Without a member (intake) it is sealed to the organization's public key.

    ``lang`` is the language the requester wrote in, kept inside the encrypted summary.
    ``held``: arrived during a flood, kept out of the queues (see release_held).
    """
    if category not in categories.all_categories():
        raise ActionError(_("Choose one of the listed categories."))
    if by is not None:
        require(by, WORK)
    seal = _sealer(org, vault)
    with transaction.atomic():
        case = Case.objects.create(
            organization=org, number=next_number(org), category=category, channel=channel,
            priority=priority, summary=seal(summaries.pack(summary.strip()[:200] or "—", lang)),
            held=held,
        )
        if answers:
            CaseRecord.objects.create(case=case, kind=RecordKind.ANSWERS, author=by,
                                      body=seal(json.dumps(answers, ensure_ascii=False)))
        if first_message:
            CaseRecord.objects.create(case=case, kind=RecordKind.INBOUND, author=by,
                                      body=seal(_clean_text(first_message, _("message"))))
        if held:
            _audit(case, by, "case.created", channel=channel, category=category, held=True)
        else:
            _audit(case, by, "case.created", channel=channel, category=category)
    return case


def _sealer(org: Organization, vault: OrgVault | None) -> Any:
    if vault is not None:
        return vault.encrypt_text
    from haven.vault import seal_text

    public = bytes(org.public_key)
    return lambda text: seal_text(public, text)


def read_case(member: Member, vault: OrgVault, case: Case) -> list[dict[str, Any]]:
    """Decrypt a case's records for a member; the decryption is audited."""
    require(member, READ)
    with transaction.atomic():
        _audit(case, member, "case.read")
    records = []
    for rec in case.records.select_related("author").order_by("created", "pk"):
        text = vault.decrypt_text(bytes(rec.body))
        body: Any = json.loads(text) if rec.kind in JSON_KINDS else text
        records.append({"record": rec, "body": body})
    return records


JSON_KINDS = (RecordKind.ANSWERS, RecordKind.ATTACHMENT, RecordKind.DRAFT)
FILE_OPENINGS = ("view", "thumbnail", "download")


def open_file(member: Member, vault: OrgVault, case: Case, attachment: Attachment,
              how: str) -> files.OpenedFile:
    """Decrypt one attachment of ``case`` for a member; the opening is audited first."""
    require(member, READ)
    if attachment.record.case_id != case.pk or how not in FILE_OPENINGS:
        raise NotAllowed(READ)
    with transaction.atomic():
        _audit(case, member, "case.file_opened", record=attachment.record_id, how=how)
    return files.open_file(vault, attachment)


def open_all_files(member: Member, vault: OrgVault, case: Case) -> Iterator[files.OpenedFile]:
    """Every attachment of ``case``, decrypted one at a time as the caller iterates (an
    archive streams them); the opening of all of them is audited before the first."""
    require(member, READ)
    found = files.attachments_of(case)
    with transaction.atomic():
        _audit(case, member, "case.files_archived", count=len(found))
    return (files.open_file(vault, attachment) for attachment in found)


def set_status(member: Member, case: Case, status: str, version: int | None,
               vault: OrgVault | None = None) -> None:
    """Change the status; reopening with the member's ``vault`` lets channels re-arm."""
    require(member, WORK)
    if status not in TRANSITIONS.get(case.status, set()):
        raise ActionError(_("A case that is “%(from)s” cannot become “%(to)s”.") % {
            "from": Status(case.status).label, "to": Status(status).label
            if status in Status.values else status})
    old = case.status
    with transaction.atomic():
        closed_at = timezone.now() if status == Status.CLOSED else None
        _bump(case, version, status=status, closed_at=closed_at)
        _audit(case, member, "case.status", old=old, new=status)
        if status == Status.CLOSED:
            signals.closed.send(sender=Case, case=case)
    if old == Status.CLOSED and vault is not None:
        signals.reopened.send(sender=Case, case=case, vault=vault)


def assign(member: Member, case: Case, assignee: Member | None, version: int | None) -> None:
    require(member, WORK)
    if assignee is not None:
        if assignee.organization_id != case.organization_id or not assignee.is_active:
            raise ActionError(_("Choose a member of your organization."))
        if assignee.pk != member.pk:
            require(member, MANAGE)
    elif case.assignee_id not in (None, member.pk):
        require(member, MANAGE)
    with transaction.atomic():
        _bump(case, version, assignee=assignee)
        _audit(case, member, "case.assigned", assignee=assignee.pk if assignee else None)


def set_priority(member: Member, case: Case, priority: int, version: int | None) -> None:
    require(member, WORK)
    if priority not in Priority.values:
        raise ActionError(_("Choose one of the listed priorities."))
    with transaction.atomic():
        _bump(case, version, priority=priority)
        _audit(case, member, "case.priority", priority=priority)


def set_category(member: Member, case: Case, category: str, version: int | None) -> None:
    require(member, WORK)
    if category not in categories.all_categories():
        raise ActionError(_("Choose one of the listed categories."))
    with transaction.atomic():
        _bump(case, version, category=category)
        _audit(case, member, "case.category", category=category)


def set_tags(member: Member, vault: OrgVault, case: Case, tags: list[str], version: int | None) -> None:
    require(member, WORK)
    clean = clean_tags(tags)
    if len(clean) > MAX_TAGS:
        raise ActionError(_("A case can have at most %(n)d tags.") % {"n": MAX_TAGS})
    with transaction.atomic():
        _bump(case, version, tags=vault.encrypt_text(json.dumps(clean, ensure_ascii=False)))
        _write_tag_hashes(vault, case, clean)
        _audit(case, member, "case.tags", count=len(clean))


def _write_tag_hashes(vault: OrgVault, case: Case, tags: list[str]) -> None:
    CaseTag.objects.filter(case=case).delete()
    CaseTag.objects.bulk_create(
        CaseTag(case=case, organization_id=case.organization_id, tag=tag_hash(vault, t))
        for t in tags
    )


def rekey_tags(vault: OrgVault, case: Case) -> None:
    """Hash a case's tags again from its encrypted list (after the tag key changed).

    Run with the re-indexing of a case; neither the version nor the audit trail
    changes, since the tags themselves do not."""
    tags = json.loads(vault.decrypt_text(bytes(case.tags))) if case.tags else []
    _write_tag_hashes(vault, case, tags)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags as they are stored: trimmed, lower case, at most 40 characters, sorted, once each."""
    return sorted({t.strip().lower()[:40] for t in tags if t.strip()})


def tag_hash(vault: OrgVault, tag: str) -> str:
    return vault.keyed(Lookup.TAG, tag.strip().lower())


def add_note(member: Member, vault: OrgVault, case: Case, text: str) -> CaseRecord:
    require(member, WORK)
    text = _clean_text(text, _("note"))
    with transaction.atomic():
        rec = CaseRecord.objects.create(case=case, kind=RecordKind.NOTE, author=member,
                                        body=vault.encrypt_text(text))
        _bump(case, None)
        search.index_text(vault, case, text, SearchField.NOTE)
        _audit(case, member, "case.note", record=rec.pk)
    return rec


def reply(member: Member, vault: OrgVault, case: Case, text: str) -> CaseRecord:
    """Record a reply and queue it for the channel the case came from."""
    require(member, WORK)
    text = _clean_text(text, _("reply"))
    if case.erased:
        raise ActionError(_("The requester erased this case; replies cannot reach them."))
    handler = outbox.handler_for(case.channel)
    if handler is None:
        raise ActionError(_("This case was recorded on the desk and has no channel to reply "
                            "through. Add a private note instead."))
    handler.check(text)
    with transaction.atomic():
        rec = CaseRecord.objects.create(case=case, kind=RecordKind.OUTBOUND, author=member,
                                        body=vault.encrypt_text(text), delivery=Delivery.QUEUED)
        changes: dict[str, Any] = {}
        if case.first_reply_at is None:
            changes["first_reply_at"] = timezone.now()
        old_status = case.status
        if old_status in REPLY_MOVES:
            changes["status"] = REPLY_MOVES[old_status]
        _bump(case, None, **changes)
        outbox.enqueue(case, rec, text)
        search.index_text(vault, case, text, SearchField.REPLY)
        _audit(case, member, "case.reply", record=rec.pk, channel=case.channel)
        if case.status != old_status:
            _audit(case, member, "case.status", old=old_status, new=case.status, by="reply")
    return rec


def save_draft(member: Member, vault: OrgVault, case: Case, document: str, text: str,
               version: int | None) -> CaseRecord:
    """Write a drafted document (desk/documents.py) as the case's one draft of ``document``.

    Encrypted like every record, never indexed for search (it is built from the answers),
    audited with the document's id only. A stale ``version`` refuses and changes nothing.
    """
    require(member, WORK)
    text = _clean_text(text, _("document"))
    if not document.replace("-", "").isalnum() or len(document) > 60:
        raise ValueError(f"not a document id: {document!r}")
    body = vault.encrypt_text(json.dumps({"document": document, "text": text},
                                         ensure_ascii=False))
    with transaction.atomic():
        _bump(case, version)
        rec = find_draft(vault, case, document)
        if rec is None:
            rec = CaseRecord.objects.create(case=case, kind=RecordKind.DRAFT, author=member,
                                            body=body)
        else:
            CaseRecord.objects.filter(pk=rec.pk).update(body=body, author=member,
                                                        created=timezone.now())
        _audit(case, member, "draft.saved", record=rec.pk, document=document)
    return rec


def find_draft(vault: OrgVault, case: Case, document: str) -> CaseRecord | None:
    """The case's saved draft of ``document``, if any (drafts are few: decrypted to find it)."""
    for rec in CaseRecord.objects.filter(case=case, kind=RecordKind.DRAFT).order_by("pk"):
        if json.loads(vault.decrypt_text(bytes(rec.body))).get("document") == document:
            return rec
    return None


DRAFT_FORMATS = ("pdf", "odt", "txt")


def export_draft(member: Member, case: Case, record: CaseRecord, how: str) -> None:
    """A member takes a draft out of Haven as a file: audited before the file is made."""
    require(member, READ)
    if record.case_id != case.pk or record.kind != RecordKind.DRAFT or how not in DRAFT_FORMATS:
        raise NotAllowed(READ)
    with transaction.atomic():
        _audit(case, member, "draft.exported", record=record.pk, how=how)


def add_inbound(case: Case, text: str, *, kind: str = RecordKind.INBOUND) -> CaseRecord:
    """A message from the requester (intake, bot): sealed, no member present."""
    from haven.vault import seal_text

    text = _clean_text(text, _("message"))
    with transaction.atomic():
        rec = CaseRecord.objects.create(case=case, kind=kind,
                                        body=seal_text(bytes(case.organization.public_key), text))
        changes: dict[str, Any] = {"indexed": False}
        if case.status == Status.WAITING:
            changes["status"] = Status.IN_PROGRESS
        _bump(case, None, **changes)
        _audit(case, None, "case.inbound", record=rec.pk)
    return rec


def add_deadline(
    member: Member, vault: OrgVault, case: Case, due: datetime, reason: str, *,
    rule: str = "", owner: Member | None = None, confirmed: bool = True,
) -> Deadline:
    require(member, WORK)
    reason = _clean_text(reason, _("reason"))
    owner = owner or member
    if owner.organization_id != case.organization_id:
        raise ActionError(_("Choose a member of your organization."))
    with transaction.atomic():
        deadline = Deadline.objects.create(case=case, due=due, sealed_rule=vault.encrypt_text(
            padded_rule(rule)), owner=owner, reason=vault.encrypt_text(reason), confirmed=confirmed)
        _refresh_next_due(case)
        # Neither the rule nor the date: together they give back an answer's date (L-2).
        _audit(case, member, "deadline.added", deadline=deadline.pk, confirmed=confirmed)
    return deadline


# Rule ids are padded to one length before they are encrypted, so the ciphertext's
# length does not tell which rule it is.
RULE_PAD = 48


def padded_rule(rule: str) -> str:
    if len(rule) > RULE_PAD or " " in rule:
        raise ValueError(f"not a rule id: {rule!r}")
    return rule.ljust(RULE_PAD)


def deadline_rule(vault: OrgVault, deadline: Deadline) -> str:
    """The legal rule a deadline came from ("" for one a member set by hand)."""
    if not deadline.sealed_rule:
        return ""
    return vault.decrypt_text(bytes(deadline.sealed_rule)).rstrip(" ")


def propose_deadline(case: Case, due: datetime, reason: str, rule: str) -> Deadline:
    """A deadline proposed by a rule (intake): sealed, waiting for a caseworker."""
    from haven.vault import seal_text

    public = bytes(case.organization.public_key)
    with transaction.atomic():
        deadline = Deadline.objects.create(
            case=case, due=due, confirmed=False, sealed_rule=seal_text(public, padded_rule(rule)),
            reason=seal_text(public, reason),
        )
        _audit(case, None, "deadline.proposed", deadline=deadline.pk)
    return deadline


def confirm_deadline(member: Member, deadline: Deadline) -> None:
    require(member, WORK)
    with transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk).update(confirmed=True, owner=member)
        _refresh_next_due(deadline.case)
        _audit(deadline.case, member, "deadline.confirmed", deadline=deadline.pk)


def complete_deadline(member: Member, deadline: Deadline) -> None:
    require(member, WORK)
    with transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk, done_at__isnull=True).update(done_at=timezone.now())
        _refresh_next_due(deadline.case)
        _audit(deadline.case, member, "deadline.done", deadline=deadline.pk)


def _refresh_next_due(case: Case) -> None:
    due = Deadline.objects.filter(case=case, done_at__isnull=True, confirmed=True).aggregate(
        m=Min("due"))["m"]
    Case.objects.filter(pk=case.pk).update(next_due=due, updated=timezone.now(),
                                           version=F("version") + 1)
    case.refresh_from_db()


def burn(member: Member | None, case: Case, *, by_requester: bool = False) -> None:
    """Destroy a case's content now: records, files, search entries, pending messages.

    The case row stays as a tombstone so numbering and the audit trail hold.
    """
    if member is not None:
        require(member, MANAGE)
    with transaction.atomic():
        purge_content(case)
        Case.objects.filter(pk=case.pk).update(
            erased=by_requester, status=Status.CLOSED, closed_at=timezone.now(),
            summary=b"", tags=None, version=F("version") + 1, updated=timezone.now(),
            assignee=None, next_due=None,
        )
        _audit(case, member, "case.burned", by_requester=by_requester)


def purge_content(case: Case) -> None:
    files.delete_files(case)
    CaseRecord.objects.filter(case=case).delete()
    CaseTag.objects.filter(case=case).delete()
    search.forget(case)
    case.deadlines.all().delete()
    outbox.cancel(case)
    signals.content_purged.send(sender=Case, case=case)


def purge_expired(case: Case, retention_days: int) -> bool:
    """Delete a case closed longer ago than ``retention_days`` (the worker); False if it was
    reopened (or is gone) since the worker listed it."""
    cutoff = timezone.now() - timedelta(days=retention_days)
    with transaction.atomic():
        if not Case.objects.select_for_update().filter(
                pk=case.pk, status=Status.CLOSED, closed_at__lt=cutoff).exists():
            return False
        purge_content(case)
        _audit(case, None, "case.purged", retention_days=retention_days)
        case.delete()
    return True


def add_attachment(case: Case, *, name: str, kind: str, data: bytes, channel: str) -> Attachment:
    """A file from the requester (no member present): sealed to the organization, written,
    recorded on the case and audited. The file is removed again if the transaction fails."""
    from haven.vault import padded_length, seal, seal_text

    public = bytes(case.organization.public_key)
    storage = files.write(seal(public, data))
    # The exact size is sealed in the record; the clear column keeps only the size class.
    meta = {"name": name, "type": kind, "size": len(data), "storage": storage}
    try:
        with transaction.atomic():
            record = CaseRecord.objects.create(
                case=case, kind=RecordKind.ATTACHMENT,
                body=seal_text(public, json.dumps(meta, ensure_ascii=False)))
            attachment = Attachment.objects.create(record=record, storage_name=storage,
                                                   size=padded_length(len(data)))
            _bump(case, None)
            _audit(case, None, "case.attachment", record=record.pk, channel=channel)
    except BaseException:
        files.discard(storage)
        raise
    return attachment


def set_fraud_suspected(member: Member, case: Case, suspected: bool) -> None:
    """Coordinators and administrators mark (or clear) a case as suspected fraud or duplicate."""
    require(member, MANAGE)
    if case.organization_id != member.organization_id:
        raise NotAllowed(MANAGE)
    with transaction.atomic():
        _bump(case, None, fraud_suspected=suspected)
        _audit(case, member, "case.fraud", suspected=suspected)


def reseal(vault: OrgVault, case: Case) -> None:
    """Re-encrypt what intake sealed under the faster organization record key.

    Sealed boxes need an X25519 operation per opening; a queue of 50 cases would
    pay it 50 times on every view. A member's unlocked key allows the switch. The
    content does not change, so neither the version nor the audit trail does.
    """
    reseal_cases(vault, [case])
    for rec in CaseRecord.objects.filter(case=case).only("pk", "body"):
        if vault.is_sealed(bytes(rec.body)):
            CaseRecord.objects.filter(pk=rec.pk).update(body=vault.encrypt(vault.decrypt(bytes(rec.body))))


def reseal_cases(vault: OrgVault, cases: Iterable[Case]) -> None:
    """Re-encrypt sealed summaries of cases about to be shown (see reseal)."""
    for case in cases:
        if case.summary and vault.is_sealed(bytes(case.summary)):
            case.summary = vault.encrypt(vault.decrypt(bytes(case.summary)))
            Case.objects.filter(pk=case.pk).update(summary=case.summary)


def read_queue(member: Member, cases: list[Case]) -> None:
    """A member was shown these cases' summaries (a queue or search results): audited."""
    require(member, READ)
    if cases:
        with transaction.atomic():
            chain.record(member.organization_id, "queue.read", actor_id=member.pk,
                         detail={"cases": [c.pk for c in cases]})


def save_reply(member: Member, vault: OrgVault, title: str, body: str) -> SavedReply:
    """A ready reply for the organization's caseworkers, encrypted under its key."""
    require(member, MANAGE)
    with transaction.atomic():
        saved = SavedReply.objects.create(organization_id=member.organization_id,
                                          title=vault.encrypt_text(title),
                                          body=vault.encrypt_text(body))
        chain.record(member.organization_id, "reply.saved", actor_id=member.pk,
                     detail={"reply": saved.pk})
    return saved


def delete_reply(member: Member, saved: SavedReply) -> None:
    require(member, MANAGE)
    if saved.organization_id != member.organization_id:
        raise NotAllowed(MANAGE)
    pk = saved.pk
    with transaction.atomic():
        saved.delete()
        chain.record(member.organization_id, "reply.deleted", actor_id=member.pk,
                     detail={"reply": pk})


def dismiss_reminder(member: Member, reminder_id: int) -> bool:
    """Take a notice of the member's organization off the desk; False if there was none."""
    require(member, READ)
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(
            pk=reminder_id, organization_id=member.organization_id, dismissed=False).first()
        if reminder is None:
            return False
        Reminder.objects.filter(pk=reminder.pk).update(dismissed=True)
        chain.record(member.organization_id, "reminder.dismissed", actor_id=member.pk,
                     case_id=reminder.case_id, detail={"reminder": reminder.pk})
    return True


def set_retention(member: Member, days: int) -> None:
    """How many days closed cases are kept before the worker deletes them."""
    require(member, MANAGE)
    with transaction.atomic():
        OrgSettings.objects.update_or_create(organization_id=member.organization_id,
                                             defaults={"retention_days": days})
        chain.record(member.organization_id, "settings.retention", actor_id=member.pk,
                     detail={"days": days})


def release_held(member: Member, numbers: list[int] | None = None) -> int:
    """Put held cases (all, or those ``numbers``) into the queues; returns how many."""
    require(member, MANAGE)
    held = Case.objects.filter(organization_id=member.organization_id, held=True)
    if numbers is not None:
        held = held.filter(number__in=numbers)
    with transaction.atomic():
        cases = list(held.select_for_update())
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(held=False, updated=timezone.now())
        for case in cases:
            _audit(case, member, "case.released")
    return len(cases)


def discard_held(member: Member) -> int:
    """Delete every held case with its content (a flood of fakes); returns how many."""
    require(member, MANAGE)
    with transaction.atomic():
        cases = list(Case.objects.select_for_update().filter(
            organization_id=member.organization_id, held=True))
        for case in cases:
            purge_content(case)
            _audit(case, member, "case.discarded")
            case.delete()
    return len(cases)
