"""Personas: alice (admin) and bob (caseworker) in one organization, charlie in another."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import translation
from django_otp.oath import totp
from hypothesis import settings as hypothesis_settings

from haven import outbox
from haven.accounts import services
from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization, Role
from haven.cases import actions
from haven.cases.models import Case, Channel
from haven.outbox.models import Outbox
from haven.vault import OrgVault


@pytest.fixture(autouse=True)
def _no_language_left_active() -> Iterator[None]:
    """A test that activates a language (a page request in Russian, a bot turn) leaves none
    behind: the next test in the same process starts in the settings' language."""
    yield
    translation.deactivate()


# Property tests explore new examples on every run on a developer's machine; CI
# (HYPOTHESIS_PROFILE=ci, set by .ci/run) replays the same examples every time, so
# a run is red only for a change, never for an unlucky draw.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PASSWORD = "correct-horse-battery-staple-42"


@dataclass
class Persona:
    member: Member
    password: str
    totp_secret: str
    backup_codes: list[str]

    @property
    def org(self) -> Organization:
        return self.member.organization

    def vault(self) -> OrgVault:
        """The member's key ring (organization key and team keys), as a request has it."""
        return unlock_member(self.member, self.password).ring(self.member.pk)

    def case_vault(self, case: Case) -> OrgVault:
        """The vault of one case, opened as this member's request would (404 otherwise)."""
        from haven.cases.keys import case_vault

        return case_vault(self.vault(), case)

    def code(self, offset: int = 0) -> str:
        return f"{totp(bytes.fromhex(self.totp_secret), drift=offset):06d}"


def _accept(token: str, password: str = PASSWORD) -> Persona:
    accepted = services.accept_invite(token, password)
    # The enrolment used the current code; let the tests use it once more.
    accepted.member.totpdevice_set.update(last_t=-1)
    return Persona(accepted.member, password, accepted.totp_secret, accepted.backup_codes)


def make_org(slug: str, admin: str) -> tuple[Persona, services.CreatedOrganization]:
    made = services.create_organization(slug, slug.title(), admin)
    return _accept(made.admin_invite.token), made


def add_member(admin: Persona, username: str, role: str, teams: list[Any] | None = None) -> Persona:
    """A new member, in the organization's default team ("General") unless ``teams`` says
    otherwise (a volunteer is in none)."""
    ring = admin.vault()
    org = Organization.objects.get(pk=admin.member.organization_id)
    if teams is None:
        teams = [org.default_team] if org.default_team else []
    issued = services.invite_member(admin.member, ring.private_key, username,
                                    username.title(), role, ring=ring, teams=teams)  # type: ignore[arg-type]
    return _accept(issued.token)


@pytest.fixture
def alice(db: None) -> Persona:
    persona, _made = make_org("first", "alice")
    return persona


@pytest.fixture
def bob(alice: Persona) -> Persona:
    return add_member(alice, "bob", Role.CASEWORKER)


@pytest.fixture
def charlie(db: None) -> Persona:
    persona, _made = make_org("second", "charlie")
    return persona


def log_in(client: Client, persona: Persona) -> Client:
    response = client.post("/login/", {
        "username": persona.member.username, "password": persona.password, "code": persona.code(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    persona.member.totpdevice_set.update(last_t=-1)
    return client


@pytest.fixture
def alice_client(alice: Persona) -> Client:
    return log_in(Client(), alice)


@pytest.fixture
def bob_client(bob: Persona) -> Client:
    return log_in(Client(), bob)


@pytest.fixture
def charlie_client(charlie: Persona) -> Client:
    return log_in(Client(), charlie)



class RecordingHandler:
    """A channel that records what it was asked to send and can be told to fail."""

    name = Channel.WEB

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail: list[outbox.DeliveryError] = []

    def check(self, text: str) -> None:
        if len(text) > 4096 * 3:
            raise actions.ActionError("too long for this channel")

    def address(self, case: Case) -> dict[str, Any]:
        return {"case": case.number}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(payload)


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> RecordingHandler:
    handler = RecordingHandler()
    monkeypatch.setitem(outbox.HANDLERS, Channel.WEB, handler)
    return handler


def make_case(persona: Persona, text: str = "I got a summons", **kw: Any) -> Case:
    """A case as intake makes it: sealed to the organization, no member present."""
    defaults = {"category": "summons", "channel": Channel.WEB, "summary": text[:60],
                "answers": {"what": text}, "first_message": text}
    return actions.create_case(persona.org, **{**defaults, **kw})


@pytest.fixture
def ledger_rows_removed(transactional_db: None) -> Iterator[None]:
    """Let transactional tests (live server, seized disk) book money: empty the ledger first.

    The ledger refuses DELETE (database triggers) and SQLite's flush deletes row by
    row; PostgreSQL's flush truncates, which the triggers allow. On SQLite the
    triggers are dropped for the clean-up and put back as the migration made them.
    """
    yield
    if connection.vendor != "sqlite":
        return
    migration = importlib.import_module("haven.funds.migrations.0002_immutable_ledger")
    tables = [model._meta.db_table for model in apps.get_app_config("funds").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")
        for sql in migration._reverse_statements("sqlite"):
            cursor.execute(sql)
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - the app's own table names
        for sql in migration._statements("sqlite"):
            cursor.execute(sql)
        cursor.execute("PRAGMA foreign_keys = ON")


def to_legacy(persona: Persona, case: Case) -> Case:
    """Rewrite ``case`` as a case made before teams: no key of its own, its content under its
    team's key (what cases 0008_teams leaves). For tests that migrate back past 0008."""
    from haven.cases import files
    from haven.cases.models import CaseKey, CaseRecord, Deadline

    old = persona.case_vault(case)
    team = persona.vault().team_vault(case.team_id)  # type: ignore[attr-defined]

    def again(blob: Any) -> Any:
        return team.encrypt(old.decrypt(bytes(blob))) if blob else blob

    for rec in CaseRecord.objects.filter(case=case):
        CaseRecord.objects.filter(pk=rec.pk).update(body=again(rec.body))
        attachment = getattr(rec, "file", None)
        if attachment is not None:
            path = files._path(attachment.storage_name)
            path.write_bytes(again(path.read_bytes()))
    for d in Deadline.objects.filter(case=case):
        Deadline.objects.filter(pk=d.pk).update(reason=again(d.reason), sealed_rule=again(d.sealed_rule))
    Case.objects.filter(pk=case.pk).update(summary=again(case.summary), tags=again(case.tags),
                                           public_key=None)
    CaseKey.objects.filter(case=case).delete()
    return Case.objects.get(pk=case.pk)


def pre_teams(persona: Persona) -> None:
    """Make ``persona``'s organization look as accounts 0005_teams leaves one made before
    teams: its "General" team under the organization key, every case without a key of its
    own (content under the organization key)."""
    from haven.accounts.models import Member, Team, TeamKey

    org = Organization.objects.get(pk=persona.org.pk)
    cases = list(Case.objects.filter(organization=org, public_key__isnull=False))
    for case in cases:
        to_legacy(persona, case)  # under General's own key first
    general = Team.objects.get(pk=org.default_team_id)
    ring = persona.vault()
    old_team = ring.team_vault(general.pk)  # type: ignore[attr-defined]
    org_vault = OrgVault(ring.private_key)
    from haven.cases.models import CaseRecord, Deadline

    def again(blob: Any) -> Any:
        return org_vault.encrypt(old_team.decrypt(bytes(blob))) if blob else blob

    from haven.cases import files

    for case in Case.objects.filter(organization=org):
        for rec in CaseRecord.objects.filter(case=case):
            CaseRecord.objects.filter(pk=rec.pk).update(body=again(rec.body))
            attachment = getattr(rec, "file", None)
            if attachment is not None:
                path = files._path(attachment.storage_name)
                path.write_bytes(again(path.read_bytes()))
        for d in Deadline.objects.filter(case=case):
            Deadline.objects.filter(pk=d.pk).update(reason=again(d.reason),
                                                    sealed_rule=again(d.sealed_rule))
        Case.objects.filter(pk=case.pk).update(summary=again(case.summary), tags=again(case.tags))
    Team.objects.filter(pk=general.pk).update(public_key=bytes(org.public_key),
                                              recovery_sealed_key=bytes(org.recovery_sealed_key))
    TeamKey.objects.filter(team=general).delete()
    for m in Member.objects.filter(organization=org).exclude(sealed_org_key=None):
        TeamKey.objects.create(team=general, member=m, sealed_private_key=bytes(m.sealed_org_key))
