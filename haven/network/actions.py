"""Writes of the network's rows, each with its audit entry in the same transaction.

Each part of the network keeps its writes in its own block below.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from haven import vault
from haven.accounts.models import Member, Organization, Team
from haven.accounts.rights import Right, require
from haven.audit import chain
from haven.cases import actions as case_actions
from haven.cases import categories, files
from haven.cases.models import Attachment, Case, Channel, RecordKind
from haven.core.errors import Refusal
from haven.core.langs import DEFAULT_LANG, LANGS
from haven.intake import followup, submit
from haven.intake.attachments import AttachmentRefused, CleanFile, clean
from haven.vault import OrgVault

from . import envelope as envelopes
from . import figures, inbox, keys, package, storage, transport
from .envelope import Envelope, Kind
from .keys import NoSigningKey, sign_as
from .models import CollectedFigures, FiguresCollection, IncomingReferral, Partner, Publication
from .partners import Card, PartnerError, check_card

# Figures ----------------------------------------------------------------------------------


class FiguresError(Refusal):
    """Figures that cannot be published as asked; the message says what to do."""


def publish_figures(member: Member, ring: OrgVault, month: date, epsilon: float | None,
                    rng: random.Random | None = None) -> Publication:
    """Count ``month``, add noise (when ``epsilon``), suppress cells under 5, sign and keep
    it as the organization's publication of that month, replacing an earlier one."""
    org: Organization = member.organization
    if month not in figures.finished_months(org):
        raise FiguresError(_("Choose a finished month of the last two years."))
    if epsilon is not None and not figures.EPSILON_MIN <= epsilon <= figures.EPSILON_MAX:
        raise FiguresError(_("Choose an ε between 0.1 and 10, or leave it empty for no noise."))
    counts = figures.count_month(org, month)
    published = figures.privatize(counts, epsilon, rng or secrets.SystemRandom())
    now = timezone.now()
    body = figures.body_for(org, month, epsilon, published, now)
    try:
        signature = sign_as(ring, org, body)
    except NoSigningKey as exc:
        raise FiguresError(_("Your keys do not open the organization's signing key; "
                             "log in again or ask another administrator.")) from exc
    with transaction.atomic():
        replaced = Publication.objects.filter(organization=org, month=month).delete()[0] > 0
        row = Publication.objects.create(organization=org, month=month, body=body,
                                         signature=signature, epsilon=epsilon, published=now,
                                         published_by=member)
        chain.record(org.pk, "figures.published", actor_id=member.pk,
                     detail={"month": figures.month_key(month), "epsilon": epsilon,
                             "replaced": replaced})
    return row


def keep_collected(partner: Partner, verified: list[tuple[date, bytes, bytes, dict]],
                   error: str, refused: int) -> int:
    """Keep a partner's verified months (replacing older copies of the same month) and note
    how the collection went. Earlier good copies stay when this try failed."""
    now = timezone.now()
    with transaction.atomic():
        for month, body, signature, data in verified:
            CollectedFigures.objects.update_or_create(
                organization_id=partner.organization_id, partner=partner, month=month,
                defaults={"body": body, "signature": signature, "figures": data,
                          "collected": now})
        status, _made = FiguresCollection.objects.get_or_create(partner=partner)
        status.tried, status.error, status.refused = now, error[:200], refused
        if not error:
            status.succeeded = now
        status.save()
    return len(verified)


# Partners ---------------------------------------------------------------------------------
#
# On this server both organizations' rows change together: asking makes ours ASKED and
# theirs INVITED; accepting makes both ACTIVE; declining or ending ends both. A declined
# invitation is kept as ENDED rather than deleted: the row may carry an earlier
# partnership's referrals (they protect it), asking again reuses it (one row per partner
# key), and the asking side sees that it was declined instead of an invitation that
# silently vanished. A partner on another server is added from its card once the
# administrator confirms they compared the fingerprint; ending it sends the partner a
# signed ENDED envelope, and one received from a partner ends ours (``partner_ended``).

P = Partner.State


def _audit(org_id: int, code: str, member: Member | None, partner: Partner,
           **extra: Any) -> None:
    chain.record(org_id, code, actor_id=member.pk if member else None,
                 detail={"partner": partner.name, **extra})


def _lock_orgs(*org_ids: int) -> None:
    """Lock the organizations in one order, so two administrators asking each other at the
    same moment wait in turn instead of both making rows."""
    list(Organization.objects.select_for_update().filter(pk__in=org_ids).order_by("pk"))


def _row(org: Organization, signing: bytes) -> Partner:
    """The organization's row for the partner with this signing key, new (unsaved) if none."""
    found = Partner.objects.select_for_update().filter(organization=org,
                                                       signing_key=signing).first()
    return found or Partner(organization=org, signing_key=signing, version=0)


def _introduce(row: Partner, other: Organization, state: str, member: Member | None) -> None:
    """Write ``row`` as a fresh same-server partnership with ``other`` in ``state``."""
    row.name, row.local, row.server_url, row.remote_slug = other.name, other, "", other.slug
    row.encryption_key = bytes(other.public_key)
    row.state, row.added_by, row.created = state, member, timezone.now()
    row.accepted_at, row.ended_at, row.ended_by_us = None, None, None
    row.version += 1
    row.save()


def ask_partner(member: Member, target_id: int) -> Partner:
    """Ask another organization on this server to become a partner (it accepts or declines)."""
    require(member, Right.ORG_ADMIN)
    if target_id == member.organization_id:
        raise PartnerError(_("Choose another organization: yours cannot be its own partner."))
    with transaction.atomic():
        _lock_orgs(member.organization_id, target_id)
        org = Organization.objects.get(pk=member.organization_id)
        target = Organization.objects.filter(pk=target_id).first()
        if target is None:
            raise PartnerError(_("This organization is no longer on this server; choose "
                                 "another from the list."))
        ours = _row(org, bytes(keys.signing_key(target).public_key))
        theirs = _row(target, bytes(keys.signing_key(org).public_key))
        if ours.pk and ours.state != P.ENDED:
            said: dict[str, str] = {
                P.ASKED: _("You already asked “%(name)s”; wait until its administrator "
                           "accepts, or withdraw the invitation."),
                P.INVITED: _("“%(name)s” already asked you: accept its invitation in your "
                             "list of partners."),
            }
            raise PartnerError(said.get(ours.state, _("“%(name)s” is already your partner."))
                               % {"name": target.name})
        if theirs.pk and theirs.state != P.ENDED:
            raise PartnerError(_("“%(name)s” still lists your organization as a partner. Ask "
                                 "its administrator to end that partnership first, then ask "
                                 "again.") % {"name": target.name})
        _introduce(ours, target, P.ASKED, member)
        _introduce(theirs, org, P.INVITED, None)
        _audit(org.pk, "partner.asked", member, ours)
        _audit(target.pk, "partner.invited", None, theirs)
    return ours


def _pair(member: Member, partner_id: int) -> tuple[Partner, Partner | None]:
    """Our row (locked; refused if it is not ours) and, on this server, theirs (locked)."""
    ours = Partner.objects.filter(pk=partner_id, organization_id=member.organization_id).first()
    if ours is None:
        raise PartnerError(_("This partner is not in your list any more; reload the page."))
    theirs_id = None
    if ours.local_id is not None:
        mine = bytes(keys.signing_key(member.organization).public_key)
        theirs_id = (Partner.objects.filter(organization_id=ours.local_id, signing_key=mine)
                     .values_list("pk", flat=True).first())
    ids = [pk for pk in (ours.pk, theirs_id) if pk is not None]
    locked = {p.pk: p for p in Partner.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    return locked[ours.pk], locked.get(theirs_id) if theirs_id else None


def _answerable(ours: Partner, theirs: Partner | None) -> Partner:
    if ours.state != P.INVITED or theirs is None or theirs.state != P.ASKED:
        raise PartnerError(_("This invitation was withdrawn or already answered; nothing was "
                             "changed. Reload the page to see where things stand."))
    return theirs


def _set(row: Partner, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(row, name, value)
    row.version += 1
    row.save(update_fields=[*fields, "version"])


def accept_partner(member: Member, partner_id: int) -> Partner:
    """Accept another organization's invitation: both rows become active."""
    require(member, Right.ORG_ADMIN)
    with transaction.atomic():
        ours, theirs_or_none = _pair(member, partner_id)
        theirs = _answerable(ours, theirs_or_none)
        now = timezone.now()
        for row in (ours, theirs):
            _set(row, state=P.ACTIVE, accepted_at=now)
        _audit(ours.organization_id, "partner.accepted", member, ours)
        _audit(theirs.organization_id, "partner.accepted", None, theirs, by_partner=True)
    return ours


def decline_partner(member: Member, partner_id: int) -> Partner:
    """Decline another organization's invitation: both rows ended (see the note above)."""
    require(member, Right.ORG_ADMIN)
    with transaction.atomic():
        ours, theirs_or_none = _pair(member, partner_id)
        theirs = _answerable(ours, theirs_or_none)
        now = timezone.now()
        _set(ours, state=P.ENDED, ended_at=now, ended_by_us=True)
        _set(theirs, state=P.ENDED, ended_at=now, ended_by_us=False)
        _audit(ours.organization_id, "partner.declined", member, ours)
        _audit(theirs.organization_id, "partner.declined", None, theirs, by_partner=True)
    return ours


def add_partner(member: Member, card: Card, *, confirmed: bool) -> Partner:
    """Add a partner on another server from its card, once the administrator confirmed
    they compared its fingerprint with the partner's administrator. An ended partnership
    with the same keys is renewed."""
    require(member, Right.ORG_ADMIN)
    with transaction.atomic():
        _lock_orgs(member.organization_id)
        org = Organization.objects.get(pk=member.organization_id)
        ended = check_card(org, card)
        if not confirmed:
            raise PartnerError(_("Compare the fingerprint with the partner's administrator "
                                 "over another channel (a call, a messenger), then tick the "
                                 "box to confirm it matches. Nothing was added yet."))
        row = ended or Partner(organization=org, version=0)
        if ended is not None:
            row = Partner.objects.select_for_update().get(pk=ended.pk)
        row.name, row.local, row.server_url, row.remote_slug = card.name, None, card.server, card.slug
        row.encryption_key, row.signing_key = card.encryption_key, card.signing_key
        now = timezone.now()
        row.state, row.added_by, row.created, row.accepted_at = P.ACTIVE, member, now, now
        row.ended_at, row.ended_by_us = None, None
        row.version += 1
        row.save()
        # Not the server's address: a host name reads like an event code on the audit page.
        _audit(org.pk, "partner.added", member, row, fingerprint=card.fingerprint,
               renewed=ended is not None)
    return row


def end_partner(member: Member, ring: OrgVault, partner_id: int) -> Partner:
    """End a partnership (or withdraw an invitation). On this server the partner's row ends
    too; on another server the partner is sent a signed ENDED envelope."""
    require(member, Right.ORG_ADMIN)
    with transaction.atomic():
        ours, theirs = _pair(member, partner_id)
        if ours.state == P.ENDED:
            raise PartnerError(_("This partnership has already ended; nothing was changed."))
        org = member.organization
        now = timezone.now()
        if not ours.is_local:
            transport.deliver(org, ours, _ended_envelope(ring, org, ours, now))
        _set(ours, state=P.ENDED, ended_at=now, ended_by_us=True)
        _audit(org.pk, "partner.ended", member, ours)
        if theirs is not None and theirs.state != P.ENDED:
            _set(theirs, state=P.ENDED, ended_at=now, ended_by_us=False)
            _audit(theirs.organization_id, "partner.ended_by_partner", None, theirs)
    return ours


def _ended_envelope(ring: OrgVault, org: Organization, partner: Partner, now: Any) -> bytes:
    try:
        seed = keys.signing_seed(ring, org)
    except keys.NoSigningKey:
        raise PartnerError(_("Your keys do not open your organization's signing key, so the "
                             "partner cannot be told. Log out and in again, then retry.")) from None
    return envelopes.make(Kind.ENDED, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                          sender_public=bytes(keys.signing_key(org).public_key),
                          recipient_public=bytes(partner.encryption_key), created=now,
                          content=None)


@inbox.handle(Kind.ENDED)
def partner_ended(org: Organization, partner: Partner, envelope: Envelope, blob: bytes) -> str:
    """A partner on another server ended the partnership: ours ends too. The inbox checked
    the signature already (and refuses a second copy, the partner being ended by then);
    both are checked again here, since this ends a partnership: a second copy changes
    nothing."""
    envelopes.verify(envelope, bytes(partner.signing_key))
    with transaction.atomic():
        row = Partner.objects.select_for_update().get(pk=partner.pk, organization=org)
        if row.state == P.ENDED:
            return "already ended"
        _set(row, state=P.ENDED, ended_at=timezone.now(), ended_by_us=False)
        _audit(org.pk, "partner.ended_by_partner", None, row)
    return "ended"

# End of Partners


# --- Referrals in -----------------------------------------------------------------------
#
# A partner's referral arrives as a signed envelope sealed to this organization's key
# (haven.network.inbox has checked the sender, the signature and the age). It is kept as
# it came, a file under files/network/, until a coordinator here opens it and accepts it
# (a case is made from it and the requester is given a codename here) or declines it. The
# partner hears the outcome in a signed RECEIPT envelope; it never gets this side's content.

IncomingState = IncomingReferral.State


class IncomingError(Refusal):
    """A referral cannot be opened, accepted or declined; the message says what to do."""


@inbox.handle(envelopes.Kind.REFERRAL)
def receive_referral(org: Organization, partner: Partner, envelope: envelopes.Envelope,
                     blob: bytes) -> str:
    """Keep a referral from ``partner`` (the inbox's handler, inside its transaction).

    The same envelope again (a retry after a lost answer) is "already received" and
    stores nothing; another envelope under an id already used is refused. The file is
    removed again if the transaction fails, so nothing is half stored.
    """
    try:
        ref_id = uuid.UUID(envelope.id)
    except ValueError:
        raise inbox.Refused(_("The referral's id is malformed.")) from None
    if not envelope.header.get("key") or not envelope.payload:
        raise inbox.Refused(_("The referral carries no sealed content."))
    digest = envelopes.digest(blob)
    found = _known(partner, ref_id, digest)
    if found is not None:
        return found
    try:
        with storage.kept(blob) as name, transaction.atomic():
            row = IncomingReferral.objects.create(
                organization=org, partner=partner, ref_id=ref_id, digest=digest,
                envelope=name, size=len(blob))
            chain.record(org.pk, "referral.received",
                         detail={"partner": partner.pk, "incoming": row.pk, "size": len(blob)})
    except IntegrityError:  # the same id stored by a concurrent request
        found = _known(partner, ref_id, digest)
        if found is None:
            raise
        return found
    except OSError:  # the disk is full or the folder unwritable: the sender tries again
        raise inbox.Refused(_("This server cannot store the referral now; send it again "
                              "later."), 503) from None
    return "stored"


def _known(partner: Partner, ref_id: uuid.UUID, digest: str) -> str | None:
    row = IncomingReferral.objects.filter(partner=partner, ref_id=ref_id).first()
    if row is None:
        return None
    if row.digest != digest:
        raise inbox.Refused(_("A different referral with this id was received before: "
                              "refused as a replay or a forgery."), 409)
    return "already received"


def incoming_for(member: Member, pk: int) -> IncomingReferral:
    """One referral received by the member's organization; 404 for anyone else's."""
    require(member, Right.CASE_MANAGE)
    row = IncomingReferral.objects.select_related("partner").filter(
        pk=pk, organization_id=member.organization_id).first()
    if row is None:
        raise Http404
    return row


def _package(ring: OrgVault, row: IncomingReferral) -> package.Package:
    """The referral's content, opened with the organization key the member holds."""
    try:
        blob = storage.read(row.envelope)
        envelope = envelopes.read(blob, max_size=inbox.max_size())
        envelopes.verify(envelope, bytes(row.partner.signing_key))
        return package.unpack(envelopes.open_payload(envelope, ring.private_key))
    except FileNotFoundError:
        raise IncomingError(_("The referral's file is missing on this server. Decline it, and "
                              "ask the partner to refer the request again.")) from None
    except (envelopes.BadEnvelope, package.BadPackage) as exc:
        raise IncomingError(_("The referral cannot be read: %(reason)s. Decline it, and ask the "
                              "partner to refer the request again.") % {"reason": str(exc)}) from None


def open_incoming(member: Member, ring: OrgVault, row: IncomingReferral) -> package.Package:
    """Decrypt a waiting referral for a coordinator; the opening is audited first."""
    require(member, Right.CASE_MANAGE)
    if row.organization_id != member.organization_id:
        raise Http404
    if row.state != IncomingState.RECEIVED or not row.envelope:
        raise IncomingError(_("This referral was already decided; its content is on the case "
                              "or was deleted."))
    with transaction.atomic():
        chain.record(row.organization_id, "referral.opened", actor_id=member.pk,
                     detail={"partner": row.partner_id, "incoming": row.pk})
    return _package(ring, row)


@dataclass(frozen=True)
class Accepted:
    case: Case
    left_out: list[str]  # files refused by the checks (their reasons)
    delivery: str  # "delivered" (same server), "queued" (another server) or "file"


def request_lang(pkg: package.Package) -> str:
    return pkg.language if pkg.language in LANGS else DEFAULT_LANG


def follow_up_address(org: Organization) -> str:
    return settings.SITE_URL + reverse("intake:followup", args=[org.slug])


def continuation_text(org: Organization, codename: str, lang: str) -> str:
    """What the referring organization passes on to the requester, in their language."""
    with translation.override(lang):
        return _("Your case is now with %(org)s. To write to them, open %(address)s and enter "
                 "this codename: %(codename)s. They already have what you agreed to share, so "
                 "you do not need to tell your story again. Keep the codename to yourself: "
                 "whoever has it can read your case.") % {
            "org": org.name, "address": follow_up_address(org), "codename": codename}


def welcome_text(org: Organization, partner: Partner, lang: str) -> str:
    """The first message in the requester's thread here."""
    with translation.override(lang):
        return _("Hello. %(partner)s passed your request on to us, %(org)s, with your agreement "
                 "and with what you chose to share. You do not need to tell your story again: "
                 "write to us here, and we will answer here.") % {
            "partner": partner.name, "org": org.name}


def _history(partner: Partner, pkg: package.Package) -> list[case_actions.ReferredRecord]:
    """The package's messages and notes as records: the requester's messages as inbound
    ones; the referring organization's replies and chosen notes as notes headed with where
    they come from (they were not written here and must not read as this desk's replies)."""
    rows = []
    for message in pkg.messages:
        if message.from_requester:
            rows.append(case_actions.ReferredRecord(RecordKind.INBOUND, when(message.created),
                                                    message.text))
        else:
            rows.append(case_actions.ReferredRecord(
                RecordKind.NOTE, when(message.created),
                _("Reply from %(partner)s to the requester:") % {"partner": partner.name}
                + "\n\n" + message.text))
    if pkg.note.strip():
        rows.append(case_actions.ReferredRecord(
            RecordKind.NOTE, timezone.now(),
            _("Note from %(partner)s with the referral:") % {"partner": partner.name}
            + "\n\n" + pkg.note))
    for note in pkg.notes:
        rows.append(case_actions.ReferredRecord(
            RecordKind.NOTE, when(note.created),
            _("Note of %(partner)s:") % {"partner": partner.name} + "\n\n" + note.text))
    return sorted(rows, key=lambda r: r.created)


def when(text: str) -> datetime:
    """A time the partner wrote (ISO 8601), never later than now; now if unreadable."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return timezone.now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(moment, timezone.now())


def answer_items(answers: Any) -> list[dict[str, Any]]:
    """The package's answers as question/answer items, whatever shape they came in (a list
    of items, answers records with ``items``, or a plain mapping)."""
    if isinstance(answers, dict):
        answers = [answers]
    items: list[dict[str, Any]] = []
    for entry in answers if isinstance(answers, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("items"), list):
            items += [i for i in entry["items"] if isinstance(i, dict)]
        elif isinstance(entry, dict) and "answer" in entry:
            items.append(entry)
        elif isinstance(entry, dict):
            items += [{"question": str(k), "answer": v, "sensitive": False}
                      for k, v in entry.items()]
    return [{"question": str(i.get("question", "")), "answer": i.get("answer", ""),
             "sensitive": bool(i.get("sensitive", False)), "key": str(i.get("key", ""))}
            for i in items]


def _answers_record(pkg: package.Package, lang: str) -> dict[str, Any] | None:
    items = answer_items(pkg.answers)
    return {"lang": lang, "referred": True, "items": items} if items else None


def _summary(pkg: package.Package, lang: str) -> str:
    names = categories.get(pkg.category).names
    return names.get(lang) or names.get("en") or pkg.category


def _cleaned(pkg: package.Package) -> tuple[list[CleanFile], list[str]]:
    """The package's files checked and cleaned like an upload; refused ones left out."""
    kept, left_out = [], []
    for file in pkg.files:
        try:
            kept.append(clean(file.name, file.data))
        except AttachmentRefused as exc:
            left_out.append(str(exc))
    return kept, left_out


def _signer(member: Member, ring: OrgVault, org: Organization) -> tuple[bytes, bytes]:
    try:
        return keys.signing_seed(ring, org), bytes(keys.signing_key(org).public_key)
    except keys.NoSigningKey:
        raise IncomingError(_("Your keys do not open your organization's signing key. Log out "
                              "and in again, or ask an administrator.")) from None


def _receipt(member: Member, ring: OrgVault, row: IncomingReferral, outcome: str,
             **extra: str) -> bytes:
    seed, public = _signer(member, ring, row.organization)
    return envelopes.make(envelopes.Kind.RECEIPT, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                    sender_public=public, recipient_public=bytes(row.partner.encryption_key),
                    created=timezone.now(), content=None,
                    extra={"referral": str(row.ref_id), "outcome": outcome, **extra})


def _locked_waiting(row: IncomingReferral, *, active: bool = True) -> IncomingReferral:
    """The referral's row, locked, still waiting; with ``active``, its partner must be one
    (an ended partnership cannot be told an outcome, so nothing can be accepted from it)."""
    locked = IncomingReferral.objects.select_for_update().select_related(
        "partner", "organization").get(pk=row.pk)
    if locked.state != IncomingState.RECEIVED:
        raise IncomingError(_("Someone here already accepted or declined this referral."))
    if active and locked.partner.state != Partner.State.ACTIVE:
        raise IncomingError(_("The partnership with %(partner)s is not active, so they cannot "
                              "be told the outcome. Contact them another way.")
                            % {"partner": locked.partner.name})
    return locked


def by_file(partner: Partner) -> bool:
    """A partner neither on this server nor reachable at a server address: envelopes to it
    travel as files handed over by people (haven.network.transport sends no files)."""
    return partner.local_id is None and not partner.server_url


RECEIPT_SUFFIX = ".haven-receipt"


def _deliver(row: IncomingReferral, blob: bytes, kept: list[str]) -> tuple[str, str]:
    """Send the receipt: ("delivered" or "queued", ""), or for a partner reached by file
    ("file", the name of the receipt kept for download; listed in ``kept`` so a failed
    transaction removes it). The referral's row then names the receipt's file instead of
    the referral's (see :func:`receipt_file`)."""
    if by_file(row.partner):
        kept.append(storage.write(blob))
        return "file", kept[-1]
    try:
        return transport.deliver(row.organization, row.partner, blob), ""
    except inbox.Refused as exc:
        raise IncomingError(_("%(partner)s refused the answer: %(reason)s. Nothing was "
                              "changed.") % {"partner": row.partner.name,
                                             "reason": exc.reason}) from None
    except transport.BadAddress as exc:
        raise IncomingError(_("The partner's server address cannot be used (%(reason)s). "
                              "Nothing was changed.") % {"reason": str(exc)}) from None


def accept_incoming(member: Member, ring: OrgVault, row: IncomingReferral,
                    team: Team | None) -> Accepted:
    """Make a case here from the referral and tell the partner how the requester reaches us.

    One transaction: the case (through haven.cases.actions) with the answers, messages,
    notes and cleaned files under its own key; a new codename for the requester and a first
    message in their thread; the signed receipt with the continuation (sealed to the
    referral's delivery key, so only the referring server passes it on); the referral
    marked accepted. The envelope file goes once that commits.
    """
    require(member, Right.CASE_MANAGE)
    if row.organization_id != member.organization_id:
        raise Http404
    if row.state != IncomingState.RECEIVED:
        raise IncomingError(_("Someone here already accepted or declined this referral."))
    if team is None or team.organization_id != row.organization_id:
        raise IncomingError(_("Choose one of your organization's teams."))
    pkg = _package(ring, row)
    if len(pkg.delivery_public) != 32:
        raise IncomingError(_("This referral carries no key to pass the requester their new "
                              "codename, so they could not reach you. Decline it, and ask the "
                              "partner to refer the request again."))
    org, partner = row.organization, row.partner
    lang = request_lang(pkg)
    category = pkg.category if pkg.category in categories.all_categories() else "other"
    attachments, left_out = _cleaned(pkg)
    stored: list[str] = []
    kept: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked_waiting(row)
            case = case_actions.create_referred_case(
                member, org, category=category, channel=Channel.WEB,
                summary=_summary(pkg, lang), answers=_answers_record(pkg, lang), lang=lang, team=team,
                records=_history(partner, pkg), attachments=attachments,
                partner=partner.pk)
            stored = list(Attachment.objects.filter(record__case=case).values_list(
                "storage_name", flat=True))
            codename = submit.give_codename(case, lang)
            followup.greet(case, welcome_text(org, partner, lang))
            text = continuation_text(org, codename, lang)
            extra = {"continuation": base64.b64encode(vault.seal(
                pkg.delivery_public, json.dumps({"text": text}, ensure_ascii=False).encode(
                    "utf-8"))).decode()}
            delivery, receipt = _deliver(
                locked, _receipt(member, ring, locked, "accepted", **extra), kept)
            IncomingReferral.objects.filter(pk=row.pk).update(
                state=IncomingState.ACCEPTED, decided_at=timezone.now(), decided_by=member,
                case=case, envelope=receipt, version=locked.version + 1)
            storage.remove_after_commit(locked.envelope)
            chain.record(org.pk, "referral.accepted", actor_id=member.pk, case_id=case.pk,
                         detail={"partner": partner.pk, "incoming": row.pk,
                                 "left_out": len(left_out)})
    except BaseException:
        for name in stored:
            files.discard(name)
        for name in kept:
            storage.remove(name)
        raise
    row.refresh_from_db()
    return Accepted(case, left_out, delivery)


MAX_REASON = 2000


def decline_incoming(member: Member, ring: OrgVault, row: IncomingReferral,
                     reason: str = "") -> str:
    """Decline a referral; the reason (optional) is sealed to the partner alone. The envelope
    file goes once this commits. Returns "delivered", "queued", "file" (see
    :func:`receipt_file`) or, when the partnership ended meanwhile, "not sent": the
    referral is only discarded here."""
    require(member, Right.CASE_MANAGE)
    if row.organization_id != member.organization_id:
        raise Http404
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > MAX_REASON:
        raise IncomingError(_("The reason is %(n)d characters long; the limit is %(max)d. "
                              "Shorten it.") % {"n": len(reason), "max": MAX_REASON})
    kept: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked_waiting(row, active=False)
            extra = {}
            if reason:
                extra["reason"] = base64.b64encode(vault.seal(
                    bytes(locked.partner.encryption_key), reason.encode("utf-8"))).decode()
            delivery, receipt = "not sent", ""
            if locked.partner.state == Partner.State.ACTIVE:
                delivery, receipt = _deliver(
                    locked, _receipt(member, ring, locked, "declined", **extra), kept)
            IncomingReferral.objects.filter(pk=row.pk).update(
                state=IncomingState.DECLINED, decided_at=timezone.now(), decided_by=member,
                envelope=receipt, version=locked.version + 1)
            storage.remove_after_commit(locked.envelope)
            chain.record(locked.organization_id, "referral.declined", actor_id=member.pk,
                         detail={"partner": locked.partner_id, "incoming": row.pk,
                                 "with_reason": bool(reason), "told": delivery != "not sent"})
    except BaseException:
        for name in kept:
            storage.remove(name)
        raise
    row.refresh_from_db()
    return delivery


def receipt_file(member: Member, row: IncomingReferral) -> bytes:
    """The signed receipt of a decided referral from a partner reached by file, for a
    coordinator to hand over (it holds no content: the outcome, and what only the partner
    or its delivery key opens)."""
    require(member, Right.CASE_MANAGE)
    if row.organization_id != member.organization_id or row.state == IncomingState.RECEIVED \
            or not row.envelope:
        raise Http404
    try:
        return storage.read(row.envelope)
    except FileNotFoundError:
        raise Http404 from None


def receive_file(member: Member, blob: bytes) -> inbox.Received:
    """A ``.haven-referral`` file a partner without a connection handed over, uploaded by a
    coordinator: checked like any envelope, and refused unless it is for this organization."""
    require(member, Right.CASE_MANAGE)
    try:
        _envelope, org, _partner = inbox.check(blob)
    except inbox.Refused as exc:
        raise IncomingError(exc.reason) from None
    if org.pk != member.organization_id:
        raise IncomingError(_("This file is not addressed to your organization. Check that the "
                              "partner made it for you."))
    try:
        return inbox.receive(blob, via="file")
    except inbox.Refused as exc:
        raise IncomingError(exc.reason) from None
