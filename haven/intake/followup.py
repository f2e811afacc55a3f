"""The requester's side of a case after intake: read replies, answer, erase.

Every call starts from the codename: it finds the case (by keyed hash) and
unwraps the requester's private key, which opens the thread. Nothing from a
previous request is kept on the server between calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from haven import vault
from haven.accounts.models import Organization
from haven.cases import actions, files
from haven.cases.models import Case, Channel
from haven.core.keys import pepper_hash
from haven.vault.purposes import Lookup

from . import codename as codenames
from .attachments import CleanFile
from .models import CaseFingerprint, Requester, RequesterFile, RequesterMessage

Direction = RequesterMessage.Direction


class NotFound(Exception):
    """No case of this organization opens with this codename."""


@dataclass(frozen=True)
class Opened:
    case: Case
    requester: Requester
    private_key: bytes

    @property
    def is_open(self) -> bool:
        return self.case.is_open


@dataclass(frozen=True)
class ThreadFile:
    id: int
    name: str
    type: str
    downloadable: bool  # sent by the desk; the requester's own files stay on the case only


@dataclass(frozen=True)
class Message:
    created: datetime
    from_requester: bool
    text: str
    files: tuple[ThreadFile, ...] = ()


def open_case(org: Organization, codename: str) -> Opened:
    """The case this codename belongs to, within ``org``; NotFound otherwise (same for all)."""
    if not codenames.normalise(codename):
        raise NotFound
    requester = Requester.objects.select_related("case", "case__organization").filter(
        codename_hash=codenames.lookup_hash(codename), case__organization=org,
    ).first()
    if requester is None or requester.case.erased or not requester.case.summary:
        raise NotFound  # erased by the requester, or burned on the desk
    try:
        private = vault.unwrap_with_token(bytes(requester.wrapped_private),
                                          codenames.key_material(codename))
    except vault.VaultError as exc:
        raise NotFound from exc
    return Opened(requester.case, requester, private)


def thread(opened: Opened) -> list[Message]:
    rows = RequesterMessage.objects.filter(case=opened.case).order_by("created", "pk")
    attached: dict[int, list[ThreadFile]] = {}
    for file in RequesterFile.objects.filter(message__case=opened.case).order_by("pk"):
        attached.setdefault(file.message_id, []).append(_thread_file(opened, file))
    return [Message(row.created, row.direction == Direction.FROM_REQUESTER,
                    vault.open_sealed(opened.private_key, bytes(row.body)).decode("utf-8"),
                    tuple(attached.get(row.pk, ())))
            for row in rows]


def _thread_file(opened: Opened, file: RequesterFile) -> ThreadFile:
    meta = json.loads(vault.open_sealed(opened.private_key, bytes(file.meta)))
    return ThreadFile(file.pk, str(meta.get("name") or "document"), str(meta.get("type") or ""),
                      bool(file.storage_name))


@dataclass(frozen=True)
class Download:
    name: str
    type: str
    data: bytes


def open_file(opened: Opened, file_id: int) -> Download:
    """A file the desk sent to this requester, opened with their key; NotFound otherwise."""
    file = RequesterFile.objects.filter(pk=file_id, message__case=opened.case).exclude(
        storage_name="").first()
    if file is None:
        raise NotFound
    shown = _thread_file(opened, file)
    try:
        data = vault.open_sealed(opened.private_key, files.read(file.storage_name))
    except (OSError, vault.VaultError) as exc:
        raise NotFound from exc
    return Download(shown.name, shown.type, data)


def send(opened: Opened, text: str, form_token: str,
         attached: Sequence[CleanFile] = ()) -> bool:
    """Add the requester's message (and cleaned files) to the case; False if this form was
    already sent.

    ``form_token`` is a random value in the page's form: a re-posted form (reload,
    double click) carries the same one, and is stored once. The files go to the case,
    sealed to the organization (as at intake); the thread keeps only their names.
    """
    token = pepper_hash(Lookup.FOLLOWUP_FORM, form_token) if form_token else None
    public = bytes(opened.requester.public_key)
    try:
        with transaction.atomic():
            message = RequesterMessage.objects.create(
                case=opened.case, direction=Direction.FROM_REQUESTER, token=token,
                body=vault.seal_text(public, text.strip()),
            )
            if text.strip():
                actions.add_inbound(opened.case, text)
            for file in attached:
                actions.add_attachment(opened.case, name=file.name, kind=file.type, data=file.data,
                                       channel=Channel.WEB)
                RequesterFile.objects.create(message=message, meta=vault.seal_text(public, json.dumps(
                    {"name": file.name, "type": file.type}, ensure_ascii=False)))
    except IntegrityError:
        return False
    return message.pk is not None


def greet(case: Case, text: str) -> None:
    """Put a first message from the organization into the thread of a case that did not
    start with intake (a referral accepted from a partner): sealed to the requester."""
    requester = Requester.objects.get(case=case)
    RequesterMessage.objects.create(case=case, direction=Direction.TO_REQUESTER,
                                    body=vault.seal_text(bytes(requester.public_key), text))


def erase(opened: Opened) -> None:
    """Burn the case at the requester's request: the desk keeps only "erased by requester"."""
    with transaction.atomic():
        actions.burn(None, opened.case, by_requester=True)
        forget(opened.case)


def forget(case: Case) -> None:
    """Remove what intake keeps about a case (codename hash, thread copy and its files,
    fingerprints)."""
    for name in RequesterFile.objects.filter(message__case=case).exclude(
            storage_name="").values_list("storage_name", flat=True):
        files.discard(name)
    RequesterMessage.objects.filter(case=case).delete()
    CaseFingerprint.objects.filter(case=case).delete()
    Requester.objects.filter(case=case).delete()
