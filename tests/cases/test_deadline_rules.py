"""The legal deadline rules: only rules a law contains, each citing it, with the right dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from django.test import Client

from haven.cases import actions, rules
from tests.conftest import Persona, make_case

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "content" / "questionnaires"
# A reason names the law it rests on: a federal law, a code or a government decree.
LAW = re.compile(r"\d+-(ФЗ|FZ)|КАС|Code of|постановлени|Decree|постанов")


def _due(rule_id: str, value: date | int) -> date:
    return rules.propose(rule_id, value, "en").due


def test_the_unfounded_deferment_rule_is_gone() -> None:
    # facts.md: "within 10 days after losing a deferment" is in no law; build no rule on it.
    assert "acs-after-deferment" not in rules.all_rules()
    for path in QUESTIONNAIRES.glob("*.yaml"):
        links = yaml.safe_load(path.read_text(encoding="utf-8")).get("deadlines") or []
        assert {link["rule"] for link in links} <= set(rules.all_rules()), path.name


def test_the_exit_ban_starts_the_day_the_summons_is_posted() -> None:
    proposal = rules.propose("summons-exit-ban", date(2026, 11, 2), "ru")
    assert proposal.due == date(2026, 11, 2)  # no 7-day window
    assert "с 2026-11-02" in proposal.reason and "«окна» в 7 дней нет" in proposal.reason
    assert "53-ФЗ, ст. 7.1 п. 1" in proposal.reason and "114-ФЗ, ст. 15.1" in proposal.reason
    english = rules.propose("summons-exit-ban", date(2026, 11, 2), "en").reason
    assert "there is no 7-day window" in english and "Art. 31" in english


def test_further_restrictions_count_20_days_from_the_appearance_date() -> None:
    rule = rules.all_rules()["summons-restrictions-start"]
    assert rule.input_name == "report_date"
    assert "appearance" in rule.input_labels["en"]
    assert _due("summons-restrictions-start", date(2026, 12, 1)) == date(2026, 12, 21)
    assert "20 calendar days after the appearance date of 2026-12-01" in \
        rules.propose("summons-restrictions-start", date(2026, 12, 1), "en").reason


@pytest.mark.parametrize(("decided", "due"), [
    (date(2026, 1, 15), date(2026, 4, 15)), (date(2025, 11, 30), date(2026, 2, 28)),
])
def test_an_appeal_against_the_decision_to_conscript_is_due_in_3_months(decided: date,
                                                                        due: date) -> None:
    assert _due("conscription-appeal", decided) == due
    assert "53-ФЗ, ст. 28 п. 7" in rules.propose("conscription-appeal", decided, "ru").reason


@pytest.mark.parametrize(("notified", "due"), [
    (date(2026, 12, 2), date(2026, 12, 9)),   # Wednesday -> the next Wednesday
    (date(2026, 12, 4), date(2026, 12, 11)),  # Friday -> the next Friday
    (date(2026, 12, 5), date(2026, 12, 11)),  # Saturday: counting starts on Monday
])
def test_the_passport_is_due_5_working_days_after_notification(notified: date, due: date) -> None:
    assert _due("passport-surrender", notified) == due
    reason = rules.propose("passport-surrender", notified, "uk").reason
    assert "№ 1953" in reason and "5 робочих днів" in reason and "святкові" in reason


def test_every_rule_cites_its_law_in_every_language() -> None:
    for rule in rules.all_rules().values():
        for lang in ("ru", "uk", "en"):
            assert LAW.search(rule.reasons[lang]), (rule.id, lang)
            assert rule.titles[lang] and rule.input_labels[lang], (rule.id, lang)


@pytest.mark.parametrize("old_rule", ["acs-after-deferment", "summons-served",
                                      "summons-restrictions"])
def test_a_deadline_from_a_removed_rule_still_shows(alice: Persona, alice_client: Client,
                                                   old_rule: str) -> None:
    case = make_case(alice)
    actions.propose_deadline(case, datetime(2026, 12, 20, tzinfo=UTC),
                             f"Stored reason of {old_rule}", old_rule)
    response = alice_client.get(f"/desk/cases/{case.number}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Stored reason of {old_rule}" in page and "2026-12-20" in page
    # ...with a warning, so nobody acts on a wrong stored reason unchecked.
    assert "This proposal came from a withdrawn rule" in page


def test_the_withdrawn_warning_speaks_the_desks_language(alice: Persona,
                                                         alice_client: Client) -> None:
    case = make_case(alice)
    actions.propose_deadline(case, datetime(2026, 12, 20, tzinfo=UTC), "old", "summons-served")
    actions.propose_deadline(case, datetime(2026, 12, 21, tzinfo=UTC), "new", "summons-exit-ban")
    alice_client.post("/i18n/setlang/", {"language": "ru", "next": "/desk/"})
    page = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert page.count("Это предложение создано отменённым правилом") == 1
    assert "выезд из России запрещён со дня размещения повестки в реестре" in page
