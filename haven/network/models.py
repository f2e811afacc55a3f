"""The network's rows. What is in clear and why: docs/threat-model.md, "The network".

A partner is another organization, on this server (``local``) or on another Haven
server (``server_url``), known by its public keys: the X25519 key referrals are
sealed to and the Ed25519 key its envelopes and figures are signed with.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKey(models.Model):
    """An organization's Ed25519 key. The seed is sealed to the organization's public key,
    so only members (who hold the organization key) sign; made on first use."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="signing_key")
    public_key = models.BinaryField()
    sealed_seed = models.BinaryField()
    created = models.DateTimeField(default=timezone.now)


class Partner(models.Model):
    """Another organization this one works with, as this organization sees it."""

    class State(models.TextChoices):
        ASKED = "asked", _("Waiting for them to accept")  # we asked (same server)
        INVITED = "invited", _("Asks to become a partner")  # they asked us (same server)
        ACTIVE = "active", _("Partner")
        ENDED = "ended", _("Partnership ended")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="partners")
    name = models.CharField(max_length=200)
    # On this server: the partner organization itself. On another: its server's address.
    local = models.ForeignKey("accounts.Organization", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    server_url = models.CharField(max_length=300, blank=True)
    remote_slug = models.SlugField(max_length=50)
    encryption_key = models.BinaryField()  # their organization's X25519 public key
    signing_key = models.BinaryField()  # their Ed25519 public key
    state = models.CharField(max_length=10, choices=State.choices)
    added_by = models.ForeignKey("accounts.Member", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_us = models.BooleanField(null=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "signing_key"],
                                    name="partner_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def is_local(self) -> bool:
        return self.local_id is not None


class Referral(models.Model):
    """A case this organization refers to a partner. The envelope is built, sealed to the
    partner and signed when a caseworker proposes it; it leaves only if the requester
    agrees. This side never reads the partner's content."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for the requester's answer")
        REFUSED = "refused", _("The requester refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CONSENTED = "consented", _("The requester agreed; on its way")
        DELIVERED = "delivered", _("Received by the partner")
        ACCEPTED = "accepted", _("Accepted by the partner")
        DECLINED = "declined", _("Declined by the partner")
        FAILED = "failed", _("Could not be delivered")

    class Transport(models.TextChoices):
        ONLINE = "online", _("Online")  # same server, or HTTPS through the outbox
        FILE = "file", _("As a file")  # downloaded here, uploaded at the partner

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="referrals")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals_out")
    ref_id = models.UUIDField(default=uuid.uuid4, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    transport = models.CharField(max_length=10, choices=Transport.choices,
                                 default=Transport.ONLINE)
    proposed_by = models.ForeignKey("accounts.Member", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # What the requester is told will be shared (counts and flags only, no content).
    shared = models.JSONField(default=dict)
    # The signed envelope, a file under files/network/ (ciphertext to the partner).
    envelope = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    # The private half of the key the partner seals its "how to reach us" message to,
    # in a server box (REFERRAL_DELIVERY) so the worker can pass the message on.
    delivery_key = models.BinaryField(null=True)
    created = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # Why the partner declined, sealed by the partner to this organization's key (members
    # open it on the case page); why the transport gave up (a code, never content).
    outcome_reason = models.BinaryField(null=True)
    failure = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["case", "state"]),
                   models.Index(fields=["organization", "state"])]


class IncomingReferral(models.Model):
    """A referral received from a partner, kept as the signed envelope it came in until
    a member here accepts it (a case is made from it) or declines it."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Waiting for a decision")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals_in")
    ref_id = models.UUIDField()
    digest = models.CharField(max_length=64)  # BLAKE2b of the envelope: a resend must match
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    envelope = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    received = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("accounts.Member", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "ref_id"], name="incoming_ref_unique"),
        ]
        indexes = [models.Index(fields=["organization", "state", "received"])]


class Publication(models.Model):
    """One month of this organization's figures as published: the exact signed bytes."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    month = models.DateField()  # the first day of the month
    body = models.BinaryField()  # canonical JSON, what the signature covers
    signature = models.BinaryField()
    epsilon = models.FloatField(null=True, blank=True)  # None: no noise added
    published = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey("accounts.Member", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="publication_unique"),
        ]


class CollectedFigures(models.Model):
    """A partner's published month as collected by this organization's network page,
    kept only after its signature verified with the partner's key."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="figures")
    month = models.DateField()
    body = models.BinaryField()
    signature = models.BinaryField()
    figures = models.JSONField(default=dict)  # the parsed body, for the page
    collected = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "partner", "month"],
                                    name="collected_unique"),
        ]


class FiguresCollection(models.Model):
    """How the last collection of a partner's figures went, for the network page: when
    it was tried, when it last worked, and why it failed (no content, a short reason)."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, primary_key=True,
                                   related_name="figures_collection")
    tried = models.DateTimeField(null=True, blank=True)
    succeeded = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)  # "" : the last try worked
    refused = models.PositiveIntegerField(default=0)  # months refused at the last try
