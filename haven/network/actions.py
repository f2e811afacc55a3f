"""Writes of the network's rows, each with its audit entry in the same transaction.

Each part of the network keeps its writes in its own block below.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
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
from haven.cases.access import WORK
from haven.cases.models import Attachment, Case, Channel, RecordKind
from haven.core.errors import Refusal
from haven.core.keys import server_box
from haven.core.langs import DEFAULT_LANG, LANGS
from haven.intake import followup, submit
from haven.intake.attachments import AttachmentRefused, CleanFile, clean
from haven.vault import OrgVault, VaultError, generate_keypair, open_sealed
from haven.vault.purposes import REFERRAL_DELIVERY

from . import consent, figures, inbox, keys, package, referring, storage, transport
from . import envelope as envelopes
from .envelope import Envelope, Kind
from .inbox import Refused
from .keys import NoSigningKey, sign_as
from .models import (
    CollectedFigures,
    FiguresCollection,
    IncomingReferral,
    Partner,
    Publication,
    Referral,
)
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


# Referrals out ---------------------------------------------------------------------
# A case this organization refers to a partner: proposed by a caseworker (the envelope
# made then, with their keys), answered by the requester in their channel (no member
# present), delivered by the transport, and answered by the partner's receipt.

log = logging.getLogger("haven.network")
RefState = Referral.State


class ReferralRefused(Refusal):
    """A referral the member cannot make or change as asked; the message says why."""


def _delivery_box() -> Any:
    return server_box(REFERRAL_DELIVERY)


def propose_referral(member: Member, vault: OrgVault, case: Case,
                     choice: referring.Choice) -> Referral:
    """Make the envelope of the chosen parts and ask the requester.

    Refused (nothing stored) when the partner is not an active partner of the member's
    organization, nothing is chosen, a referral of this case already waits, the case is
    closed or erased, the case's channel cannot ask the requester, or the envelope would
    be larger than HAVEN_NETWORK_MAX_ENVELOPE.
    """
    require(member, WORK, _("Only a caseworker or coordinator can refer a case."))
    partner = choice.partner
    if partner.organization_id != member.organization_id or not partner.is_active:
        raise ReferralRefused(_("%(partner)s is not an active partner of your organization. "
                                "Choose another partner, or ask an administrator to renew the "
                                "partnership.") % {"partner": partner.name})
    if case.erased or not case.summary:
        raise ReferralRefused(_("This case's content is gone; there is nothing to refer."))
    if not case.is_open:
        raise ReferralRefused(_("This case is closed. Reopen it before referring it."))
    if not choice.anything:
        raise ReferralRefused(_("Nothing was chosen to share. Tick at least the answers, a "
                                "message or a file."))
    if referring.open_referral(case) is not None:
        raise ReferralRefused(_("A referral of this case is already waiting. Withdraw it, or "
                                "wait for its outcome, before proposing another."))
    if not consent.can_ask(case.channel):
        raise ReferralRefused(_("The requester cannot be asked through the channel this case "
                                "came from (it was recorded on the desk). A referral needs "
                                "their agreement, given in their own channel."))
    if choice.as_file and partner.is_local:
        raise ReferralRefused(_("%(partner)s is on this server: the referral goes online, "
                                "no file is needed.") % {"partner": partner.name})
    _check_chosen(case, choice)
    ref_id = uuid.uuid4()
    lang = referring.case_language(vault, case)
    delivery = generate_keypair()
    package_ = referring.build_package(vault, case, choice, lang, delivery.public)
    from .package import pack

    signing = keys.signing_key(member.organization)
    blob = envelopes.make(
        envelopes.Kind.REFERRAL, envelope_id=str(ref_id),
        sender_seed=keys.signing_seed(vault, member.organization),
        sender_public=bytes(signing.public_key), recipient_public=bytes(partner.encryption_key),
        created=timezone.now(), content=pack(package_))
    if len(blob) > referring.max_envelope():
        mb = referring.max_envelope() / 2**20
        raise ReferralRefused(_("The chosen parts make %(size).1f MB; a referral may hold at "
                                "most %(max).1f MB. Leave out some files and try again.")
                              % {"size": len(blob) / 2**20, "max": mb})
    with storage.kept(blob) as name, transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one proposal at a time
        if referring.open_referral(case) is not None:
            raise ReferralRefused(_("A referral of this case is already waiting. Withdraw "
                                    "it, or wait for its outcome, before proposing another."))
        referral = Referral.objects.create(
            organization_id=member.organization_id, case=case, partner=partner, ref_id=ref_id,
            transport=Referral.Transport.FILE if choice.as_file else Referral.Transport.ONLINE,
            proposed_by=member, shared=choice.shared(), envelope=name, size=len(blob),
            delivery_key=_delivery_box().seal(str(ref_id), {
                "key": referring.encode_key(delivery.private), "lang": lang}))
        case_actions.referral_noted(case, member, "case.referral_proposed",
                                    referral=referral.pk, partner=partner.pk,
                                    transport=referral.transport, **_counts(referral))
        consent.ASKERS[case.channel](case, referral, lang)
    return referral


def _counts(referral: Referral) -> dict[str, Any]:
    shared = referral.shared or {}
    return {"answers": bool(shared.get("answers")), "messages": int(shared.get("messages") or 0),
            "files": int(shared.get("attachments") or 0), "notes": int(shared.get("notes") or 0)}


def _check_chosen(case: Case, choice: referring.Choice) -> None:
    """Every chosen record is this case's, of the kind it was chosen as."""
    from haven.cases.models import RecordKind

    kinds = dict(case.records.values_list("pk", "kind"))
    wanted = ([(pk, referring.MESSAGE_KINDS) for pk in choice.messages]
              + [(pk, (RecordKind.ATTACHMENT,)) for pk in choice.attachments]
              + [(pk, (RecordKind.NOTE,)) for pk in choice.notes])
    if any(kinds.get(pk) not in allowed for pk, allowed in wanted):
        raise ReferralRefused(_("The case changed while you chose; look at the list again."))


def withdraw_referral(member: Member, case: Case, referral_pk: int) -> Referral:
    """Take a proposal back before the requester answers: the envelope is deleted."""
    require(member, WORK, _("Only a caseworker or coordinator can withdraw a referral."))
    with transaction.atomic():
        referral = (Referral.objects.select_for_update().filter(pk=referral_pk, case=case)
                    .select_related("partner").first())
        if referral is None:
            raise ReferralRefused(_("This referral is not one of this case's."))
        if referral.state != RefState.PROPOSED:
            raise ReferralRefused(_("The requester has already answered (%(state)s); the "
                                    "proposal can no longer be withdrawn.")
                                  % {"state": referral.get_state_display()})
        name = referral.envelope
        Referral.objects.filter(pk=referral.pk).update(
            state=RefState.WITHDRAWN, envelope="", delivery_key=None,
            outcome_at=timezone.now(), version=referral.version + 1)
        case_actions.referral_noted(case, member, "case.referral_withdrawn", referral=referral.pk,
                                    partner=referral.partner_id)
        storage.remove_after_commit(name)
    referral.refresh_from_db()
    return referral


def answer_referral(case: Case, referral_pk: int, agree: bool, *, via: str) -> consent.Answer:
    """The requester's answer (no member present), given in the case's channel (``via``).

    The first answer is final: a second one, or one after the proposal was withdrawn,
    changes nothing and says so. On agreement the referral goes: online through the
    transport (same server: delivered in this transaction; another: the outbox), or as
    a file a caseworker downloads from the case page.
    """
    with transaction.atomic():
        referral = (Referral.objects.select_for_update().filter(pk=referral_pk, case_id=case.pk)
                    .select_related("partner", "organization").first())
        if referral is None:
            return consent.Answer.CLOSED
        if referral.state == RefState.WITHDRAWN:
            return consent.Answer.WITHDRAWN
        if referral.state != RefState.PROPOSED:
            return consent.Answer.ALREADY
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.erased or not case.summary or not case.is_open:
            return consent.Answer.CLOSED
        now = timezone.now()
        if not referral.partner.is_active:  # the partnership ended after the proposal
            name = referral.envelope
            Referral.objects.filter(pk=referral.pk).update(
                state=RefState.WITHDRAWN, outcome_at=now, envelope="", delivery_key=None,
                version=referral.version + 1)
            case_actions.referral_noted(case, None, "case.referral_withdrawn",
                                        referral=referral.pk, partner=referral.partner_id,
                                        reason="partnership ended")
            storage.remove_after_commit(name)
            return consent.Answer.ENDED
        if not agree:
            name = referral.envelope
            Referral.objects.filter(pk=referral.pk).update(
                state=RefState.REFUSED, answered_at=now, envelope="", delivery_key=None,
                version=referral.version + 1)
            case_actions.referral_refused(case, referral=referral.pk, partner=referral.partner_id,
                                          channel=via)
            storage.remove_after_commit(name)
            return consent.Answer.REFUSED
        Referral.objects.filter(pk=referral.pk).update(
            state=RefState.CONSENTED, answered_at=now, version=referral.version + 1)
        referral.refresh_from_db()
        case_actions.referral_agreed(case, referral=referral.pk, partner=referral.partner_id,
                                     channel=via)
        if referral.transport == Referral.Transport.ONLINE:
            _send(referral, case)
    return consent.Answer.AGREED


def _send(referral: Referral, case: Case) -> None:
    """Online: on this server the partner's inbox takes it now (its refusal fails the
    referral, the requester's agreement stays recorded); to another server an outbox row."""
    try:
        with transaction.atomic():
            transport.deliver(referral.organization, referral.partner, b"", case=case,
                              referral=referral)
    except inbox.Refused as exc:
        referral_failed(referral, exc.reason)


def referral_delivered(referral: Referral) -> None:
    """The transport delivered the envelope (same server at once; another server once it
    answered the POST). A referral already further along is left as it is."""
    with transaction.atomic():
        done = Referral.objects.filter(pk=referral.pk, state=RefState.CONSENTED).update(
            state=RefState.DELIVERED, delivered_at=timezone.now(),
            version=referral.version + 1)
        if done:
            case = Case.objects.get(pk=referral.case_id)
            case_actions.referral_noted(case, None, "case.referral_delivered",
                                        referral=referral.pk, partner=referral.partner_id)


def referral_failed(referral: Referral, reason: str) -> None:
    """The transport gave up (the partner refused the envelope, or could not be reached for
    days): the referral failed, the case is in progress again, the reason is shown."""
    with transaction.atomic():
        row = Referral.objects.select_for_update().filter(pk=referral.pk).first()
        if row is None or row.state not in (RefState.CONSENTED, RefState.DELIVERED):
            return
        Referral.objects.filter(pk=row.pk).update(
            state=RefState.FAILED, failure=reason[:200], outcome_at=timezone.now(),
            delivery_key=None, envelope="", version=row.version + 1)
        case = Case.objects.get(pk=row.case_id)
        case_actions.referral_failed(case, referral=row.pk, partner=row.partner_id,
                                     reason=reason[:200])
        name = row.envelope
        storage.remove_after_commit(name)


def referral_downloaded(member: Member, case: Case, referral: Referral) -> bytes:
    """The envelope of a consented "as a file" referral, for the caseworker to carry to the
    partner; the download is audited."""
    require(member, WORK, _("Only a caseworker or coordinator can download a referral."))
    if (referral.case_id != case.pk or referral.transport != Referral.Transport.FILE
            or referral.state not in (RefState.CONSENTED, RefState.DELIVERED)
            or not referral.envelope):
        raise ReferralRefused(_("This referral cannot be downloaded: the requester has not "
                                "agreed to it, or it has ended."))
    with transaction.atomic():
        case_actions.referral_noted(case, member, "case.referral_downloaded",
                                    referral=referral.pk, partner=referral.partner_id)
    return referring.read_envelope(referral.envelope)


def referral_receipt(org: Organization, partner: Partner, env: Envelope,
                     blob: bytes = b"") -> str:
    """A partner's receipt (verified by the inbox): the outcome of one of our referrals.

    Header: ``referral`` (our ref_id), ``outcome`` ("accepted" or "declined"),
    optionally ``continuation`` (a sealed box to the referral's delivery key: the
    partner's message telling the requester how to reach them) and ``reason`` (sealed to
    this organization: why they declined). The same receipt again changes nothing; an
    outcome never goes backwards.
    """
    header = env.header
    outcome = str(header.get("outcome") or "")
    if outcome not in ("accepted", "declined"):
        raise Refused(_("The receipt's outcome is neither accepted nor declined."))
    try:
        ref_id = uuid.UUID(str(header.get("referral") or ""))
    except ValueError:
        raise Refused(_("The receipt names no referral.")) from None
    with transaction.atomic():
        referral = (Referral.objects.select_for_update().select_related("partner")
                    .filter(ref_id=ref_id, organization=org).first())
        if referral is None:
            raise Refused(_("The receipt names a referral this organization did not make."), 404)
        if referral.partner_id != partner.pk:
            raise Refused(_("The receipt comes from another partner than the one the "
                            "referral went to."), 403)
        final = RefState.ACCEPTED if outcome == "accepted" else RefState.DECLINED
        if referral.state == final:
            return "already recorded"
        if referral.state not in (RefState.CONSENTED, RefState.DELIVERED):
            raise Refused(_("The referral is “%(state)s”: no outcome can be recorded for "
                            "it.") % {"state": referral.get_state_display()}, 409)
        case = Case.objects.select_for_update().get(pk=referral.case_id)
        reason = _b64(header.get("reason"), "reason") if outcome == "declined" else None
        name = referral.envelope
        told = False
        if final == RefState.ACCEPTED:
            told = _pass_on(referral, case, header.get("continuation"))
        Referral.objects.filter(pk=referral.pk).update(
            state=final, outcome_at=timezone.now(), delivery_key=None, envelope="",
            outcome_reason=reason, delivered_at=referral.delivered_at or timezone.now(),
            version=referral.version + 1)
        if final == RefState.ACCEPTED:
            case_actions.referral_outcome(case, True, referral=referral.pk,
                                          partner=partner.pk, told=told)
        else:
            case_actions.referral_outcome(case, False, referral=referral.pk, partner=partner.pk)
        storage.remove_after_commit(name)
    return outcome


def _b64(value: Any, what: str) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(_("The receipt's %(part)s is malformed.") % {"part": what}) from None


def _pass_on(referral: Referral, case: Case, continuation: Any) -> bool:
    """Open the partner's message with the delivery key and send it to the requester in the
    case's channel (no member present). False if it could not be passed on."""
    from haven import outbox

    if not referral.delivery_key:
        return False
    try:
        held = _delivery_box().unseal(str(referral.ref_id), bytes(referral.delivery_key))
        private = base64.b64decode(str(held["key"]))
    except (VaultError, KeyError, TypeError, ValueError, binascii.Error):
        log.warning("a referral's delivery key did not open")
        return False
    lang = str(held.get("lang") or "")
    sealed = _b64(continuation, "continuation")
    message = ""
    if sealed:
        try:
            data = json.loads(open_sealed(private, sealed).decode("utf-8"))
            message = str(data.get("text") or "").strip() if isinstance(data, dict) else ""
        except (VaultError, ValueError, UnicodeDecodeError):
            raise Refused(_("The receipt's message to the requester does not open with "
                            "the referral's delivery key.")) from None
    from django.utils import translation

    with translation.override(lang or None):
        text = (consent.continuation_text(referral.partner.name, message[:4000]) if message
                else consent.accepted_without_message(referral.partner.name))
    handler = outbox.handler_for(case.channel)
    if handler is None or case.erased:
        return False
    try:
        handler.check(text)
        outbox.enqueue(case, None, text)
    except Refusal:  # the chat is gone or blocked: the case page says it was not passed on
        return False
    return True


def forget_referrals(case: Case) -> int:
    """The case's content was purged or burned (the requester erased it): its referrals keep
    no envelope and no delivery key, and a proposal still waiting is withdrawn. What a
    partner already received is theirs (the requester agreed)."""
    gone = 0
    with transaction.atomic():
        for row in Referral.objects.select_for_update().filter(case=case):
            if not row.envelope and row.delivery_key is None and row.state != RefState.PROPOSED:
                continue
            changes: dict[str, Any] = {"envelope": "", "delivery_key": None,
                                       "version": row.version + 1}
            if row.state == RefState.PROPOSED:
                changes.update(state=RefState.WITHDRAWN, outcome_at=timezone.now())
            Referral.objects.filter(pk=row.pk).update(**changes)
            storage.remove_after_commit(row.envelope)
            gone += 1
    return gone


def _on_purged(sender: Any, case: Case, **kwargs: Any) -> None:
    forget_referrals(case)


def _on_delivered(sender: Any, referral: str, partner_id: Any, via: str = "", **kwargs: Any) -> None:
    found = _ours(referral, partner_id)
    if found is not None:
        referral_delivered(found)


def _on_undeliverable(sender: Any, referral: str, partner_id: Any, reason: str = "",
                      **kwargs: Any) -> None:
    found = _ours(referral, partner_id)
    if found is not None:
        referral_failed(found, reason)


def _ours(ref_id: str, partner_id: Any) -> Referral | None:
    try:
        key = uuid.UUID(str(ref_id))
    except ValueError:
        return None  # an envelope that is no referral
    return Referral.objects.filter(ref_id=key, partner_id=partner_id).first()


def connect_transport() -> None:
    """Hear the transport's outcome of our referrals (haven.network.transport's signals), and
    forget a referral's envelope when its case's content goes."""
    from haven.cases import signals

    signals.content_purged.connect(_on_purged, dispatch_uid="haven.network.referrals.purged")
    transport.delivered.connect(_on_delivered, dispatch_uid="haven.network.referrals.delivered")
    transport.undeliverable.connect(_on_undeliverable,
                                    dispatch_uid="haven.network.referrals.undeliverable")

# End of Referrals out

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
                extra["reason"] = base64.b64encode(vault.seal(  # as the continuation: JSON
                    bytes(locked.partner.encryption_key),
                    json.dumps({"text": reason}, ensure_ascii=False).encode("utf-8"))).decode()
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
                                 "with_reason": bool(reason), "partner_told": delivery != "not sent"})
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
