"""Migration 0004 drops the old blind index and tag hashes; a re-index loses nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from haven.cases import actions, search
from haven.cases.models import Case, CaseRecord, CaseTag, SearchToken
from haven.vault.box import derive_subkey
from haven.vault.org import keyed_hash
from haven.vault.purposes import RECORDS
from tests.conftest import Persona, log_in, make_case, pre_teams

BEFORE = [("cases", "0003_search_token_field")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> None:
    """Migrate to ``targets``, or (None) forward to the newest migrations, through 0004."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def _old_token(alice: Persona, stem: str) -> int:
    """A token as the old index made it: under the record key (review I-2)."""
    old_key = derive_subkey(alice.vault().private_key, RECORDS.info)
    return int(keyed_hash(old_key, "search", stem)[:16], 16) - (1 << 63)


@pytest.mark.django_db(transaction=True)
def test_the_reindex_migration_loses_no_case(alice: Persona, alice_client: Client) -> None:
    vault = alice.vault()
    by_message = make_case(alice, "x", first_message="Повестку вручили у метро")
    by_note = make_case(alice, "y", first_message="")
    tagged = make_case(alice, "z", first_message="")
    search.index_pending(vault, alice.org.pk)
    actions.add_note(alice.member, vault, by_note, "Адвокат перезвонит в четверг")
    actions.set_tags(alice.member, vault, tagged, ["срочно"], tagged.version)
    pre_teams(alice)  # cases as they were before teams (under the organization key)
    vault = alice.vault()
    alice_client = log_in(Client(), alice)  # a session holding the General key as it is now
    _migrate(BEFORE)  # the cases are made with today's models, then the schema goes back
    # What the old index held besides: a word of the answers, under the record key.
    leaked = _old_token(alice, "кантемировк")
    SearchToken.objects.create(case=by_message, organization_id=alice.org.pk, token=leaked)
    records = CaseRecord.objects.count()

    _migrate()
    assert not SearchToken.objects.exists() and not CaseTag.objects.exists()
    assert not Case.objects.filter(indexed=True).exists()
    assert CaseRecord.objects.count() == records
    # The next member's search indexes everything again, under the new keys.
    assert list(search.search(vault, alice.org.pk, "повестка")) == [by_message]
    assert list(search.search(vault, alice.org.pk, "адвоката")) == [by_note]
    assert Case.objects.filter(indexed=False).count() == 0
    assert not SearchToken.objects.filter(token=leaked).exists()
    assert CaseTag.objects.get().tag == actions.tag_hash(vault, "срочно")
    page = alice_client.get("/desk/?queue=open&tag=срочно").content.decode()
    assert f">#{tagged.number}</a>" in page and f">#{by_note.number}</a>" not in page


@pytest.mark.django_db(transaction=True)
def test_a_tag_filter_reindexes_first(alice: Persona, alice_client: Client) -> None:
    tagged = make_case(alice, "z", first_message="")
    actions.set_tags(alice.member, alice.vault(), tagged, ["срочно"], tagged.version)
    pre_teams(alice)
    alice_client = log_in(Client(), alice)
    _migrate(BEFORE)
    _migrate()
    page = alice_client.get("/desk/?queue=open&tag=срочно").content.decode()
    assert f">#{tagged.number}</a>" in page


def test_a_search_indexes_a_few_hundred_cases_and_says_how_many_wait(
        alice: Persona, alice_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "PENDING_PER_SEARCH", 2)
    cases = [make_case(alice, "x", first_message="Паспорт забрали") for _ in range(5)]
    russian = alice_client.get("/desk/search/?q=паспорт", HTTP_ACCEPT_LANGUAGE="ru")
    assert "3 обращения ещё не в поисковом индексе" in russian.content.decode()
    page = alice_client.get("/desk/search/?q=паспорт").content.decode()
    assert "4 cases found" in page
    assert "1 case is not in the search index yet" in page
    page = alice_client.get("/desk/search/?q=паспорт").content.decode()
    assert "5 cases found" in page and "not in the search index yet" not in page
    assert search.pending(alice.org.pk) == 0 and len(cases) == 5


def test_the_reindex_command_indexes_every_waiting_case(
        alice: Persona, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import CommandError, call_command

    for _ in range(3):
        make_case(alice, "x", first_message="Паспорт забрали")
    monkeypatch.setenv("HAVEN_REINDEX_PASSWORD", "wrong password")
    with pytest.raises(CommandError, match="does not open"):
        call_command("reindex", "first", user="alice")
    assert search.pending(alice.org.pk) == 3
    monkeypatch.setenv("HAVEN_REINDEX_PASSWORD", alice.password)
    monkeypatch.setattr("haven.cases.management.commands.reindex.BATCH", 2)
    call_command("reindex", "first", user="alice")
    assert search.pending(alice.org.pk) == 0
    assert SearchToken.objects.filter(organization_id=alice.org.pk).count() == 3 * 32
