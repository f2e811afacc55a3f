"""A deadline's rule id is encrypted and kept out of the audit trail (review L-2)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from haven.audit.models import AuditEntry
from haven.cases import actions
from haven.cases.models import Deadline
from tests.conftest import Persona, make_case, pre_teams

RULES = ("summons-served", "regional-appeal", "acs-after-deferment")


def test_rule_ids_are_sealed_alike_and_the_audit_holds_neither_rule_nor_date(alice: Persona) -> None:
    case = make_case(alice)
    due = timezone.now() + timedelta(days=9)
    proposed = [actions.propose_deadline(case, due, "reason", rule) for rule in RULES]
    added = actions.add_deadline(alice.member, alice.vault(), case, due, "reason",
                                 rule="regional-appeal")
    custom = actions.add_deadline(alice.member, alice.vault(), case, due, "set by hand")
    vault = alice.vault()
    assert [actions.deadline_rule(vault, d) for d in proposed] == list(RULES)
    assert actions.deadline_rule(vault, added) == "regional-appeal"
    assert actions.deadline_rule(vault, custom) == ""
    for deadline in Deadline.objects.all():
        assert not any(rule.encode() in bytes(deadline.sealed_rule) for rule in RULES)
    # One length per kind of box: the length does not tell the rule (or that there is none).
    assert len({len(bytes(d.sealed_rule)) for d in Deadline.objects.filter(confirmed=False)}) == 1
    assert len(bytes(added.sealed_rule)) == len(bytes(custom.sealed_rule))
    details = [json.dumps(e.detail) for e in AuditEntry.objects.filter(action__startswith="deadline.")]
    assert len(details) == 5
    assert not any(rule in d for rule in RULES for d in details)
    assert not any(due.date().isoformat() in d or '"due"' in d for d in details)


def test_a_rule_too_long_or_with_spaces_is_refused(alice: Persona) -> None:
    case = make_case(alice)
    with pytest.raises(ValueError):
        actions.propose_deadline(case, timezone.now(), "reason", "x" * 49)
    assert not Deadline.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_rules_already_stored(alice: Persona) -> None:
    case = make_case(alice)
    pre_teams(alice)  # a case as it was before teams: under the organization key
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0004_index_reindex_free_text")])
    old = executor.loader.project_state([("cases", "0004_index_reindex_free_text")]).apps
    old_deadline = old.get_model("cases", "Deadline")
    due = timezone.now() + timedelta(days=7)
    for rule in ("summons-served", ""):
        old_deadline.objects.create(case_id=case.pk, due=due, rule=rule, reason=b"x",
                                    confirmed=False)
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0005_index_seal_deadline_rule")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the newest schema (cases 0008_teams)
    vault = alice.vault()
    assert sorted(actions.deadline_rule(vault, d) for d in Deadline.objects.all()) == [
        "", "summons-served"]
    assert all(b"summons" not in bytes(d.sealed_rule) for d in Deadline.objects.all())
