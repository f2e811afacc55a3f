"""Cases and their records. Everything a person wrote is stored only encrypted.

In clear (the desk needs them to sort and count): category, status, priority,
assignee, channel, timestamps, deadline dates (not the rule a deadline came from). See docs/threat-model.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from haven.outbox.models import Outbox  # noqa: F401  (registered under this app: see there)


class Status(models.TextChoices):
    NEW = "new", _("New")
    TRIAGE = "triage", _("Triage")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on requester")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")


# Which status may follow which. Closed cases can be reopened into triage. A new case
# may wait on its requester at once: a first reply that asks a question puts it there.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING, Status.REFERRED,
                 Status.CLOSED},
    Status.TRIAGE: {Status.IN_PROGRESS, Status.WAITING, Status.REFERRED, Status.CLOSED},
    Status.IN_PROGRESS: {Status.WAITING, Status.REFERRED, Status.CLOSED, Status.TRIAGE},
    Status.WAITING: {Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED},
    Status.REFERRED: {Status.IN_PROGRESS, Status.CLOSED},
    Status.CLOSED: {Status.TRIAGE},
}
OPEN_STATUSES = [s for s in Status.values if s != Status.CLOSED]


class Priority(models.IntegerChoices):
    NORMAL = 0, _("Normal")
    HIGH = 1, _("High")
    URGENT = 2, _("Urgent")


class Channel(models.TextChoices):
    WEB = "web", _("Web intake")
    TELEGRAM = "telegram", _("Telegram")
    DESK = "desk", _("Recorded on the desk")


class Case(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    number = models.PositiveIntegerField()
    category = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        "accounts.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Next open deadline, kept here so queues sort and filter without a join.
    next_due = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    summary = models.BinaryField()  # encrypted one-line summary
    tags = models.BinaryField(null=True)  # encrypted JSON list; lookups via CaseTag
    indexed = models.BooleanField(default=False)  # search tokens written?
    fraud_suspected = models.BooleanField(default=False)
    erased = models.BooleanField(default=False)  # burned at the requester's request
    # Arrived while the organization's intake was flooded (haven.intake.flood): kept out of
    # the queues until a coordinator releases or discards it on /desk/held/.
    held = models.BooleanField(default=False)
    # The team whose members read it (null: none yet, readable by nobody but recovery).
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="cases", db_index=False)  # led by the team indexes
    # Only the assignee and chosen members (CaseKey rows) read it, not the whole team.
    restricted = models.BooleanField(default=False)
    # The case's own public key: its records are sealed to it and its private key is
    # sealed to the team (CaseKey). Empty for cases made before teams: those stay under
    # their team's key (the organization key for the migrated "General" team).
    public_key = models.BinaryField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="case_number_unique")
        ]
        # Each queue reads one index in its sort order (priority, then arrival),
        # so the first page of 100,000 cases needs no sort.
        indexes = [
            models.Index(fields=["organization", "status", "priority", "created"]),
            models.Index(fields=["organization", "assignee", "priority", "created"]),
            models.Index(fields=["organization", "priority", "created"]),
            models.Index(fields=["organization", "next_due"]),
            models.Index(fields=["organization", "indexed"]),
            models.Index(fields=["organization", "-updated"]),
            models.Index(fields=["organization", "created"], name="case_org_created_idx"),
            models.Index(fields=["organization", "number"], condition=models.Q(held=True),
                         name="case_held_idx"),
            # Cases waiting for the search index (a member's search indexes them): SQLite
            # cannot use (organization, indexed) for Django's ``NOT indexed``, a partial
            # index with the same condition it can; every search asks for these.
            models.Index(fields=["organization"], condition=models.Q(indexed=False, erased=False),
                         name="case_pending_idx"),
            # A member in some teams reads their teams' queues: the same orders led by the
            # team, so a one-team member's queue counts do not walk every case of the team.
            models.Index(fields=["team", "status", "priority", "created"], name="case_team_status_idx"),
            models.Index(fields=["team", "assignee", "priority", "created"],
                         name="case_team_assignee_idx"),
            models.Index(fields=["team", "next_due"], name="case_team_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED


class CaseKey(models.Model):
    """A case's private key sealed to one holder: its team's public key, a named member's
    (restricted and volunteer-assigned cases) or the organization's recovery key.

    Moving or restricting a case re-seals this one small key, not its records. A later
    referral hands a case to another organization by one more row like these.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="keys")
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.CASCADE,
                             related_name="+")
    member = models.ForeignKey("accounts.Member", null=True, on_delete=models.CASCADE,
                               related_name="+")
    recovery = models.BooleanField(default=False)
    sealed_private_key = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["member", "case"])]


class RecordKind(models.TextChoices):
    ANSWERS = "answers", _("Answers to the questionnaire")
    INBOUND = "inbound", _("Message from the requester")
    OUTBOUND = "outbound", _("Reply to the requester")
    NOTE = "note", _("Private note")
    ATTACHMENT = "attachment", _("Attachment")
    DRAFT = "draft", _("Drafted document")  # JSON {"document", "text"}: see desk/documents.py


class Delivery(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Not delivered")


class CaseRecord(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    author = models.ForeignKey(
        "accounts.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()  # encrypted; text, or JSON for answers and attachments
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivery_error = models.CharField(max_length=200, blank=True)  # never content

    class Meta:
        indexes = [models.Index(fields=["case", "created"])]


class Attachment(models.Model):
    """An encrypted file; the file on disk is ciphertext named by a random id."""

    record = models.OneToOneField(CaseRecord, on_delete=models.CASCADE, related_name="file")
    storage_name = models.CharField(max_length=64, unique=True)
    # The padded size class (vault.padded_length), not the exact size, which is
    # sealed in the record's body; rows written before padding hold the exact size.
    size = models.PositiveIntegerField()


class CaseTag(models.Model):
    """A tag as a keyed hash under the organization key (filterable, unreadable)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tag_hashes")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    tag = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["organization", "tag"])]


class SearchField(models.IntegerChoices):
    """Which part of a case holds a word, so a search result can say why it matched."""

    UNKNOWN = 0, pgettext_lazy("matched in", "unknown")  # indexed before the part was kept
    SUMMARY = 1, pgettext_lazy("matched in", "summary")
    TAGS = 2, pgettext_lazy("matched in", "tags")
    ANSWERS = 3, pgettext_lazy("matched in", "answers to the questionnaire")
    MESSAGE = 4, pgettext_lazy("matched in", "requester's message")
    REPLY = 5, pgettext_lazy("matched in", "reply")
    NOTE = 6, pgettext_lazy("matched in", "note")


class SearchToken(models.Model):
    """A blind index entry: 64 bits of a keyed hash of one word stem of a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    token = models.BigIntegerField()
    field = models.PositiveSmallIntegerField(choices=SearchField.choices,
                                             default=SearchField.UNKNOWN)

    class Meta:
        indexes = [models.Index(fields=["organization", "token"])]


class Deadline(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    due = models.DateTimeField()
    # The legal rule id ("" for a custom deadline), padded to RULE_PAD and encrypted: in clear,
    # rule and due date give back the date answered at intake (review L-2).
    sealed_rule = models.BinaryField(null=True)
    reason = models.BinaryField()  # encrypted text
    owner = models.ForeignKey(
        "accounts.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed = models.BooleanField(default=True)  # False: proposed, waiting for a caseworker
    done_at = models.DateTimeField(null=True, blank=True)
    reminded = models.PositiveSmallIntegerField(default=0)  # hours-ahead of the last reminder

    class Meta:
        indexes = [models.Index(fields=["done_at", "due"])]


class Reminder(models.Model):
    """A notice raised on the desk by the worker (deadline ahead, delivery failed)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    member = models.ForeignKey("accounts.Member", null=True, on_delete=models.CASCADE,
                               related_name="+")
    kind = models.CharField(max_length=30)
    detail = models.JSONField(default=dict)  # never content
    created = models.DateTimeField(default=timezone.now)
    dismissed = models.BooleanField(default=False)


class SavedReply(models.Model):
    """A ready reply: its title and its ru/uk/en versions sealed with the organization's key.

    ``body`` holds the versions as JSON (see ``cases/replies.py``); a body written before
    versions existed is plain text and counts as the default language's version. The
    category (clear, like a case's) only orders suggestions; ``version`` refuses a stale edit.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    title = models.BinaryField()
    body = models.BinaryField()
    category = models.CharField(max_length=40, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)


class OrgSettings(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="case_settings")
    retention_days = models.PositiveIntegerField(default=180)
    next_number = models.PositiveIntegerField(default=1)
