"""Organizations, members and the key material that ties them together.

What is stored in clear and why is listed in docs/threat-model.md.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    CASEWORKER = "caseworker", _("Caseworker")
    TREASURER = "treasurer", _("Treasurer")
    VIEWER = "viewer", _("Viewer")
    # Sees only the cases assigned to them (each case's key is sealed to them); holds no team key.
    VOLUNTEER = "volunteer", _("Volunteer")


class Organization(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    public_key = models.BinaryField()
    # The organization's private key sealed to the recovery key's public half.
    recovery_sealed_key = models.BinaryField()
    recovery_threshold = models.PositiveSmallIntegerField(default=1)
    recovery_shares = models.PositiveSmallIntegerField(default=1)
    created = models.DateTimeField(default=timezone.now)
    locked_at = models.DateTimeField(null=True, blank=True)
    # The zone the desk shows times in, unless a member chose their own (an IANA name).
    time_zone = models.CharField(max_length=64, default="UTC")
    # The recovery key's public half: team keys are sealed to it so the recovery key opens
    # every team. Empty for organizations made before teams, until the recovery key is
    # presented once (restore_access, ``haven teams-recovery``).
    recovery_public_key = models.BinaryField(null=True)
    # Where intake of a category no team claims goes.
    default_team = models.ForeignKey("Team", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    def __str__(self) -> str:
        return self.name


class MemberManager(BaseUserManager["Member"]):
    def get_by_natural_key(self, username: str | None) -> Member:
        return self.get(username__iexact=username)


class Member(AbstractBaseUser):
    """A person working for one organization. No e-mail, no phone: just a handle."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="members"
    )
    username = models.CharField(max_length=150, unique=True)
    display_name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=Role.choices)
    # Set by an administrator: may mark knowledge articles reviewed (no role implies it).
    can_review_knowledge = models.BooleanField(default=False)
    is_active = models.BooleanField(default=False)
    public_key = models.BinaryField(null=True)
    wrapped_private_key = models.TextField(blank=True)
    # The organization's private key sealed to this member's public key.
    sealed_org_key = models.BinaryField(null=True)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    time_zone = models.CharField(max_length=64, blank=True)  # "": the organization's

    objects: ClassVar[MemberManager] = MemberManager()  # type: ignore[assignment]

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_keys(self) -> bool:
        return bool(self.wrapped_private_key)

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles


class Invite(models.Model):
    """A one-time link that lets a person set a password and a second factor.

    Used both to invite a new member and to re-key one who lost the password.
    The link's token is never stored: only its keyed hash. The link's own key
    pair (holding the organization key) is wrapped under the token, so the
    database alone cannot open it; it never becomes the member's key, and its
    key material is wiped when the link is used, superseded or expired.
    """

    class Kind(models.TextChoices):
        INVITE = "invite", _("Invitation")
        REKEY = "rekey", _("Password reset")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="invites")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    public_key = models.BinaryField()
    token_wrapped_key = models.BinaryField()
    sealed_org_key = models.BinaryField()
    created_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Between the two steps of accepting (password, then second factor): the fresh
    # member key pair (public_key and sealed_org_key above hold its halves then),
    # its private key wrapped under the chosen password, the password's hash and
    # the random TOTP secret, wrapped under the token and a key the second page's
    # form carries. token_wrapped_key is already wiped; all of it is at step 2.
    password_set_at = models.DateTimeField(null=True, blank=True)
    wrapped_private_key = models.TextField(blank=True)
    password = models.CharField(max_length=256, blank=True)
    sealed_totp = models.BinaryField(null=True)

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires > timezone.now()


class KeySession(models.Model):
    """Unwrapped keys of a logged-in member, encrypted under a key held in the cookie.

    The database row alone, or the cookie alone, reveals nothing.
    """

    id = models.CharField(max_length=64, primary_key=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="key_sessions")
    blob = models.BinaryField()
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()


class BackupCode(models.Model):
    """A single-use second factor, stored as a keyed hash."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="backup_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)


class Team(models.Model):
    """A group of members with a key of its own: its cases are sealed to its public key.

    Membership is holding a :class:`TeamKey` (the team's private key sealed to the
    member). The team's private key is also sealed to the organization's recovery key
    (``recovery_sealed_key``), so a team that loses every member loses nothing.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    # Intake category codes routed to this team (haven.cases.categories).
    categories = models.JSONField(default=list, blank=True)
    public_key = models.BinaryField()
    recovery_sealed_key = models.BinaryField(null=True)
    created = models.DateTimeField(default=timezone.now)
    # Fair assignment (haven.cases.fair): new cases go to the member with the fewest open
    # cases, among those with fewer than ``assign_cap``; off by default.
    auto_assign = models.BooleanField(default=False)
    assign_cap = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(500)])

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="team_name_unique")]

    def __str__(self) -> str:
        return self.name


class TeamKey(models.Model):
    """A team's private key sealed to one member's public key (that member is in the team),
    or, while an invite or password reset is pending, to the link's key pair (``invite``)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="keys")
    member = models.ForeignKey(Member, null=True, on_delete=models.CASCADE,
                               related_name="team_keys")
    invite = models.ForeignKey(Invite, null=True, on_delete=models.CASCADE, related_name="+")
    sealed_private_key = models.BinaryField()
    created = models.DateTimeField(default=timezone.now)
    # When a case of this team was last assigned to the member: fair assignment's
    # tie-break (the one assigned least recently first; never is earliest).
    last_assigned = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "member"], name="team_key_member_unique",
                                    condition=models.Q(member__isnull=False)),
        ]
