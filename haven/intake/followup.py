"""The requester's side of a case after intake: read replies, answer, erase.

Every call starts from the codename: it finds the case (by keyed hash) and
unwraps the requester's private key, which opens the thread. Nothing from a
previous request is kept on the server between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from haven import vault
from haven.accounts.models import Organization
from haven.cases import actions
from haven.cases.models import Case
from haven.core.keys import pepper_hash
from haven.vault.purposes import Lookup

from . import codename as codenames
from .models import CaseFingerprint, Requester, RequesterMessage

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
class Message:
    created: datetime
    from_requester: bool
    text: str


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
    return [Message(row.created, row.direction == Direction.FROM_REQUESTER,
                    vault.open_sealed(opened.private_key, bytes(row.body)).decode("utf-8"))
            for row in rows]


def send(opened: Opened, text: str, form_token: str) -> bool:
    """Add the requester's message to the case; False if this form was already sent.

    ``form_token`` is a random value in the page's form: a re-posted form (reload,
    double click) carries the same one, and is stored once.
    """
    token = pepper_hash(Lookup.FOLLOWUP_FORM, form_token) if form_token else None
    try:
        with transaction.atomic():
            message = RequesterMessage.objects.create(
                case=opened.case, direction=Direction.FROM_REQUESTER, token=token,
                body=vault.seal_text(bytes(opened.requester.public_key), text.strip()),
            )
            actions.add_inbound(opened.case, text)
    except IntegrityError:
        return False
    return message.pk is not None


def erase(opened: Opened) -> None:
    """Burn the case at the requester's request: the desk keeps only "erased by requester"."""
    with transaction.atomic():
        actions.burn(None, opened.case, by_requester=True)
        forget(opened.case)


def forget(case: Case) -> None:
    """Remove what intake keeps about a case (codename hash, thread copy, fingerprints)."""
    RequesterMessage.objects.filter(case=case).delete()
    CaseFingerprint.objects.filter(case=case).delete()
    Requester.objects.filter(case=case).delete()
