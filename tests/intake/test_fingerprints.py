"""Identifiers kept for duplicate detection: keyed under the organization's key only."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings

from haven.cases.models import Case, Reminder
from haven.core.keys import pepper_hash
from haven.intake import fingerprints
from haven.intake.models import CaseFingerprint
from haven.vault import keyed_hash
from tests.conftest import Persona

from .conftest import Visitor, complete
from .test_desk import MONEY

pytestmark = pytest.mark.django_db

PHONE = "79001234567"  # MONEY's "+7 (900) 123-45-67", normalised


def _server_guesses(value: str) -> set[str]:
    """Every hash of ``value`` someone holding the server's secrets (not a member key) can make."""
    secrets = [settings.HAVEN_PEPPER, settings.HAVEN_TOKEN_KEY, settings.SECRET_KEY.encode()]
    labels = ["phone", "fp-phone", "fingerprint"]
    return {pepper_hash(label, value) for label in labels} | {
        keyed_hash(secret, label, value) for secret in secrets for label in labels}


def test_with_the_server_secrets_but_no_member_key_a_planted_phone_matches_nothing(
    alice: Persona, charlie: Persona,
) -> None:
    complete(Visitor(alice.org.slug), MONEY, "money")
    pending = CaseFingerprint.objects.get()
    assert pending.hash == "" and PHONE.encode() not in bytes(pending.sealed)
    fingerprints.compute_pending(alice.vault(), alice.org.pk)
    stored = set(CaseFingerprint.objects.values_list("hash", flat=True))
    assert stored and not stored & _server_guesses(PHONE)
    assert CaseFingerprint.objects.get().sealed is None
    # Only the organization's key makes the stored value, and another organization's
    # key makes a different one.
    assert stored == {alice.vault().fingerprint("phone", PHONE)}
    assert charlie.vault().fingerprint("phone", PHONE) not in stored


def test_old_peppered_fingerprints_are_dropped_and_open_cases_read_again_from_answers(
    alice: Persona,
) -> None:
    complete(Visitor(alice.org.slug), MONEY, "money")
    complete(Visitor(alice.org.slug), MONEY, "money")
    first, second = Case.objects.order_by("number")
    # As before the migration: one peppered row per case, already compared.
    CaseFingerprint.objects.all().delete()
    for case in (first, second):
        CaseFingerprint.objects.create(organization=alice.org, case=case, kind="phone",
                                       hash=pepper_hash("phone", PHONE))
    migration = importlib.import_module("haven.intake.migrations.0002_ident_keyed_fingerprints")
    migration.rekey(apps, None)
    assert sorted(CaseFingerprint.objects.values_list("case_id", "kind", "hash")) == [
        (first.pk, "", ""), (second.pk, "", "")]
    assert fingerprints.compute_pending(alice.vault(), alice.org.pk) == 2
    assert set(CaseFingerprint.objects.values_list("hash", flat=True)) == {
        alice.vault().fingerprint("phone", PHONE)}
    reminder = Reminder.objects.get(kind="possible_duplicate")
    assert (reminder.case, reminder.detail) == (second, {"other": first.number})
    assert fingerprints.compute_pending(alice.vault(), alice.org.pk) == 0  # done once


def test_closing_a_case_deletes_its_fingerprints_and_reopening_reads_them_again(
    alice: Persona,
) -> None:
    from haven.cases import actions
    from haven.cases.models import Status

    complete(Visitor(alice.org.slug), MONEY, "money")
    complete(Visitor(alice.org.slug), MONEY, "money")
    first, second = Case.objects.order_by("number")
    fingerprints.compute_pending(alice.vault(), alice.org.pk)
    Reminder.objects.all().delete()
    actions.set_status(alice.member, first, Status.CLOSED, first.version)
    assert list(CaseFingerprint.objects.values_list("case_id", flat=True)) == [second.pk]
    first.refresh_from_db()
    actions.set_status(alice.member, first, Status.TRIAGE, first.version, alice.vault())
    assert CaseFingerprint.objects.get(case=first).hash == alice.vault().fingerprint("phone", PHONE)
    reminder = Reminder.objects.get(kind="possible_duplicate")
    assert (reminder.case, reminder.detail) == (first, {"other": second.number})


def test_the_worker_deletes_fingerprints_of_cases_closed_behind_its_back(alice: Persona) -> None:
    from haven.cases.models import Status
    from haven.intake.tasks import forget_fingerprints_of_closed_cases

    complete(Visitor(alice.org.slug), MONEY, "money")
    complete(Visitor(alice.org.slug), MONEY, "money")
    first, second = Case.objects.order_by("number")
    Case.objects.filter(pk=first.pk).update(status=Status.CLOSED)  # no signal
    assert forget_fingerprints_of_closed_cases() == 1
    assert list(CaseFingerprint.objects.values_list("case_id", flat=True)) == [second.pk]


def test_a_backlog_is_worked_off_a_page_view_at_a_time(
    alice: Persona, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.test import Client

    from tests.conftest import log_in

    monkeypatch.setattr(fingerprints, "PER_VISIT", 1)
    complete(Visitor(alice.org.slug), MONEY, "money")
    complete(Visitor(alice.org.slug), MONEY, "money")
    client = log_in(Client(), alice)
    client.get("/desk/")
    assert CaseFingerprint.objects.filter(hash="").count() == 1
    assert not Reminder.objects.exists()
    client.get("/desk/")
    assert CaseFingerprint.objects.filter(hash="").count() == 0
    assert Reminder.objects.filter(kind="possible_duplicate").count() == 1
