"""Referring a case to a partner: what can be chosen, the envelope, and what the pages show.

The envelope is made when a caseworker proposes the referral, with their keys (they
open the case; the organization key opens the signing seed): the chosen parts are
decrypted, framed (:mod:`haven.network.package`), sealed to the partner's key, signed,
and written to a file under ``files/network/``. From then on this server keeps only
ciphertext for the partner; it leaves only if the requester agrees. The rows are
written by :mod:`haven.network.actions` ("Referrals out").

Nothing here writes a row. The pages show the state, the partner, what was shared
(counts) and dates, never the partner's content; a partner's reason for declining is
sealed to the organization and opened here with the member's keys.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven.accounts.models import Member
from haven.cases import files
from haven.cases.keys import case_vault
from haven.cases.models import Case, CaseRecord, RecordKind
from haven.cases.summaries import unpack
from haven.core.langs import DEFAULT_LANG, LANGS
from haven.vault import OrgVault, VaultError, open_sealed

from . import package, storage, transport
from .models import Partner, Referral
from .partners import active_partners

State = Referral.State
# A referral that still holds the case: a second one waits until it ends.
OPEN_STATES = (State.PROPOSED, State.CONSENTED, State.DELIVERED)
ENDED_STATES = (State.REFUSED, State.WITHDRAWN, State.ACCEPTED, State.DECLINED, State.FAILED)
MESSAGE_KINDS = (RecordKind.INBOUND, RecordKind.OUTBOUND)


# --- the envelope files (haven.network.storage) -----------------------------------


def read_envelope(name: str) -> bytes:
    return storage.read(name)


def max_envelope() -> int:
    return int(settings.HAVEN_NETWORK_MAX_ENVELOPE)


# --- what a caseworker can choose ---------------------------------------------------


@dataclass
class Part:
    """One tickable part of the case on the refer page."""

    record: CaseRecord
    label: str  # what the box says (the first words of a message, a file's name)
    detail: str = ""  # when and who
    ticked: bool = True


@dataclass
class Parts:
    answers: CaseRecord | None = None
    messages: list[Part] = field(default_factory=list)
    attachments: list[Part] = field(default_factory=list)
    notes: list[Part] = field(default_factory=list)


def _short(text: str, n: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def choosable(vault: OrgVault, case: Case) -> Parts:
    """The case's answers, messages, attachments and private notes, opened for the page."""
    opened = case_vault(vault, case)
    parts = Parts()
    for rec in case.records.select_related("author").order_by("created", "pk"):
        if rec.kind == RecordKind.ANSWERS and parts.answers is None:
            parts.answers = rec
        elif rec.kind in MESSAGE_KINDS:
            who = _("the requester") if rec.kind == RecordKind.INBOUND else str(
                rec.author or _("your organization"))
            parts.messages.append(Part(rec, _short(opened.decrypt_text(bytes(rec.body))), who))
        elif rec.kind == RecordKind.ATTACHMENT:
            meta = json.loads(opened.decrypt_text(bytes(rec.body)))
            parts.attachments.append(Part(rec, str(meta.get("name") or "document"),
                                          str(meta.get("type") or "")))
        elif rec.kind == RecordKind.NOTE:
            parts.notes.append(Part(rec, _short(opened.decrypt_text(bytes(rec.body))),
                                    str(rec.author or ""), ticked=False))
    return parts


@dataclass(frozen=True)
class Choice:
    """What the caseworker chose on the refer page (record ids of this case)."""

    partner: Partner
    note: str
    answers: bool
    messages: tuple[int, ...] = ()
    attachments: tuple[int, ...] = ()
    notes: tuple[int, ...] = ()
    as_file: bool = False

    @property
    def anything(self) -> bool:
        return bool(self.answers or self.messages or self.attachments or self.notes)

    def shared(self) -> dict[str, Any]:
        """Counts and flags only: what the requester is told, kept in clear on the row."""
        return {"answers": self.answers, "messages": len(self.messages),
                "attachments": len(self.attachments), "notes": len(self.notes),
                "note": bool(self.note.strip())}


def case_language(vault: OrgVault, case: Case) -> str:
    """The language the requester wrote in (sealed with the summary), else the default."""
    try:
        lang = unpack(case_vault(vault, case).decrypt_text(bytes(case.summary)), case.category).lang
    except VaultError:
        lang = ""
    return lang if lang in LANGS else DEFAULT_LANG


def answer_items(body: Any) -> list[dict[str, Any]]:
    """A case's answers record as question/answer items, whatever shape it was stored in."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [item for item in body["items"] if isinstance(item, dict)]
    if isinstance(body, dict):
        return [{"question": key, "answer": value} for key, value in body.items()]
    return [{"question": "", "answer": body}]


def build_package(vault: OrgVault, case: Case, choice: Choice, lang: str,
                  delivery_public: bytes) -> package.Package:
    """The chosen parts, decrypted with the member's keys, as a referral package."""
    opened = case_vault(vault, case)
    records = {r.pk: r for r in case.records.order_by("created", "pk")}

    def in_order(ids: tuple[int, ...]) -> list[CaseRecord]:
        return sorted((records[pk] for pk in ids), key=lambda r: (r.created, r.pk))

    answers: list[dict[str, Any]] = []
    if choice.answers:
        found = next((r for r in records.values() if r.kind == RecordKind.ANSWERS), None)
        if found is not None:
            answers = answer_items(json.loads(opened.decrypt_text(bytes(found.body))))
    messages = [package.Message(created=r.created.isoformat(),
                                from_requester=r.kind == RecordKind.INBOUND,
                                text=opened.decrypt_text(bytes(r.body)))
                for r in in_order(choice.messages)]
    notes = [package.Note(created=r.created.isoformat(), text=opened.decrypt_text(bytes(r.body)))
             for r in in_order(choice.notes)]
    attached = {a.record_id: a for a in files.attachments_of(case)}
    shared_files = []
    for record in in_order(choice.attachments):
        got = files.open_file(opened, attached[record.pk])
        shared_files.append(package.File(name=got.name, type=got.type, data=got.data))
    return package.Package(note=choice.note.strip(), category=case.category, language=lang,
                           channel=case.channel, answers=answers, messages=messages, notes=notes,
                           files=shared_files, delivery_public=delivery_public,
                           referrer=case.organization.name)


# --- what the pages show ------------------------------------------------------------


def shared_words(shared: dict[str, Any]) -> list[str]:
    """What was (or will be) shared, in words of the active language."""
    words = []
    if shared.get("answers"):
        words.append(_("the answers to the questionnaire"))
    if shared.get("messages"):
        words.append(ngettext("%(n)d message", "%(n)d messages", shared["messages"])
                     % {"n": shared["messages"]})
    if shared.get("attachments"):
        words.append(ngettext("%(n)d file", "%(n)d files", shared["attachments"])
                     % {"n": shared["attachments"]})
    if shared.get("notes"):
        words.append(ngettext("%(n)d note of the caseworkers", "%(n)d notes of the caseworkers",
                              shared["notes"]) % {"n": shared["notes"]})
    if shared.get("note"):
        words.append(_("a note from the caseworker introducing the request"))
    return words


def open_referral(case: Case) -> Referral | None:
    return (Referral.objects.select_related("partner").filter(case=case, state__in=OPEN_STATES)
            .order_by("-created").first())


def reason_of(vault: OrgVault, referral: Referral) -> str:
    """The partner's reason for declining, opened with the member's organization key."""
    sealed = getattr(referral, "outcome_reason", None)
    if not sealed:
        return ""
    try:
        data = json.loads(open_sealed(vault.private_key, bytes(sealed)).decode("utf-8"))
    except (VaultError, ValueError, UnicodeDecodeError):
        return _("(the reason could not be opened with your keys)")
    return str(data.get("text") if isinstance(data, dict) else data)[:2000]


def panel(member: Member, vault: OrgVault, case: Case) -> dict[str, Any]:
    """The case page's referral panel: the referrals of this case and what can be done."""
    from haven.cases.access import WORK, can

    rows = []
    for ref in (Referral.objects.select_related("partner").filter(case=case)
                .order_by("-created")[:10]):
        waiting = (transport.waiting(ref) if ref.state == State.CONSENTED
                   and ref.transport == Referral.Transport.ONLINE else None)
        rows.append({"referral": ref, "shared": shared_words(ref.shared), "waiting": waiting,
                     "reason": reason_of(vault, ref) if ref.state == State.DECLINED else "",
                     "downloadable": (ref.state == State.CONSENTED
                                      and ref.transport == Referral.Transport.FILE
                                      and bool(ref.envelope))})
    working = can(member, WORK)
    return {"rows": rows, "can_refer": (working and not case.erased and case.is_open
                                        and bool(case.summary) and open_referral(case) is None
                                        and active_partners(case.organization_id).exists()),
            "can_work": working}


def encode_key(private: bytes) -> str:
    return base64.b64encode(private).decode()
