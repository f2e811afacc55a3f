from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from haven import outbox
from haven.audit.chain import verify
from haven.audit.models import AuditEntry
from haven.cases import actions, search
from haven.cases.access import NotAllowed, access_case_by_number
from haven.cases.models import Case, CaseRecord, Delivery, Reminder, Status
from haven.cases.tasks import purge_closed_cases, raise_deadline_reminders
from haven.outbox.models import Outbox
from tests.conftest import Persona, RecordingHandler, add_member, make_case


def test_intake_cases_are_numbered_per_organization(alice: Persona, charlie: Persona) -> None:
    assert [make_case(alice).number, make_case(alice).number] == [1, 2]
    assert make_case(charlie).number == 1


def test_reading_a_case_decrypts_it_and_is_audited(alice: Persona) -> None:
    case = make_case(alice, "Повестка пришла вчера")
    records = actions.read_case(alice.member, alice.vault(), case)
    assert [r["body"] for r in records] == [{"what": "Повестка пришла вчера"}, "Повестка пришла вчера"]
    assert AuditEntry.objects.filter(case_id=case.pk, action="case.read").count() == 1


def test_another_organizations_member_gets_404(alice: Persona, charlie: Persona) -> None:
    case = make_case(alice)
    with pytest.raises(Http404):
        access_case_by_number(charlie.member, case.number + 100)
    assert access_case_by_number(charlie.member, make_case(charlie).number).organization == charlie.org
    with pytest.raises(Http404):
        access_case_by_number(charlie.member, 2)


def test_status_transitions_are_checked(alice: Persona) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.TRIAGE, case.version)
    with pytest.raises(actions.ActionError):
        actions.set_status(alice.member, case, Status.NEW, case.version)
    assert Case.objects.get(pk=case.pk).status == Status.TRIAGE


def test_a_stale_form_overwrites_nothing(alice: Persona, bob: Persona) -> None:
    case = make_case(alice)
    seen = case.version
    actions.set_status(alice.member, case, Status.TRIAGE, seen)
    stale = Case.objects.get(pk=case.pk)
    with pytest.raises(actions.StaleCase):
        actions.assign(bob.member, stale, bob.member, seen)
    assert Case.objects.get(pk=case.pk).assignee is None


def test_a_caseworker_takes_a_case_but_cannot_assign_others_or_burn(alice: Persona, bob: Persona) -> None:
    case = make_case(alice)
    actions.assign(bob.member, case, bob.member, case.version)
    with pytest.raises(NotAllowed):
        actions.assign(bob.member, case, alice.member, case.version)
    with pytest.raises(NotAllowed):
        actions.burn(bob.member, case)


def test_a_viewer_cannot_change_a_case(alice: Persona) -> None:
    viewer = add_member(alice, "vera", "viewer")
    case = make_case(alice)
    with pytest.raises(NotAllowed):
        actions.add_note(viewer.member, viewer.vault(), case, "hello")
    assert not CaseRecord.objects.filter(case=case, kind="note").exists()


def test_empty_or_oversized_notes_are_refused(alice: Persona) -> None:
    case = make_case(alice)
    for text in ("   ", "x" * (actions.MAX_TEXT + 1)):
        with pytest.raises(actions.ActionError):
            actions.add_note(alice.member, alice.vault(), case, text)
    assert not CaseRecord.objects.filter(case=case, kind="note").exists()


def test_a_reply_is_delivered_once_and_its_outbox_row_deleted(
    alice: Persona, channel: RecordingHandler
) -> None:
    case = make_case(alice)
    rec = actions.reply(alice.member, alice.vault(), case, "Write to us again tomorrow")
    assert Outbox.objects.count() == 1
    assert outbox.run_once().sent == 1
    assert outbox.run_once().sent == 0
    assert channel.sent == [{"text": "Write to us again tomorrow", "case": case.number}]
    assert CaseRecord.objects.get(pk=rec.pk).delivery == Delivery.SENT
    assert not Outbox.objects.exists()
    assert Case.objects.get(pk=case.pk).first_reply_at is not None


def test_a_transient_failure_is_retried_with_backoff(alice: Persona, channel: RecordingHandler) -> None:
    case = make_case(alice)
    actions.reply(alice.member, alice.vault(), case, "hello")
    channel.fail.append(outbox.DeliveryError("timeout"))
    assert outbox.run_once().retried == 1
    row = Outbox.objects.get()
    assert row.attempts == 1 and row.next_attempt > timezone.now()
    assert outbox.run_once().sent == 0  # not due yet
    Outbox.objects.update(next_attempt=timezone.now())
    assert outbox.run_once().sent == 1


def test_a_permanent_failure_is_shown_on_the_case(alice: Persona, channel: RecordingHandler) -> None:
    case = make_case(alice)
    rec = actions.reply(alice.member, alice.vault(), case, "hello")
    channel.fail.append(outbox.DeliveryError("blocked by the user", permanent=True))
    assert outbox.run_once().failed == 1
    rec.refresh_from_db()
    assert rec.delivery == Delivery.FAILED and rec.delivery_error == "blocked by the user"
    assert Reminder.objects.filter(case=case, kind="delivery_failed").exists()
    assert not Outbox.objects.exists()


def test_a_claimed_row_is_not_sent_by_a_second_worker(alice: Persona, channel: RecordingHandler) -> None:
    case = make_case(alice)
    actions.reply(alice.member, alice.vault(), case, "hello")
    first = outbox.claim()
    assert len(first) == 1 and outbox.claim() == []


def test_the_outbox_payload_is_not_stored_in_clear(alice: Persona, channel: RecordingHandler) -> None:
    case = make_case(alice)
    actions.reply(alice.member, alice.vault(), case, "secret-reply-words")
    assert b"secret-reply-words" not in bytes(Outbox.objects.get().payload)


def test_search_finds_word_forms_only_in_the_own_organization(alice: Persona, charlie: Persona) -> None:
    mine = make_case(alice, "Мне пришла повестка в военкомат")
    make_case(alice, "Помогите с документами")
    theirs = make_case(charlie, "Мне пришла повестка")
    hits = list(search.search(alice.vault(), alice.org.pk, "повестки"))
    assert hits == [mine]
    assert list(search.search(charlie.vault(), charlie.org.pk, "повесткой")) == [theirs]
    assert list(search.search(alice.vault(), alice.org.pk, "повестка документами")) == []


def test_notes_are_searchable_at_once(alice: Persona) -> None:
    case = make_case(alice)
    search.index_pending(alice.vault(), alice.org.pk)
    actions.add_note(alice.member, alice.vault(), case, "deserter's mother called")
    assert list(search.search(alice.vault(), alice.org.pk, "mothers")) == [case]


def test_burning_a_case_leaves_a_tombstone_and_no_content(alice: Persona, channel: RecordingHandler) -> None:
    case = make_case(alice, "burn-me-words")
    actions.reply(alice.member, alice.vault(), case, "reply")
    search.index_pending(alice.vault(), alice.org.pk)
    actions.burn(alice.member, case)
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.summary == b""
    assert not CaseRecord.objects.filter(case=case).exists()
    assert not Outbox.objects.exists()
    assert list(search.search(alice.vault(), alice.org.pk, "burn")) == []
    assert AuditEntry.objects.filter(case_id=case.pk, action="case.burned").exists()


def test_retention_purges_old_closed_cases_only(alice: Persona) -> None:
    old, recent, open_case = make_case(alice), make_case(alice), make_case(alice)
    for case in (old, recent):
        actions.set_status(alice.member, case, Status.CLOSED, None)
    Case.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=400))
    assert purge_closed_cases() == 1
    assert set(Case.objects.values_list("pk", flat=True)) == {recent.pk, open_case.pk}
    assert AuditEntry.objects.filter(case_id=old.pk, action="case.purged").exists()
    assert verify(alice.org.pk) is None


def test_deadline_reminders_come_72_and_24_hours_ahead_once(alice: Persona) -> None:
    case = make_case(alice)
    deadline = actions.add_deadline(alice.member, alice.vault(), case,
                                    timezone.now() + timedelta(hours=60), "appeal")
    assert Case.objects.get(pk=case.pk).next_due == deadline.due
    assert raise_deadline_reminders() == 1
    assert raise_deadline_reminders() == 0
    type(deadline).objects.filter(pk=deadline.pk).update(due=timezone.now() + timedelta(hours=20))
    assert raise_deadline_reminders() == 1
    assert Reminder.objects.filter(case=case, kind="deadline").count() == 2


def test_the_audit_chain_finds_an_edited_removed_or_reordered_entry(alice: Persona) -> None:
    case = make_case(alice)
    for status in (Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING):
        actions.set_status(alice.member, case, status, None)
    assert verify(alice.org.pk) is None
    entries = list(AuditEntry.objects.filter(organization=alice.org).order_by("seq"))
    AuditEntry.objects.filter(pk=entries[2].pk).update(detail={"old": "x", "new": "closed"})
    broken = verify(alice.org.pk)
    assert broken is not None and broken.seq == entries[2].seq and "edited" in broken.problem
    AuditEntry.objects.filter(pk=entries[2].pk).update(detail=entries[2].detail)
    assert verify(alice.org.pk) is None
    AuditEntry.objects.filter(pk=entries[1].pk).delete()
    assert verify(alice.org.pk).seq == entries[1].seq  # type: ignore[union-attr]


def test_audit_verify_exits_non_zero_on_a_broken_chain(alice: Persona) -> None:
    case = make_case(alice)
    actions.set_status(alice.member, case, Status.TRIAGE, None)
    call_command("audit", "verify")
    AuditEntry.objects.filter(organization=alice.org).order_by("-seq").first().delete()  # type: ignore[union-attr]
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1
