"""What intake stores. Nothing a requester wrote is stored in clear.

- ``IntakeSettings``: the organization's public intake page (its own public
  words, in clear because they are published anyway) and enabled categories.
- ``IntakeConversation``: an unfinished intake, encrypted with a server key
  (see :mod:`haven.intake.conversations`), deleted when the case is created
  or after a day of inactivity.
- ``Requester``: how a requester returns to a case: the keyed hash of the
  codename, and a key pair whose private half opens only with the codename.
- ``RequesterMessage``: the requester's view of the thread, sealed to the
  requester's public key (the server cannot read it back without the codename).
- ``CaseFingerprint``: keyed hashes of identifiers (phone, Telegram username)
  under the organization's fingerprint key, so possible duplicates can be
  flagged without storing the identifier. Intake has no member key: it stores
  the identifier sealed to the organization and a member's key turns it into
  the hash later (:mod:`haven.intake.fingerprints`). Deleted when the case closes.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IntakeSettings(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="intake_settings")
    # Category slugs offered on the public page; None means every category.
    enabled = models.JSONField(null=True, blank=True)
    description = models.JSONField(default=dict, blank=True)  # {"ru": ..., "uk": ..., "en": ...}
    retention = models.JSONField(default=dict, blank=True)  # consent-step wording per language
    updated = models.DateTimeField(default=timezone.now)


class IntakeConversation(models.Model):
    # A keyed hash of the conversation's handle (a random token in the browser's
    # haven_intake cookie; the chat for the bot), never the handle itself.
    key = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    channel = models.CharField(max_length=20)
    state = models.BinaryField()  # encrypted JSON, see conversations.py
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires"])]


class Requester(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True,
                                related_name="requester")
    codename_hash = models.CharField(max_length=64, unique=True)
    public_key = models.BinaryField()
    wrapped_private = models.BinaryField()  # the private key wrapped under the codename
    created = models.DateTimeField(default=timezone.now)


class RequesterMessage(models.Model):
    class Direction(models.TextChoices):
        FROM_REQUESTER = "in", "from requester"
        TO_REQUESTER = "out", "to requester"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body = models.BinaryField()  # sealed to Requester.public_key
    # The desk record a reply came from (so a re-sent outbox row is stored once),
    # or a keyed hash of the follow-up form's one-time token (so a re-posted form
    # is stored once).
    record = models.OneToOneField("cases.CaseRecord", null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    token = models.CharField(max_length=64, null=True, unique=True)  # noqa: DJ001 - NULL: no token, not unique

    class Meta:
        indexes = [models.Index(fields=["case", "created"])]


class RequesterFile(models.Model):
    """A file in the requester's thread, sealed to Requester.public_key.

    From the desk: the file itself, sealed to the requester and written under a random
    name (``storage_name``), downloadable with the codename. From the requester: only
    its sealed name, so the thread says what they sent (the file is on the case).
    """

    message = models.ForeignKey(RequesterMessage, on_delete=models.CASCADE, related_name="files")
    storage_name = models.CharField(max_length=64, blank=True)  # "": the requester's own file
    meta = models.BinaryField()  # sealed JSON: name, type, size


class CaseFingerprint(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    # "phone", "telegram"; "" on a row that asks for the case's identifiers to be read
    # again from its answers (cases whose old peppered fingerprints were dropped).
    kind = models.CharField(max_length=20)
    # OrgVault.fingerprint(kind, identifier); "" until a member's key computed it.
    hash = models.CharField(max_length=64, blank=True, default="")
    # The identifier sealed to the organization until the hash is computed, then None.
    sealed = models.BinaryField(null=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "hash"])]
