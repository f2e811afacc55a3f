"""Every change to a case goes through a function here.

Each function checks the member's right, writes the change and its audit entry
in one transaction, and refuses a stale change (the case changed meanwhile).
Views never change models directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Min
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from haven import outbox
from haven import vault as vaults
from haven.accounts.models import Member, Organization, Role, Team, TeamKey
from haven.audit import chain
from haven.core.errors import Refusal
from haven.outbox import spool as outbox_spool
from haven.vault import CaseVault, KeyRing, OrgVault
from haven.vault.purposes import Lookup

from . import categories, fair, files, replies, search, signals, summaries
from .access import MANAGE, READ, WORK, NotAllowed, require
from .keys import case_public_key, case_vault, open_cases, readable_cases, try_case_vault
from .models import (
    TRANSITIONS,
    Attachment,
    Case,
    CaseKey,
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


# Actions whose actor may not read the case afterwards (or not yet): they open its key
# themselves first (_adopted), which is the stronger check.
_KEY_CHANGES = frozenset({"case.created", "case.moved", "case.restricted", "case.unrestricted",
                          "case.rekeyed"})


def _audit(case: Case, actor: Member | None, action: str, **detail: Any) -> None:
    """The audit entry of a change, inside its transaction. A member's change of a case
    outside their teams is refused here, as a 404 (every action writes an entry)."""
    if (actor is not None and action not in _KEY_CHANGES
            and not readable_cases(actor).filter(pk=case.pk).exists()):
        raise Http404
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
    team: Team | None = None,
) -> Case:
    """Open a case with a key of its own, sealed to its team (and the recovery key).

    Without a member (intake) its records are sealed to the case's public key; the team is
    the one that takes ``category`` (haven.cases.teams.team_for_category). A member on the
    desk may name a ``team`` they are in; by default the category's team if they hold its
    key, else their first team.
    ``lang`` is the language the requester wrote in, kept inside the encrypted summary.
    ``held``: arrived during a flood, kept out of the queues (see release_held).
    """
    if category not in categories.all_categories():
        raise ActionError(_("Choose one of the listed categories."))
    if by is not None:
        require(by, WORK)
    team = _team_for_new_case(org, category, by, vault, team)
    keys = vaults.generate_keypair()
    case_vault_ = CaseVault(keys.private, 0)
    # The case's key pair is made here, so its records go straight under its record key
    # (faster to open than sealed boxes); only the sealed copies of the key are kept.
    seal = case_vault_.encrypt_text
    with transaction.atomic():
        case = Case.objects.create(
            organization=org, number=next_number(org), category=category, channel=channel,
            priority=priority, summary=seal(summaries.pack(summary.strip()[:200] or "—", lang)),
            held=held, team=team, public_key=keys.public,
        )
        _seal_case_key(case, keys.private, team=team)
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
            fair.assign_fairly(case)  # if the team assigns automatically
    return case


def _sealer(public: bytes) -> Any:
    from haven.vault import seal_text

    return lambda text: seal_text(public, text)


def _team_for_new_case(org: Organization, category: str, by: Member | None,
                       vault: OrgVault | None, team: Team | None) -> Team | None:
    from .teams import team_for_category

    if team is not None:
        if team.organization_id != org.pk:
            raise ActionError(_("Choose one of your teams."))
        if by is not None and not (isinstance(vault, KeyRing) and vault.holds(team.pk)):
            raise ActionError(_("You can open a case only in a team you are in."))
        return team
    routed = team_for_category(org, category)
    if by is None or routed is None or not isinstance(vault, KeyRing) or vault.holds(routed.pk):
        return routed
    mine = sorted(vault.team_ids)
    if not mine:
        raise ActionError(_("You are in no team, so a case you open would be readable by "
                            "nobody; ask an administrator to add you to a team."))
    return Team.objects.get(pk=mine[0])


def _recovery_public(case: Case) -> bytes | None:
    org = case.organization
    return bytes(org.recovery_public_key) if org.recovery_public_key else None


def _seal_case_key(case: Case, private: bytes, *, team: Team | None,
                   members: Iterable[Member] = ()) -> None:
    """Write the case's sealed keys: to ``team`` (none for a restricted case), to each of
    ``members`` and to the recovery key. Earlier copies are replaced."""
    CaseKey.objects.filter(case=case).delete()
    rows = []
    if team is not None:
        rows.append(CaseKey(case=case, team=team,
                            sealed_private_key=vaults.seal(bytes(team.public_key), private)))
    for person in members:
        if person.public_key:
            rows.append(CaseKey(case=case, member=person,
                                sealed_private_key=vaults.seal(bytes(person.public_key), private)))
    recovery = _recovery_public(case)
    if recovery is not None:
        rows.append(CaseKey(case=case, recovery=True,
                            sealed_private_key=vaults.seal(recovery, private)))
    CaseKey.objects.bulk_create(rows)


def read_case(member: Member, vault: OrgVault, case: Case) -> list[dict[str, Any]]:
    """Decrypt a case's records for a member; the decryption is audited."""
    require(member, READ)
    vault = case_vault(vault, case)
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
    vault = case_vault(vault, case)
    with transaction.atomic():
        _audit(case, member, "case.file_opened", record=attachment.record_id, how=how)
    return files.open_file(vault, attachment)


def open_all_files(member: Member, vault: OrgVault, case: Case) -> Iterator[files.OpenedFile]:
    """Every attachment of ``case``, decrypted one at a time as the caller iterates (an
    archive streams them); the opening of all of them is audited before the first."""
    require(member, READ)
    vault = case_vault(vault, case)
    found = files.attachments_of(case)
    with transaction.atomic():
        _audit(case, member, "case.files_archived", count=len(found))
    return (files.open_file(vault, attachment) for attachment in found)


EXPORTS = ("pdf", "archive")


def export_case(member: Member, vault: OrgVault, case: Case, what: str,
                notes: int) -> tuple[list[dict[str, Any]], list[files.OpenedFile]]:
    """A case's records and files, decrypted for a case file (``what``: pdf or archive).

    Needs the right to work on cases; the export (what, how many chosen notes, how many
    files) is audited as ``case.exported`` before anything is decrypted.
    """
    require(member, WORK, _("Only a caseworker or coordinator can export a case file."))
    if what not in EXPORTS or case.erased:
        raise NotAllowed(WORK)
    vault = case_vault(vault, case)
    found = files.attachments_of(case)
    with transaction.atomic():
        _audit(case, member, "case.exported", what=what, notes=notes, files=len(found))
    records = []
    for rec in case.records.select_related("author").order_by("created", "pk"):
        text = vault.decrypt_text(bytes(rec.body))
        body: Any = json.loads(text) if rec.kind in (RecordKind.ANSWERS, RecordKind.ATTACHMENT) else text
        records.append({"record": rec, "body": body})
    return records, [files.open_file(vault, attachment) for attachment in found]


def export_metadata(member: Member) -> Iterator[Case]:
    """The organization's cases for its own reporting (metadata only, no content);
    needs the coordinator's right and is audited as ``case.exported`` (no case)."""
    require(member, MANAGE, _("Only a coordinator can export the list of cases."))
    cases = readable_cases(member).filter(held=False)  # the member's teams' cases only
    with transaction.atomic():
        chain.record(member.organization_id, "case.exported", actor_id=member.pk,
                     detail={"what": "csv", "count": cases.count()})
    return cases.order_by("number").iterator(chunk_size=2000)


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


def assign(member: Member, case: Case, assignee: Member | None, version: int | None,
           ring: OrgVault | None = None) -> None:
    """Assign a case. A volunteer (or anyone, on a restricted case) reads it through the
    case's key sealed to them, so assigning them needs the assigner's ``ring``."""
    require(member, WORK)
    if assignee is not None:
        if assignee.organization_id != case.organization_id or not assignee.is_active:
            raise ActionError(_("Choose a member of your organization."))
        if assignee.pk != member.pk:
            require(member, MANAGE)
    elif case.assignee_id not in (None, member.pk):
        require(member, MANAGE)
    needs_key = assignee is not None and (assignee.role == Role.VOLUNTEER or case.restricted)
    opened: CaseVault | None = None
    if needs_key:
        opened = try_case_vault(ring, case) if ring is not None else None
        if opened is None or not case.public_key:
            opened = _adopted(member, ring, case)
    with transaction.atomic():
        previous = case.assignee_id
        _bump(case, version, assignee=assignee)
        if opened is not None and assignee is not None and assignee.public_key:
            CaseKey.objects.filter(case=case, member=assignee).delete()
            CaseKey.objects.create(case=case, member=assignee, sealed_private_key=vaults.seal(
                bytes(assignee.public_key), opened.private_key))
        if assignee is not None and case.team_id is not None:  # fair assignment's tie-break
            TeamKey.objects.filter(team_id=case.team_id, member=assignee).update(
                last_assigned=timezone.now())
        if previous and previous != (assignee.pk if assignee else None) and not case.restricted:
            # A volunteer who is no longer assigned no longer reads the case.
            CaseKey.objects.filter(case=case, member_id=previous,
                                   member__role=Role.VOLUNTEER).delete()
        _audit(case, member, "case.assigned", assignee=assignee.pk if assignee else None,
               key_sealed=opened is not None)


def assign_automatically(case: Case, team: Team, member: Member, actor: Member | None) -> bool:
    """Fair assignment's write (haven.cases.fair): give an unassigned case to ``member``.

    A conditional update, so a hand assignment made meanwhile wins (returns False); the
    audit entry is what tells the assignee (haven.notify)."""
    now = timezone.now()
    if not Case.objects.filter(pk=case.pk, assignee__isnull=True).update(
            assignee=member, version=F("version") + 1, updated=now):
        return False
    TeamKey.objects.filter(team=team, member=member).update(last_assigned=now)
    chain.record(case.organization_id, "case.assigned", actor_id=actor.pk if actor else None,
                 case_id=case.pk, detail={"assignee": member.pk, "auto": True})
    case.refresh_from_db()
    return True


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
    sealer = case_vault(vault, case)
    with transaction.atomic():
        _bump(case, version, tags=sealer.encrypt_text(json.dumps(clean, ensure_ascii=False)))
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
    opener = case_vault(vault, case)
    tags = json.loads(opener.decrypt_text(bytes(case.tags))) if case.tags else []
    _write_tag_hashes(vault, case, tags)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags as they are stored: trimmed, lower case, at most 40 characters, sorted, once each."""
    return sorted({t.strip().lower()[:40] for t in tags if t.strip()})


def tag_hash(vault: OrgVault, tag: str) -> str:
    """Under the organization key (a CaseVault is not: tags stay organization-wide, see
    docs/threat-model.md, "Teams")."""
    if isinstance(vault, CaseVault):
        raise TypeError("tag hashes are under the organization key")
    return vault.keyed(Lookup.TAG, tag.strip().lower())


def add_note(member: Member, vault: OrgVault, case: Case, text: str) -> CaseRecord:
    require(member, WORK)
    text = _clean_text(text, _("note"))
    with transaction.atomic():
        rec = CaseRecord.objects.create(case=case, kind=RecordKind.NOTE, author=member,
                                        body=case_vault(vault, case).encrypt_text(text))
        _bump(case, None)
        search.index_text(vault, case, text, SearchField.NOTE)
        _audit(case, member, "case.note", record=rec.pk)
    return rec


def reply(member: Member, vault: OrgVault, case: Case, text: str,
          file: files.FileLike | None = None, *, code: str = "case.reply",
          **detail: Any) -> CaseRecord:
    """Record a reply and queue it for the channel the case came from.

    With ``file`` (already cleaned, see haven.intake.attachments) the reply carries it:
    the file is kept on the case as an attachment by the member, and a copy is spooled,
    encrypted with the outbox key, for the channel (haven/outbox/spool.py). The text
    may then be empty. ``code`` and ``detail``: the audit entry (see broadcast_reply).
    """
    require(member, WORK)
    text = _clean_text(text, _("reply")) if file is None or (text or "").strip() else ""
    if case.erased:
        raise ActionError(_("The requester erased this case; replies cannot reach them."))
    handler = outbox.handler_for(case.channel)
    if handler is None:
        raise ActionError(_("This case was recorded on the desk and has no channel to reply "
                            "through. Add a private note instead."))
    handler.check(text)
    written = _spool(case_vault(vault, case), file)
    try:
        with transaction.atomic():
            return _write_reply(member, vault, case, text, file, written, code, **detail)
    except BaseException:
        spooled, storage = written
        if storage:
            files.discard(storage)
        if spooled:
            outbox_spool.remove(spooled)
        raise


def _spool(vault: OrgVault, file: files.FileLike | None) -> tuple[str, str]:
    """Write the outgoing file twice, before the transaction: spooled for the channel, and
    stored on the case under the organization key. ("", "") without a file."""
    if file is None:
        return "", ""
    spooled = outbox_spool.write(file.data)
    try:
        return spooled, files.write(vault.encrypt(file.data))
    except BaseException:
        outbox_spool.remove(spooled)
        raise


def _write_reply(member: Member, vault: OrgVault, case: Case, text: str,
                 file: files.FileLike | None, written: tuple[str, str],
                 code: str = "case.reply", **detail: Any) -> CaseRecord:
    opened = case_vault(vault, case)
    rec = CaseRecord.objects.create(case=case, kind=RecordKind.OUTBOUND, author=member,
                                    body=opened.encrypt_text(text), delivery=Delivery.QUEUED)
    changes: dict[str, Any] = {}
    old_status = case.status
    # A broadcast is news for many cases, not an answer to this one: it neither counts as
    # the first reply nor says the case now waits on the requester.
    if code == "case.reply" and case.first_reply_at is None:
        changes["first_reply_at"] = timezone.now()
    if code == "case.reply" and old_status in REPLY_MOVES:
        changes["status"] = REPLY_MOVES[old_status]
    _bump(case, None, **changes)
    extra: dict[str, Any] = {}
    if file is not None:
        spooled, storage = written
        _sent_file(member, opened, case, file, storage)
        extra["file"] = {"spool": spooled, "name": file.name, "type": file.type}
    outbox.enqueue(case, rec, text, **extra)
    if text:
        search.index_text(vault, case, text, SearchField.REPLY)
    _audit(case, member, code, record=rec.pk, channel=case.channel, **detail, **(
        {"file": True} if file is not None else {}))
    if case.status != old_status:
        _audit(case, member, "case.status", old=old_status, new=case.status, by="reply")
    return rec


def broadcast_reply(member: Member, vault: OrgVault, case: Case, text: str,
                    broadcast: int) -> CaseRecord:
    """One case's message of a broadcast (haven/broadcast): the ordinary reply path (record
    under the case key, outbox row, search index), audited as ``case.broadcast``."""
    require(member, MANAGE)
    return reply(member, vault, case, text, code="case.broadcast", broadcast=broadcast)


def withdraw_reply(member: Member, case: Case, record: CaseRecord, **detail: Any) -> bool:
    """Take a queued reply back out of the outbox before any worker has claimed it.

    A row a worker holds may be on its way to Telegram and is left to finish (it is then
    marked delivered as usual). True if the row was removed; the record then reads "not
    delivered: withdrawn" and the case's audit trail says so."""
    require(member, WORK)
    with transaction.atomic():
        if record.case_id != case.pk or not outbox.withdraw(record.pk):
            return False
        CaseRecord.objects.filter(pk=record.pk, delivery=Delivery.QUEUED).update(
            delivery=Delivery.FAILED, delivery_error="withdrawn")
        _audit(case, member, "case.reply_withdrawn", record=record.pk, **detail)
    return True


def _sent_file(member: Member, vault: OrgVault, case: Case, file: files.FileLike,
               storage: str) -> None:
    """The file a member sent, kept on the case like a requester's (it shows as sent)."""
    from haven.vault import padded_length

    meta = {"name": file.name, "type": file.type, "size": len(file.data), "storage": storage,
            "sent": True}
    record = CaseRecord.objects.create(case=case, kind=RecordKind.ATTACHMENT, author=member,
                                       body=vault.encrypt_text(json.dumps(meta, ensure_ascii=False)))
    Attachment.objects.create(record=record, storage_name=storage,
                              size=padded_length(len(file.data)))
    _audit(case, member, "case.attachment", record=record.pk, channel=case.channel, sent=True)


def save_draft(member: Member, vault: OrgVault, case: Case, document: str, text: str,
               version: int | None) -> CaseRecord:
    """Write a drafted document (desk/documents.py) as the case's one draft of ``document``.

    Encrypted like every record, never indexed for search (it is built from the answers),
    audited with the document's id only. A stale ``version`` refuses and changes nothing.
    """
    require(member, WORK)
    vault = case_vault(vault, case)
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
    vault = case_vault(vault, case)
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
                                        body=seal_text(case_public_key(case), text))
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
    sealer = case_vault(vault, case)
    with transaction.atomic():
        deadline = Deadline.objects.create(case=case, due=due, sealed_rule=sealer.encrypt_text(
            padded_rule(rule)), owner=owner, reason=sealer.encrypt_text(reason), confirmed=confirmed)
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
    return case_vault(vault, deadline.case).decrypt_text(bytes(deadline.sealed_rule)).rstrip(" ")


def propose_deadline(case: Case, due: datetime, reason: str, rule: str) -> Deadline:
    """A deadline proposed by a rule (intake): sealed, waiting for a caseworker."""
    from haven.vault import seal_text

    public = case_public_key(case)
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

    public = case_public_key(case)
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
    vault = case_vault(vault, case)
    for rec in CaseRecord.objects.filter(case=case).only("pk", "body"):
        if vault.is_sealed(bytes(rec.body)):
            CaseRecord.objects.filter(pk=rec.pk).update(body=vault.encrypt(vault.decrypt(bytes(rec.body))))


def reseal_cases(vault: OrgVault, cases: Iterable[Case]) -> None:
    """Re-encrypt sealed summaries of cases about to be shown (see reseal)."""
    cases = list(cases)
    opened = open_cases(vault, cases)
    for case in cases:
        sealer = opened.get(case.pk)
        if sealer is not None and case.summary and sealer.is_sealed(bytes(case.summary)):
            case.summary = sealer.encrypt(sealer.decrypt(bytes(case.summary)))
            Case.objects.filter(pk=case.pk).update(summary=case.summary)


def read_queue(member: Member, cases: list[Case]) -> None:
    """A member was shown these cases' summaries (a queue or search results): audited."""
    require(member, READ)
    if cases:
        with transaction.atomic():
            chain.record(member.organization_id, "queue.read", actor_id=member.pk,
                         detail={"cases": [c.pk for c in cases]})


MAX_TITLE = 120


class StaleReply(ActionError):
    """The ready reply changed (or went) after the member loaded the edit form."""


def _reply_content(title: str, versions: dict[str, str], category: str) -> dict[str, str]:
    """Check a ready reply as a caseworker wrote it; refuse with what to do, change nothing."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise ActionError(_("Give the ready reply a title of at most %(n)d characters.")
                          % {"n": MAX_TITLE})
    if category and category not in categories.all_categories():
        raise ActionError(_("Choose one of the categories, or none."))
    kept = {lang: text.strip() for lang, text in versions.items() if text.strip()}
    if not kept:
        raise ActionError(_("Write the text in at least one language: Russian, Ukrainian or "
                            "English. A version left empty is not saved."))
    for text in kept.values():
        if len(text) > MAX_TEXT:
            raise ActionError(_("A version is longer than %(n)d characters. Shorten it.")
                              % {"n": MAX_TEXT})
        unknown = replies.unknown_variables(text)
        if unknown:
            raise ActionError(_("Haven cannot fill %(unknown)s. Use only %(known)s, or remove the "
                                "braces.") % {
                "unknown": ", ".join("{" + name + "}" for name in unknown),
                "known": ", ".join("{" + name + "}" for name in replies.VARIABLES)})
    return {"title": title, "body": replies.pack(kept), "category": category}


def save_reply(member: Member, vault: OrgVault, title: str, versions: dict[str, str],
               category: str = "") -> SavedReply:
    """A ready reply for the organization's caseworkers, encrypted under its key."""
    require(member, MANAGE)
    content = _reply_content(title, versions, category)
    with transaction.atomic():
        saved = SavedReply.objects.create(organization_id=member.organization_id,
                                          title=vault.encrypt_text(content["title"]),
                                          body=vault.encrypt_text(content["body"]),
                                          category=content["category"])
        chain.record(member.organization_id, "reply.saved", actor_id=member.pk,
                     detail={"reply": saved.pk})
    return saved


def edit_reply(member: Member, vault: OrgVault, saved: SavedReply, title: str,
               versions: dict[str, str], category: str, version: int) -> None:
    """Replace a ready reply's title, versions and category, unless someone changed it since."""
    require(member, MANAGE)
    if saved.organization_id != member.organization_id:
        raise NotAllowed(MANAGE)
    content = _reply_content(title, versions, category)
    with transaction.atomic():
        changed = SavedReply.objects.filter(pk=saved.pk, version=version).update(
            title=vault.encrypt_text(content["title"]), body=vault.encrypt_text(content["body"]),
            category=content["category"], version=F("version") + 1, updated=timezone.now())
        if not changed:
            raise StaleReply(_("Someone changed or deleted this ready reply while you were editing "
                              "it; nothing was saved. Its current text is shown: make your "
                              "change again."))
        chain.record(member.organization_id, "reply.edited", actor_id=member.pk,
                     detail={"reply": saved.pk})
    saved.refresh_from_db()


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
            pk=reminder_id, organization_id=member.organization_id, dismissed=False,
            case__in=readable_cases(member)).first()
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
    held = readable_cases(member).filter(held=True)  # the member's teams' only
    if numbers is not None:
        held = held.filter(number__in=numbers)
    with transaction.atomic():
        cases = list(held.select_for_update())
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(held=False, updated=timezone.now())
        for case in cases:
            _audit(case, member, "case.released")
            case.held = False
            fair.assign_fairly(case)  # if the team assigns automatically
    return len(cases)


def discard_held(member: Member) -> int:
    """Delete every held case with its content (a flood of fakes); returns how many."""
    require(member, MANAGE)
    with transaction.atomic():
        cases = list(Case.objects.select_for_update().filter(
            pk__in=readable_cases(member).filter(held=True).values("pk")))
        for case in cases:
            purge_content(case)
            _audit(case, member, "case.discarded")
            case.delete()
    return len(cases)


# --- Teams: moving and restricting a case re-seals its one key (docs/threat-model.md) ---

# Re-exported: every action is reached from here.
from .fair import assign_waiting as assign_waiting  # noqa: E402
from .teams import TeamError as TeamError  # noqa: E402
from .teams import add_team_member as add_team_member  # noqa: E402
from .teams import create_team as create_team  # noqa: E402
from .teams import remove_team_member as remove_team_member  # noqa: E402
from .teams import set_auto_assign as set_auto_assign  # noqa: E402
from .teams import set_default_team as set_default_team  # noqa: E402
from .teams import update_team as update_team  # noqa: E402


def _adopted(member: Member, ring: OrgVault | None, case: Case) -> CaseVault:
    """The case's own vault; a case made before teams (under its team's key) is first given
    a key of its own, its content re-encrypted under it (once per case)."""
    opened = try_case_vault(ring, case) if ring is not None else None
    if opened is None:
        raise ActionError(_("You cannot read this case, so you cannot change who reads it; "
                            "ask a member of its team."))
    if case.public_key:
        return opened
    keys = vaults.generate_keypair()
    new = CaseVault(keys.private, case.pk)
    old_files: list[str] = []

    def again(blob: Any) -> bytes | None:
        return new.encrypt(opened.decrypt(bytes(blob))) if blob else None

    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.public_key:  # adopted meanwhile by someone else
            case.refresh_from_db()
            return case_vault(ring, case)
        Case.objects.filter(pk=case.pk).update(public_key=keys.public,
                                               summary=again(locked.summary) or b"",
                                               tags=again(locked.tags))
        for rec in CaseRecord.objects.filter(case=case).select_related("file"):
            body = opened.decrypt(bytes(rec.body))
            attachment = getattr(rec, "file", None)
            if rec.kind == RecordKind.ATTACHMENT and attachment is not None:
                meta = json.loads(body)
                storage = files.write(new.encrypt(opened.decrypt(files.read(attachment.storage_name))))
                transaction.on_commit(partial(files.discard, attachment.storage_name))
                old_files.append(attachment.storage_name)
                meta["storage"] = storage
                Attachment.objects.filter(pk=attachment.pk).update(storage_name=storage)
                body = json.dumps(meta, ensure_ascii=False).encode("utf-8")
            CaseRecord.objects.filter(pk=rec.pk).update(body=new.encrypt(body))
        for d in Deadline.objects.filter(case=case):
            Deadline.objects.filter(pk=d.pk).update(reason=again(d.reason) or b"",
                                                    sealed_rule=again(d.sealed_rule))
        case.refresh_from_db()
        team = Team.objects.filter(pk=case.team_id).first() if case.team_id else None
        keep = _member_holders(case)
        _seal_case_key(case, keys.private, team=None if case.restricted else team, members=keep)
        _audit(case, member, "case.rekeyed", files=len(old_files))
    if isinstance(ring, KeyRing):
        ring.forget_case(case.pk)
    return new


def _member_holders(case: Case) -> list[Member]:
    ids = CaseKey.objects.filter(case=case, member__isnull=False).values_list("member_id", flat=True)
    return list(Member.objects.filter(pk__in=list(ids), is_active=True))


def _lock_team_members(team: Team) -> int:
    return TeamKey.objects.filter(team=team, member__isnull=False, member__is_active=True).count()


def move_case(member: Member, ring: OrgVault, case: Case, team: Team, version: int | None) -> None:
    """Hand a case to another team: its key is sealed to that team's key instead (its
    records stay as they are). The mover must be able to read it; a team nobody is in is
    refused, since nobody could read the case there."""
    require(member, MANAGE)
    if team.organization_id != case.organization_id:
        raise ActionError(_("Choose one of your organization's teams."))
    if team.pk == case.team_id:
        raise ActionError(_("The case is in this team already."))
    if case.erased:
        raise ActionError(_("The requester erased this case; there is nothing to move."))
    opened = _adopted(member, ring, case)
    if not _lock_team_members(team):
        raise ActionError(_("Nobody is in the team “%(team)s” yet, so nobody could read the "
                            "case there. Add a member to that team first.") % {"team": team.name})
    old_team = case.team_id
    with transaction.atomic():
        # The version check and the row lock first: of two concurrent moves one is
        # refused, and the keys below are rewritten by the one that won.
        _bump(case, version, team=team, indexed=False)
        search.forget(case)
        _seal_case_key(case, opened.private_key, team=None if case.restricted else team,
                       members=_member_holders(case))
        _audit(case, member, "case.moved", old_team=old_team, new_team=team.pk)


def restrict_case(member: Member, ring: OrgVault, case: Case, member_ids: Iterable[int],
                  version: int | None) -> None:
    """Only the assignee and the chosen members read the case: its key is sealed to them
    (and the recovery key) and no longer to its team."""
    require(member, MANAGE)
    if not case.organization.recovery_public_key:
        raise ActionError(_("A restricted case must stay open to the recovery key: enter the "
                            "recovery key once first (“haven teams-recovery %(slug)s” on the "
                            "server).") % {"slug": case.organization.slug})
    ids = {int(i) for i in member_ids}
    if case.assignee_id:
        ids.add(case.assignee_id)
    chosen = list(Member.objects.filter(pk__in=ids, organization_id=case.organization_id,
                                        is_active=True).exclude(public_key=None))
    if len(chosen) != len(ids) or not chosen:
        raise ActionError(_("Choose at least one active member of your organization who may "
                            "read the case."))
    opened = _adopted(member, ring, case)
    with transaction.atomic():
        _bump(case, version, restricted=True)
        _seal_case_key(case, opened.private_key, team=None, members=chosen)
        _audit(case, member, "case.restricted", members=sorted(m.pk for m in chosen))


def unrestrict_case(member: Member, ring: OrgVault, case: Case, version: int | None) -> None:
    """The case's team reads it again (its key is sealed to the team once more)."""
    require(member, MANAGE)
    if not case.restricted:
        raise ActionError(_("The case is not restricted."))
    opened = _adopted(member, ring, case)
    team = Team.objects.filter(pk=case.team_id).first() if case.team_id else None
    with transaction.atomic():
        _bump(case, version, restricted=False)
        volunteer = [m for m in _member_holders(case)
                     if m.role == Role.VOLUNTEER and m.pk == case.assignee_id]
        _seal_case_key(case, opened.private_key, team=team, members=volunteer)
        _audit(case, member, "case.unrestricted", team=case.team_id)


# Referrals to a partner organization (haven.network): the case's side of them. The
# network's own rows are written by haven/network/actions.py in the same transaction;
# here only the case's status and its audit entries.
REFERRAL_EVENTS = ("case.referral_proposed", "case.referral_withdrawn", "case.referral_delivered",
                   "case.referral_downloaded")


def referral_noted(case: Case, actor: Member | None, event: str, **detail: Any) -> None:
    """An audit entry about a referral that changes nothing else on the case: proposed and
    withdrawn by a member, delivered (the worker), downloaded as a file."""
    if event == "case.referral_proposed":
        _audit(case, actor, "case.referral_proposed", **detail)
    elif event == "case.referral_withdrawn":
        _audit(case, actor, "case.referral_withdrawn", **detail)
    elif event == "case.referral_delivered":
        _audit(case, actor, "case.referral_delivered", **detail)
    elif event == "case.referral_downloaded":
        _audit(case, actor, "case.referral_downloaded", **detail)
    else:
        raise ValueError(event)


def referral_agreed(case: Case, **detail: Any) -> None:
    """The requester agreed to the referral (no member present): the case is "referred"."""
    with transaction.atomic():
        old = case.status
        if Status.REFERRED in TRANSITIONS.get(old, set()):
            _bump(case, None, status=Status.REFERRED)
        _audit(case, None, "case.referral_agreed", **detail)
        if case.status != old:
            _audit(case, None, "case.status", old=old, new=case.status, by="referral")


def referral_refused(case: Case, **detail: Any) -> None:
    """The requester refused the referral (no member present): final, nothing left."""
    with transaction.atomic():
        _audit(case, None, "case.referral_refused", **detail)


def referral_outcome(case: Case, accepted: bool, **detail: Any) -> None:
    """The partner accepted or declined (no member present). A declined referral gives the
    case back to its caseworkers: a referred case is in progress again."""
    with transaction.atomic():
        if accepted:
            _audit(case, None, "case.referral_accepted", **detail)
            return
        old = case.status
        if old == Status.REFERRED:
            _bump(case, None, status=Status.IN_PROGRESS)
        _audit(case, None, "case.referral_declined", **detail)
        if case.status != old:
            _audit(case, None, "case.status", old=old, new=case.status, by="referral")


def referral_failed(case: Case, **detail: Any) -> None:
    """The referral could not be delivered (the worker gave up): the case is in progress
    again, and the audit says why (a code, never content)."""
    with transaction.atomic():
        old = case.status
        if old == Status.REFERRED:
            _bump(case, None, status=Status.IN_PROGRESS)
        _audit(case, None, "case.referral_failed", **detail)
        if case.status != old:
            _audit(case, None, "case.status", old=old, new=case.status, by="referral")

# --- Referrals: a case a partner organization handed over (haven.network) ---

@dataclass(frozen=True)
class ReferredRecord:
    """One message or note of a referred case, as the partner sent it: ``kind`` is
    RecordKind.INBOUND (the requester wrote it) or RecordKind.NOTE."""

    kind: str
    created: datetime
    text: str


def create_referred_case(
    member: Member, org: Organization, *, category: str, channel: str, summary: str,
    answers: dict[str, Any] | None, lang: str, team: Team | None,
    records: Iterable[ReferredRecord], attachments: Iterable[files.FileLike],
    partner: int,
) -> Case:
    """Open the case a coordinator accepted from a partner (``partner``: its row's id).

    Like intake, no member's key is needed: the case gets a key of its own, sealed to
    ``team`` (any team of the organization with a member: a coordinator routes it) and
    the recovery key, and every record goes under it. The requester's messages become
    inbound records; the partner's replies and chosen notes, notes (the caller words
    them); each record keeps the time it was written at the partner. Files (already
    cleaned) are written before the transaction and removed if it fails.
    """
    from haven.vault import padded_length

    require(member, MANAGE)
    if member.organization_id != org.pk:
        raise NotAllowed(MANAGE)
    if category not in categories.all_categories():
        raise ActionError(_("Choose one of the listed categories."))
    if team is None or team.organization_id != org.pk:
        raise ActionError(_("Choose one of your organization's teams."))
    if not _lock_team_members(team):
        raise ActionError(_("Nobody is in the team “%(team)s” yet, so nobody could read the "
                            "case there. Add a member to that team first.") % {"team": team.name})
    keys = vaults.generate_keypair()
    sealer = CaseVault(keys.private, 0)
    written: list[tuple[files.FileLike, str]] = []
    try:
        for file in attachments:
            written.append((file, files.write(sealer.encrypt(file.data))))
        with transaction.atomic():
            case = Case.objects.create(
                organization=org, number=next_number(org), category=category, channel=channel,
                summary=sealer.encrypt_text(summaries.pack(summary.strip()[:200] or "—", lang)),
                team=team, public_key=keys.public,
            )
            _seal_case_key(case, keys.private, team=team)
            rows = [r for r in records if r.kind in (RecordKind.INBOUND, RecordKind.NOTE)]
            first = min([r.created for r in rows] + [case.created])
            if answers:
                CaseRecord.objects.create(case=case, kind=RecordKind.ANSWERS, created=first,
                                          body=sealer.encrypt_text(json.dumps(answers, ensure_ascii=False)))
            CaseRecord.objects.bulk_create([
                CaseRecord(case=case, kind=r.kind, created=min(r.created, case.created),
                           body=sealer.encrypt_text(r.text[:MAX_TEXT * 2])) for r in rows if r.text.strip()])
            for file, storage in written:
                meta = {"name": file.name, "type": file.type, "size": len(file.data),
                        "storage": storage}
                record = CaseRecord.objects.create(
                    case=case, kind=RecordKind.ATTACHMENT,
                    body=sealer.encrypt_text(json.dumps(meta, ensure_ascii=False)))
                Attachment.objects.create(record=record, storage_name=storage,
                                          size=padded_length(len(file.data)))
            _audit(case, member, "case.created", channel=channel, category=category,
                   team=team.pk, referred_by=partner, files=len(written))
            fair.assign_fairly(case)  # if the team assigns automatically
    except BaseException:
        for _file, storage in written:
            files.discard(storage)
        raise
    return case
