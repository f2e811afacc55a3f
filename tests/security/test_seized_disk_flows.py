"""A seized server, after the real flows, holds none of the planted names, numbers or words.

Issue: "A seized-disk test that drives the real flows" (review I-5, section 2, H-3).
One scenario plants unique strings through a web intake with a photo, a bot intake
through the fake Telegram, desk replies, a follow-up in each channel, a payout to a
named payee, an accepted invitation and a closed case. A thief then reads:

- the database files as they lie on disk (SQLite with -wal and -shm, or pg_dump),
  and the login sessions decoded;
- every file under HAVEN_DATA;
- every log record at DEBUG.

The last test gives the thief the server's secrets too (pepper, token key, Django
secret key) but no organization key: no stored value may then be recomputed from a
phone number, Telegram username or chat id.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from haven.cases import actions
from haven.cases.models import Attachment
from haven.funds.models import Payout
from haven.intake.questionnaire import FINGERPRINTS
from haven.telegram import fake as fake_module
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from haven.vault import keyed_hash
from haven.vault.purposes import Lookup
from tests.conftest import Persona
from tests.intake.conftest import Visitor
from tests.telegram.conftest import pump

from . import flows
from .conftest import (
    CHAT_ID,
    MARKERS,
    PHONE_NORMALISED,
    PHONE_TYPED,
    TG_USERNAME,
    all_logs,  # noqa: F401 (fixture)
    data_folder,
    database_files,
    decoded_sessions,
    findings,
    log_records,
    report,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _readable_by_a_member(alice: Persona, seen: flows.Seen) -> None:
    """The markers were really planted: a member with the organization key reads them back."""
    vault = alice.vault()
    web = json.dumps(actions.read_case(alice.member, vault, seen.web_case), ensure_ascii=False, default=str)
    bot = json.dumps(actions.read_case(alice.member, vault, seen.bot_case), ensure_ascii=False, default=str)
    for word in (PHONE_TYPED, MARKERS["web intake word"], MARKERS["web follow-up word"],
                 MARKERS["requester surname"], MARKERS["desk reply word"]):
        assert word in web, word
    for word in ("@Zyablik_Seized77", MARKERS["bot intake word"], MARKERS["bot follow-up word"]):
        assert word in bot, word
    for case in (seen.web_case, seen.bot_case):  # one photo each, stored
        assert Attachment.objects.filter(record__case=case).count() == 1, case
    assert Payout.objects.filter(case=seen.web_case).exists()


@pytest.fixture
def seen(alice: Persona, alice_client: Client, fake: FakeTelegram, bot: Bot,
         monkeypatch: pytest.MonkeyPatch, all_logs: pytest.LogCaptureFixture,  # noqa: F811
         ledger_rows_removed: None) -> flows.Seen:
    cache.clear()  # no throttle counted by an earlier test in this process
    monkeypatch.setattr(fake_module, "_user", flows.telegram_profile)
    seen = flows.Seen()
    flows.web_intake(Visitor(alice.org.slug), seen)
    phone = flows.bot_intake(fake, bot, seen)
    treasurer = flows.invitation_accepted(alice_client, seen)
    flows.desk_replies(alice_client, seen)
    visitor = Visitor(alice.org.slug)
    flows.web_follow_up(visitor, seen)
    assert MARKERS["desk reply word"] in "\n".join(phone.bot_texts())
    phone.send(f"Спасибо! {MARKERS['bot follow-up word']}")
    pump()
    flows.payout(treasurer, seen)
    flows.close_web_case(alice_client, seen)
    _readable_by_a_member(alice, seen)
    return seen


def _markers(seen: flows.Seen) -> dict[str, str]:
    return {**MARKERS, **seen.secrets}


def test_a_copy_of_the_database_holds_no_planted_string(seen: flows.Seen) -> None:
    places = {**database_files(), **decoded_sessions()}
    assert any(b"alice" in data for data in places.values())  # a real copy: usernames are clear
    found = findings(places, _markers(seen))
    assert not found, report(found)


def test_the_data_folder_holds_no_planted_string(seen: flows.Seen) -> None:
    places = data_folder()
    assert any("attachments" in where for where in places)  # the photos are in it, sealed
    found = findings(places, _markers(seen))
    assert not found, report(found)


def test_the_logs_hold_no_planted_string(seen: flows.Seen, all_logs: pytest.LogCaptureFixture,  # noqa: F811
                                         capfd: pytest.CaptureFixture[str]) -> None:
    console = capfd.readouterr()
    places = {**log_records(all_logs), "console": (console.out + console.err).encode()}
    found = findings(places, _markers(seen))
    assert not found, report(found)


def _identifier_inputs(bot: Bot) -> set[str]:
    """Every way the code might write a requester's identifiers into a keyed hash."""
    bare = {PHONE_NORMALISED, PHONE_TYPED, TG_USERNAME, "@" + TG_USERNAME, str(CHAT_ID)}
    bare |= {f"{bot_id}:{CHAT_ID}" for bot_id in (bot.telegram_id, bot.pk, bot.public_id)}
    bare |= {f"telegram:{bot_id}:{CHAT_ID}" for bot_id in (bot.telegram_id, bot.pk, bot.public_id)}
    org = bot.organization
    scoped = {f"{prefix}{sep}{value}" for value in bare for prefix in (org.pk, org.slug)
              for sep in (":", "|", "/")}
    return bare | scoped


def _recomputable(bot: Bot) -> dict[str, tuple[str, str, str]]:
    """hex digest -> (secret, label, input) for every server secret, label and input."""
    secrets = {"HAVEN_PEPPER": settings.HAVEN_PEPPER, "HAVEN_TOKEN_KEY": settings.HAVEN_TOKEN_KEY,
               "SECRET_KEY": settings.SECRET_KEY}
    labels = {label.value for label in Lookup} | set(FINGERPRINTS)
    out = {}
    for name, secret in secrets.items():
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        for label in labels:
            for value in _identifier_inputs(bot):
                out[keyed_hash(key, label, value)] = (name, label, value)
    return out


def test_the_server_secrets_without_an_organization_key_recompute_no_identifier(
        seen: flows.Seen, bot: Bot) -> None:
    """Review H-3: a whole machine (database + secrets) but no member password.

    If a stored value equals a keyed hash of a phone number, username or chat id under
    a server secret, the thief recovers the identifier by trying every phone number
    (about 10^9) or chat id (about 2^33).
    """
    raw = b"\n".join(database_files().values())
    dump = raw.lower()
    hits = sorted({f"{name}/{label}({value!r})" for digest, (name, label, value)
                   in _recomputable(bot).items() if digest.encode() in dump
                   or bytes.fromhex(digest) in raw})
    assert not hits, "stored values recomputable from server secrets alone:\n  " + "\n  ".join(hits)


def test_the_search_finds_a_marker_in_each_form_it_is_stored_in() -> None:
    """The searches above cannot pass by looking wrongly: each storage form is found."""
    surname = MARKERS["requester surname"]
    places = {"utf-8": f"x{surname.upper()}y".encode(), "json": json.dumps({"a": surname}).encode(),
              "bytea": b"\\x00" + surname.encode().hex().encode(), "none": b"nothing here"}
    assert findings(places, {"surname": surname}) == {"surname": ["utf-8", "json", "bytea"]}
