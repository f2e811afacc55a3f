"""Small things: reminder kinds in words, the KB from intake, the deadline form kept, cards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

import haven
from haven.cases.models import Deadline, Reminder
from haven.desk import reminders
from tests.conftest import Persona, make_case
from tests.funds.conftest import donate, pay

pytestmark = pytest.mark.django_db

ROOT = Path(haven.__file__).parent


def _kinds_raised() -> set[str]:
    """Every reminder kind the code base creates, found in the source."""
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"Reminder\.objects\.create\((.*?)\)\n", text, re.S):
            found.update(re.findall(r'kind="(\w+)"', call.group(1)))
    return found


def test_every_reminder_kind_the_code_raises_has_words() -> None:
    raised = _kinds_raised()
    assert {"deadline", "telegram_blocked", "delivery_failed", "possible_duplicate"} <= raised
    assert raised <= set(reminders.LABELS)


def test_reminders_read_in_the_members_language_never_as_codes(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    for kind in ("telegram_blocked", "some_future_kind"):
        Reminder.objects.create(organization=alice.org, case=case, kind=kind, detail={})
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = alice_client.get("/desk/").content.decode()
    assert "заявитель заблокировал бота в Telegram" in page
    assert "уведомление по этому делу" in page
    assert "telegram_blocked" not in page and "some_future_kind" not in page
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    assert "заявник заблокував бота в Telegram" in alice_client.get("/desk/").content.decode()


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_intake_pages_link_to_the_organizations_knowledge_base(
    alice: Persona, client: Client, lang: str
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    page = client.get(f"/o/{alice.org.slug}/").content.decode()
    kb = f'href="/kb/o/{alice.org.slug}/"'
    assert page.count(kb) == 2  # the top bar and the footer
    assert client.get(f"/kb/o/{alice.org.slug}/").status_code == 200
    followup = client.get(f"/o/{alice.org.slug}/follow-up/").content.decode()
    assert kb in followup


def test_a_refused_deadline_gives_its_date_and_reason_back(
    alice: Persona, alice_client: Client
) -> None:
    case = make_case(alice)
    response = alice_client.post(f"/desk/cases/{case.number}/deadline/",
                                 {"due": "2027-02-30", "reason": "Court hearing in Minsk"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the date (YYYY-MM-DD) and the reason of the deadline." in page
    assert 'value="Court hearing in Minsk"' in page and 'value="2027-02-30"' in page
    assert "<details open>" in page  # the form is shown open, not folded away
    assert not Deadline.objects.filter(case=case).exists()
    fresh = alice_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Court hearing in Minsk" not in fresh and "<details open>" not in fresh


def test_the_wide_funds_tables_label_every_cell_for_the_phone_cards(
    alice: Persona, alice_client: Client
) -> None:
    donate(alice)
    pay(alice, case=make_case(alice))
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url, label in (("/funds/donations/", "Channel"), ("/funds/payouts/", "Purpose")):
        page = alice_client.get(url).content.decode()
        tables = [t.split("</table>", 1)[0] for t in page.split('<table class="cards">')[1:]]
        cells = [attrs for table in tables
                 for attrs in re.findall(r"<td( [^>]*)?>", table.split("</thead>", 1)[1])
                 if "colspan" not in attrs]  # "nothing yet" rows span the table
        assert cells and all("data-label=" in attrs for attrs in cells), url
        assert f'data-label="{label}"' in page, url
