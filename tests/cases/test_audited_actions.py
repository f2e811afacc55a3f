"""The changes that moved into haven.cases.actions: each is refused without the right and
writes its audit entry in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haven.audit.chain import verify
from haven.audit.models import AuditEntry
from haven.cases import actions, files, replies
from haven.cases.access import NotAllowed
from haven.cases.models import (
    Attachment,
    Case,
    CaseRecord,
    OrgSettings,
    RecordKind,
    Reminder,
    SavedReply,
    Status,
)
from tests.conftest import Persona, make_case

PDF = b"%PDF-1.4\nsummons scan\n"


def _entry(action: str, **filters: Any) -> AuditEntry:
    return AuditEntry.objects.get(action=action, **filters)


def test_an_attachment_is_sealed_recorded_and_audited(alice: Persona) -> None:
    case = make_case(alice)
    before = case.version
    attachment = actions.add_attachment(case, name="scan.pdf", kind="application/pdf", data=PDF,
                                        channel="web")
    case.refresh_from_db()
    assert case.version == before + 1
    stored = files.read(attachment.storage_name)
    assert b"summons scan" not in stored  # ciphertext on disk
    meta = json.loads(alice.case_vault(attachment.record.case).decrypt_text(bytes(attachment.record.body)))
    assert (meta["name"], meta["size"], meta["storage"]) == ("scan.pdf", len(PDF), attachment.storage_name)
    entry = _entry("case.attachment", case_id=case.pk)
    assert entry.detail == {"record": attachment.record_id, "channel": "web"}
    assert entry.actor_id is None and verify(alice.org.pk) is None


def test_an_attachment_whose_audit_fails_leaves_no_record_and_no_file(
    alice: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make_case(alice)
    seen, on_disk = case.version, set(files.folder().iterdir())

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(actions, "_audit", broken)
    with pytest.raises(RuntimeError):
        actions.add_attachment(case, name="scan.pdf", kind="application/pdf", data=PDF, channel="web")
    assert not CaseRecord.objects.filter(kind=RecordKind.ATTACHMENT).exists()
    assert not Attachment.objects.exists()
    assert set(files.folder().iterdir()) == on_disk
    assert Case.objects.get(pk=case.pk).version == seen


def test_the_fraud_mark_bumps_the_version_and_is_audited(
    alice: Persona, bob: Persona, charlie: Persona
) -> None:
    case = make_case(alice)
    for refused in (bob, charlie):  # a caseworker; another organization's administrator
        with pytest.raises(NotAllowed):
            actions.set_fraud_suspected(refused.member, case, True)
    assert not AuditEntry.objects.filter(action="case.fraud").exists()
    seen = case.version
    actions.set_fraud_suspected(alice.member, case, True)
    assert case.fraud_suspected and case.version == seen + 1
    assert Case.objects.get(pk=case.pk).fraud_suspected
    entry = _entry("case.fraud", case_id=case.pk)
    assert (entry.actor_id, entry.detail) == (alice.member.pk, {"suspected": True})


def _closed_long_ago(alice: Persona) -> Case:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.CLOSED, None)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=400))
    return Case.objects.get(pk=case.pk)


def test_the_retention_purge_deletes_and_audits_in_one_step(alice: Persona) -> None:
    case = _closed_long_ago(alice)
    pk = case.pk
    assert actions.purge_expired(case, 180)
    assert not Case.objects.filter(pk=pk).exists()
    assert _entry("case.purged", case_id=pk).detail == {"retention_days": 180}
    assert verify(alice.org.pk) is None


def test_a_case_reopened_after_the_worker_listed_it_is_kept(alice: Persona) -> None:
    listed = _closed_long_ago(alice)  # what the worker's query returned
    actions.set_status(alice.member, Case.objects.get(pk=listed.pk), Status.TRIAGE, None)
    assert not actions.purge_expired(listed, 180)
    assert Case.objects.get(pk=listed.pk).status == Status.TRIAGE
    assert CaseRecord.objects.filter(case_id=listed.pk).exists()
    assert not AuditEntry.objects.filter(action="case.purged").exists()


def test_reseal_moves_intake_cases_to_the_record_key_without_changing_them(alice: Persona) -> None:
    # Since teams, a case's key pair is made at intake, so its summary and answers go under
    # its record key at once; what arrives later (a message) is sealed to the case's public
    # key and moved to the record key by a member's reseal.
    cases = [make_case(alice, f"summons number {n}") for n in range(3)]
    vault = alice.vault()
    opened = [alice.case_vault(c) for c in cases]
    assert not any(v.is_sealed(bytes(c.summary)) for v, c in zip(opened, cases, strict=True))
    with CaptureQueriesContext(connection) as queries:
        actions.reseal_cases(vault, cases)
    assert len(queries) == 1  # the page's case keys, one query; nothing to write
    actions.add_inbound(cases[0], "a later message")
    stored = Case.objects.get(pk=cases[0].pk)
    assert any(opened[0].is_sealed(bytes(r.body)) for r in CaseRecord.objects.filter(case=stored))
    actions.reseal(vault, stored)
    assert Case.objects.get(pk=stored.pk).version == stored.version  # content unchanged
    bodies = [bytes(r.body) for r in CaseRecord.objects.filter(case=stored)]
    assert bodies and not any(opened[0].is_sealed(b) for b in bodies)
    assert "summons number 0" in opened[0].decrypt_text(bytes(stored.summary))
    assert "a later message" in [opened[0].decrypt_text(b) for b in bodies]


def test_ready_replies_are_saved_and_deleted_by_coordinators_with_an_entry(
    alice: Persona, bob: Persona, charlie: Persona
) -> None:
    with pytest.raises(NotAllowed):
        actions.save_reply(bob.member, alice.vault(), "Summons", {"en": "Do not panic."})
    saved = actions.save_reply(alice.member, alice.vault(), "Summons", {"en": "Do not panic."})
    pk = saved.pk
    assert replies.decrypt(alice.vault(), saved).versions == {"en": "Do not panic."}
    assert _entry("reply.saved").detail == {"reply": pk}
    for refused in (bob, charlie):
        with pytest.raises(NotAllowed):
            actions.delete_reply(refused.member, saved)
    assert SavedReply.objects.filter(pk=pk).exists()
    actions.delete_reply(alice.member, saved)
    assert not SavedReply.objects.exists()
    entry = _entry("reply.deleted")
    assert (entry.actor_id, entry.detail) == (alice.member.pk, {"reply": pk})


def _reminder(persona: Persona) -> Reminder:
    case = make_case(persona)
    return Reminder.objects.create(organization=persona.org, case=case, kind="delivery_failed")


def test_dismissing_a_reminder_is_audited_once_and_only_in_the_own_organization(
    alice: Persona, bob: Persona, charlie: Persona
) -> None:
    reminder = _reminder(alice)
    assert not actions.dismiss_reminder(charlie.member, reminder.pk)
    assert not Reminder.objects.get(pk=reminder.pk).dismissed
    assert actions.dismiss_reminder(bob.member, reminder.pk)
    assert not actions.dismiss_reminder(bob.member, reminder.pk)  # already dismissed
    assert Reminder.objects.get(pk=reminder.pk).dismissed
    entry = _entry("reminder.dismissed")
    assert (entry.actor_id, entry.case_id, entry.detail) == (
        bob.member.pk, reminder.case_id, {"reminder": reminder.pk})


def test_the_retention_period_is_set_by_coordinators_with_an_entry(alice: Persona, bob: Persona) -> None:
    with pytest.raises(NotAllowed):
        actions.set_retention(bob.member, 30)
    actions.set_retention(alice.member, 30)
    assert OrgSettings.objects.get(organization=alice.org).retention_days == 30
    entry = _entry("settings.retention")
    assert (entry.actor_id, entry.detail) == (alice.member.pk, {"days": 30})


def test_showing_a_queue_is_audited_and_an_empty_one_is_not(alice: Persona) -> None:
    actions.read_queue(alice.member, [])
    assert not AuditEntry.objects.filter(action="queue.read").exists()
    cases = [make_case(alice), make_case(alice)]
    actions.read_queue(alice.member, cases)
    assert _entry("queue.read").detail == {"cases": [c.pk for c in cases]}


def test_the_desk_pages_change_settings_and_reminders_through_the_actions(
    alice: Persona, alice_client: Client
) -> None:
    settings_page = alice_client.get("/desk/settings/")
    assert settings_page.status_code == 200 and 'value="180"' in settings_page.content.decode()
    assert not OrgSettings.objects.filter(organization=alice.org).exists()  # reading writes nothing
    alice_client.post("/desk/settings/", {"retention_days": "90"})
    assert OrgSettings.objects.get(organization=alice.org).retention_days == 90
    assert _entry("settings.retention").detail == {"days": 90}
    reminder = _reminder(alice)
    assert alice_client.post(f"/desk/reminders/{reminder.pk}/dismiss/").status_code == 302
    assert Reminder.objects.get(pk=reminder.pk).dismissed
    assert _entry("reminder.dismissed", case_id=reminder.case_id)
