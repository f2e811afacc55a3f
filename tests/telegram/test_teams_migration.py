"""accounts 0005_teams and cases 0008_teams on a database made before teams: one team
"General" holds every member and every case, nothing is lost (cases, files, Telegram links,
payouts), every member reads what they read before."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization, Team, TeamKey
from haven.cases import actions, files
from haven.cases.keys import case_vault
from haven.cases.models import Attachment, Case, CaseRecord
from haven.funds.models import Payout
from haven.telegram import links
from haven.telegram.models import Bot
from tests.conftest import PASSWORD, Persona, add_member, pre_teams
from tests.funds.conftest import donate, pay
from tests.telegram.conftest import telegram_case

BEFORE = [("cases", "0007_case_pending_index"), ("accounts", "0004_acct_invite_enrolment")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ledger_rows_removed")
def test_existing_organizations_get_one_team_holding_every_member_and_case(
    alice: Persona, bot: Bot,
) -> None:
    bob = add_member(alice, "bob", "caseworker")
    case = telegram_case(alice, bot, chat_id=4242)
    actions.add_attachment(case, name="scan.pdf", kind="application/pdf",
                           data=b"%PDF-1.4 migrated-file", channel="telegram")
    donate(alice)
    payout = pay(alice, case=case)
    other = actions.create_case(alice.org, category="family", channel="web", summary="Second")
    pre_teams(alice)  # the layout of a database made before teams
    records, links_before = CaseRecord.objects.count(), links.address(case)
    _migrate(BEFORE)
    _migrate()

    org = Organization.objects.get(pk=alice.org.pk)
    general = Team.objects.get(organization=org)
    assert general.name == "General" and org.default_team_id == general.pk
    assert bytes(general.public_key) == bytes(org.public_key)  # the organization's own key
    assert set(TeamKey.objects.filter(team=general).values_list("member_id", flat=True)) == {
        alice.member.pk, bob.member.pk}
    assert set(Case.objects.values_list("team_id", flat=True)) == {general.pk}
    assert CaseRecord.objects.count() == records
    assert links.address(Case.objects.get(pk=case.pk)) == links_before
    assert Payout.objects.get(pk=payout.pk).case_id == case.pk
    for persona in (alice, bob):
        member = Member.objects.get(pk=persona.member.pk)
        ring = unlock_member(member, PASSWORD).ring(member.pk)
        for c in Case.objects.filter(pk__in=[case.pk, other.pk]):
            opened = case_vault(ring, c)
            assert opened.decrypt_text(bytes(c.summary))
            assert all(opened.decrypt(bytes(r.body)) for r in CaseRecord.objects.filter(case=c))
        attachment = Attachment.objects.get(record__case=case)
        assert case_vault(ring, case).decrypt(files.read(attachment.storage_name)).endswith(
            b"migrated-file")
