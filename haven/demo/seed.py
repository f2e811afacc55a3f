"""Seeding the demo organization (used by ``haven demo``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import services
from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization, Role
from haven.funds import demo as funds_demo
from haven.intake.demo import seed_cases
from haven.network import actions as network
from haven.network.models import Partner
from haven.vault import OrgVault


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_ORG = "demo"
DEMO_PEOPLE = [
    DemoLogin("alice", "harbor-lantern-quietly-47", Role.ADMIN),
    DemoLogin("bob", "meadow-copper-violin-82", Role.CASEWORKER),
    DemoLogin("dana", "orchid-pebble-thunder-15", Role.COORDINATOR),
    DemoLogin("tom", "saddle-winter-marble-63", Role.TREASURER),
]
# A second organization on the same server, already the demo's partner, so a referral can
# be tried from end to end (bob proposes, the requester agrees, paula accepts).
PARTNER_ORG = "partner"
PARTNER_PEOPLE = [DemoLogin("paula", "willow-granite-ember-29", Role.ADMIN)]


def _enrol(token: str, login: DemoLogin) -> Member:
    member = services.accept_invite(token, login.password).member
    # The enrolment spent the current code; the person starting the demo needs it now.
    TOTPDevice.objects.filter(user=member).update(last_t=-1)
    return member


@transaction.atomic
def seed() -> list[DemoLogin]:
    """Create the demo organization with its members, once. Returns the logins."""
    if Organization.objects.filter(slug=DEMO_ORG).exists():
        return DEMO_PEOPLE + PARTNER_PEOPLE
    first, *others = DEMO_PEOPLE
    made = services.create_organization(DEMO_ORG, "Demo help desk", first.username, "Alice")
    admin = _enrol(made.admin_invite.token, first)
    org_private = unlock_member(admin, first.password).org_private
    for person in others:
        issued = services.invite_member(admin, org_private, person.username,
                                        person.username.title(), person.role)
        _enrol(issued.token, person)
    funds_demo.seed(admin, OrgVault(org_private))
    seed_cases(made.organization)
    _seed_partner(admin)
    return DEMO_PEOPLE + PARTNER_PEOPLE


def _seed_partner(demo_admin: Member) -> None:
    """The partner organization, asked by the demo's administrator and accepted by its own."""
    paula = PARTNER_PEOPLE[0]
    made = services.create_organization(PARTNER_ORG, "Partner legal aid (demo)", paula.username,
                                        "Paula")
    partner_admin = _enrol(made.admin_invite.token, paula)
    asked = network.ask_partner(demo_admin, made.organization.pk)
    theirs = Partner.objects.get(organization=made.organization, local=asked.organization_id)
    network.accept_partner(partner_admin, theirs.pk)


def current_code(username: str) -> str:
    device = TOTPDevice.objects.get(user__username=username)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
