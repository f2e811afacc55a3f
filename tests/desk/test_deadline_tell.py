"""A confirmed deadline is told to the requester in their language with one click."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from haven.accounts.models import Role
from haven.cases import actions, rules
from haven.cases.models import Case, CaseRecord, Channel, Deadline, Outbox, RecordKind
from tests.conftest import Persona, RecordingHandler, add_member, log_in, make_case

pytestmark = pytest.mark.django_db


def _deadline(persona: Persona, case: Case, *, confirmed: bool = True) -> Deadline:
    proposal = rules.propose("acs-autumn-callup", 2027, "en")
    return actions.add_deadline(persona.member, persona.vault(), case, proposal.due_at,
                                proposal.reason, rule=proposal.rule.id, confirmed=confirmed)


def _tell(client: Client, case: Case, deadline: Deadline) -> object:
    return client.post(f"/desk/cases/{case.number}/deadline-tell/", {"deadline": deadline.pk},
                       follow=True)


def _sent(persona: Persona, case: Case) -> list[str]:
    return [persona.case_vault(r.case).decrypt_text(bytes(r.body))
            for r in CaseRecord.objects.filter(case=case, kind=RecordKind.OUTBOUND)]


def test_the_requester_gets_the_date_in_their_own_language(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice, lang="uk")
    deadline = _deadline(alice, case)
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Tell the requester this date (Українська)" in page
    response = _tell(alice_client, case, deadline)
    assert response.status_code == 200  # type: ignore[attr-defined]
    sent = _sent(alice, case)
    assert sent == ["1 квітня 2027 — важлива дата у вашій справі: "
                    "Заява на АЦС до осіннього призову (жовтень–грудень)."]
    assert Outbox.objects.filter(case=case).count() == 1  # queued through the reply path
    assert "The date was sent to the requester in Українська" in \
        response.content.decode()  # type: ignore[attr-defined]


def test_a_russian_requester_gets_russian_and_a_custom_deadline_gets_its_date(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice, lang="ru")
    deadline = actions.add_deadline(alice.member, alice.vault(), case,
                                    rules.due_at(date(2026, 12, 21)), "court hearing")
    _tell(alice_client, case, deadline)
    assert _sent(alice, case) == ["21 декабря 2026 — важная дата по вашему делу."]


def test_an_unconfirmed_deadline_is_not_sent(
    alice: Persona, alice_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice, lang="ru")
    deadline = _deadline(alice, case, confirmed=False)
    assert "Tell the requester this date" not in \
        alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    response = _tell(alice_client, case, deadline)
    assert "Only a confirmed deadline" in response.content.decode()  # type: ignore[attr-defined]
    assert _sent(alice, case) == [] and not Outbox.objects.exists()


def test_a_case_with_no_channel_offers_no_button(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice, channel=Channel.DESK, lang="ru")
    _deadline(alice, case)
    assert "Tell the requester this date" not in \
        alice_client.get(f"/desk/cases/{case.number}/").content.decode()


def test_a_viewer_or_another_organization_cannot_send(
    alice: Persona, charlie: Persona, charlie_client: Client, channel: RecordingHandler
) -> None:
    case = make_case(alice, lang="ru")
    deadline = _deadline(alice, case)
    viewer = log_in(Client(), add_member(alice, "vera", Role.VIEWER))
    assert _tell(viewer, case, deadline).status_code == 404  # type: ignore[attr-defined]
    theirs = make_case(charlie)
    assert _tell(charlie_client, theirs, deadline).status_code == 404  # type: ignore[attr-defined]
    assert _sent(alice, case) == [] and not Outbox.objects.exists()


def test_the_sentence_in_english_names_the_rule() -> None:
    assert rules.requester_text(date(2027, 4, 1), "acs-autumn-callup", "en") == (
        "1 April 2027 is an important date in your case: "
        "ACS application for the October–December call-up.")
