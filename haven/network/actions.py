"""Writes of the network's rows, each with its audit entry in the same transaction.

Each part of the network keeps its writes in its own block below.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Organization
from haven.accounts.rights import Right, require
from haven.audit import chain
from haven.core.errors import Refusal
from haven.vault import OrgVault

from . import envelope as envelopes
from . import figures, inbox, keys, transport
from .envelope import Envelope, Kind
from .keys import NoSigningKey, sign_as
from .models import CollectedFigures, FiguresCollection, Partner, Publication
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
