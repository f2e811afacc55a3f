"""A member's notification addresses, choices, waiting counts, and the collector's place.

Nothing here holds content: a :class:`Pending` row is a kind and a count for one
address; the address itself (a Telegram chat id, an e-mail address) is sealed
under the server key :data:`haven.vault.purposes.NOTIFY_ADDRESS`, bound to the
member and the kind, and a Telegram chat is found again by its slow keyed hash
(the same chat key the bot keeps its state under), never by its id.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    NEW_CASE = "new_case", _("A new case in my queues")
    ASSIGNED = "assigned", _("A case was assigned to me")
    REPLY = "reply", _("A requester replied on my case")
    DEADLINE = "deadline", _("A deadline on my case within 24 hours")
    PAYOUT = "payout", _("A payout waits for my approval")


class Digest(models.TextChoices):
    NOW = "now", _("At once")
    HOURLY = "hourly", _("At most once an hour (a digest)")
    DAILY = "daily", _("Once a day (a digest)")


class Address(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    EMAIL = "email", _("E-mail")


class State(models.TextChoices):
    ACTIVE = "active", _("Working")
    BLOCKED = "blocked", _("The bot is blocked")
    BOUNCED = "bounced", _("The address refused the message")


class Preference(models.Model):
    """What a member wants to hear, and when."""

    member = models.OneToOneField("accounts.Member", on_delete=models.CASCADE, primary_key=True,
                                  related_name="+")
    kinds = models.JSONField(default=list)
    quiet_from = models.PositiveSmallIntegerField(null=True, blank=True)  # local hour, 0-23
    quiet_to = models.PositiveSmallIntegerField(null=True, blank=True)
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.NOW)
    digest_hour = models.PositiveSmallIntegerField(default=9)
    lang = models.CharField(max_length=8, blank=True)


class Destination(models.Model):
    """One address of a member: their own Telegram chat with the bot, or an e-mail address."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Address.choices)
    lookup = models.CharField(max_length=128, blank=True)  # Telegram: the chat's slow key
    sealed = models.BinaryField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    problem_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="notify_one_address_per_kind"),
            models.UniqueConstraint(fields=["organization", "lookup"],
                                    condition=Q(kind="telegram"), name="notify_one_member_per_chat"),
        ]


class Pending(models.Model):
    """How many things of one kind wait to be told to one address."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="pending")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "kind"],
                                               name="notify_pending_once")]


class LinkCode(models.Model):
    """A one-time code a member sends to the bot to link their chat; only its keyed hash."""

    member = models.OneToOneField("accounts.Member", on_delete=models.CASCADE, primary_key=True,
                                  related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    expires = models.DateTimeField()
    # Someone sent the code from a chat already linked to another member: nothing was linked.
    refused_at = models.DateTimeField(null=True, blank=True)


class Cursor(models.Model):
    """How far the collector has read an organization's audit chain."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="+")
    audit_seq = models.PositiveBigIntegerField(default=0)


class DeadlineNotice(models.Model):
    """A deadline already counted for its 24-hour notice."""

    deadline = models.OneToOneField("cases.Deadline", on_delete=models.CASCADE, primary_key=True,
                                    related_name="+")


class SmtpSettings(models.Model):
    """An organization's own SMTP server for e-mail notifications (else HAVEN_SMTP_*)."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="+")
    host = models.CharField(max_length=200)
    port = models.PositiveIntegerField(default=587)
    security = models.CharField(max_length=10, default="starttls")  # none, starttls, tls
    username = models.CharField(max_length=200, blank=True)
    password = models.BinaryField(null=True)  # sealed, SMTP_PASSWORD
    sender = models.CharField(max_length=254)
