"""Referring a case to a partner, the referring side: the proposal and its envelope, the
requester's answer (Telegram buttons, the web follow-up page), withdrawal, the partner's
receipt (accepted: the requester is told how to reach them; declined: shown)."""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from haven import outbox
from haven.accounts.models import Organization
from haven.audit.models import AuditEntry
from haven.cases import actions as case_actions
from haven.cases.models import Case, Channel, RecordKind, Status
from haven.intake.models import RequesterMessage
from haven.network import actions, consent, envelope, inbox, keys, referring
from haven.network.models import Partner, Referral
from haven.network.package import unpack
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from haven.vault import generate_keypair, seal
from haven.vault.signing import generate_signing_key
from tests.conftest import Persona, log_in
from tests.intake.conftest import Visitor, codename_in, complete
from tests.telegram.conftest import TOKEN, Phone, bot, fake, pump, quick_chats, telegram_case

__all__ = ["bot", "fake", "quick_chats"]  # the Telegram tests' fixtures, used here too

pytestmark = pytest.mark.django_db
State = Referral.State


class Remote:
    """A partner on another server, whose private keys the test holds."""

    def __init__(self, org: Organization, name: str = "Memorial Legal") -> None:
        self.keys = generate_keypair()
        self.signing_public, self.seed = generate_signing_key()
        self.partner = Partner.objects.create(
            organization=org, name=name, server_url="https://partner.example", remote_slug="ml",
            encryption_key=self.keys.public, signing_key=self.signing_public,
            state=Partner.State.ACTIVE)

    def receipt(self, referral: Referral, outcome: str, *, continuation: str = "",
                reason: str = "", seed: bytes | None = None, sender: bytes | None = None) -> envelope.Envelope:
        """A receipt as the partner's server makes it, read back as the inbox would."""
        extra: dict[str, Any] = {"referral": str(referral.ref_id), "outcome": outcome}
        if continuation:
            package = unpack(envelope.open_payload(self.opened(referral), self.keys.private))
            extra["continuation"] = base64.b64encode(seal(
                package.delivery_public, json.dumps({"text": continuation}).encode())).decode()
        if reason:
            org = Organization.objects.get(pk=referral.organization_id)
            extra["reason"] = base64.b64encode(seal(
                bytes(org.public_key), json.dumps({"text": reason}).encode())).decode()
        blob = envelope.make(envelope.Kind.RECEIPT, envelope_id=str(uuid.uuid4()),
                             sender_seed=seed or self.seed,
                             sender_public=sender or self.signing_public,
                             recipient_public=bytes(referral.organization.public_key),
                             created=timezone.now(), content=None, extra=extra)
        return envelope.read(blob, max_size=1 << 20)

    def opened(self, referral: Referral) -> envelope.Envelope:
        blob = referring.read_envelope(referral.envelope)
        return envelope.read(blob, max_size=referring.max_envelope())


@pytest.fixture
def remote(alice: Persona) -> Remote:
    return Remote(alice.org)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "files")
    return tmp_path / "files"


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what waits for the commit (an envelope file removed) inside the test's transaction."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def no_delivery(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The transport, recorded instead of run (its own tests are the integrator's)."""
    sent: list[tuple[Any, ...]] = []

    def deliver(org: Any, partner: Any, blob: bytes, *, case: Any = None, referral: Any = None) -> None:
        sent.append((org, partner, blob, case, referral))

    from haven.network import transport

    monkeypatch.setattr(transport, "deliver", deliver)
    return sent


def _web_case(alice: Persona) -> tuple[Case, str, Visitor]:
    visitor = Visitor(alice.org.slug)
    code = codename_in(complete(visitor))
    return Case.objects.get(organization=alice.org), code, visitor


def _rich(alice: Persona, case: Case) -> dict[str, int]:
    """Add a reply, a private note and a file to ``case``; their record ids."""
    ring = alice.vault()
    reply = case_actions.reply(alice.member, ring, case, "Мы посмотрим вашу повестку.")
    note = case_actions.add_note(alice.member, ring, case, "Похоже на мошенничество, проверить.")
    file = case_actions.add_attachment(case, name="povestka.pdf", kind="application/pdf",
                                       data=b"%PDF-1.4 summons", channel=Channel.WEB)
    inbound = case_actions.add_inbound(case, "Повестку принесли домой.")
    return {"reply": reply.pk, "note": note.pk, "file": file.record_id, "inbound": inbound.pk}


def _form(partner: Partner, ids: dict[str, int], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"partner": str(partner.pk), "note": "Please take this summons case.",
                            "answers": "1", "message": [str(ids["reply"])],
                            "attachment": [str(ids["file"])]}
    data["message"].append(str(ids["inbound"]))
    data.update(extra)
    return data


def _envelope_files() -> list[Path]:
    found = Path(settings.MEDIA_ROOT) / "network"
    return sorted(found.iterdir()) if found.exists() else []


def _events(case: Case) -> list[str]:
    return list(AuditEntry.objects.filter(case_id=case.pk).order_by("seq").values_list("action", flat=True))


# --- proposing ----------------------------------------------------------------------


def test_a_proposal_seals_exactly_the_chosen_parts_to_the_partner_and_signs_them(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote) -> None:
    case, _code, _visitor = _web_case(alice)
    ids = _rich(alice, case)
    page = bob_client.get(f"/desk/cases/{case.number}/")
    assert f"/network/cases/{case.number}/refer/" in page.content.decode()
    form = bob_client.get(f"/network/cases/{case.number}/refer/").content.decode()
    assert f'name="private_note" value="{ids["note"]}">' in form  # offered, not ticked
    assert f'name="attachment" value="{ids["file"]}" checked>' in form
    response = bob_client.post(f"/network/cases/{case.number}/refer/", _form(remote.partner, ids))
    assert response.status_code == 302, response.content.decode()[:3000]
    referral = Referral.objects.get(case=case)
    assert referral.state == State.PROPOSED and referral.proposed_by == bob.member
    assert referral.shared == {"answers": True, "messages": 2, "attachments": 1, "notes": 0,
                               "note": True}
    [path] = _envelope_files()
    assert path.name == referral.envelope and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert b"summons" not in path.read_bytes() and b"Please take" not in path.read_bytes()
    opened = remote.opened(referral)
    envelope.verify(opened, bytes(keys.signing_key(alice.org).public_key))
    assert opened.kind is envelope.Kind.REFERRAL and opened.id == str(referral.ref_id)
    package = unpack(envelope.open_payload(opened, remote.keys.private))
    assert package.note == "Please take this summons case." and package.language == "ru"
    assert package.channel == Channel.WEB and package.category == "summons"
    assert "Пришла повестка, что делать?" in json.dumps(package.answers, ensure_ascii=False)
    texts = [m.text for m in package.messages]
    assert "Мы посмотрим вашу повестку." in texts and len(texts) == 2
    assert [(f.name, f.data) for f in package.files] == [("povestka.pdf", b"%PDF-1.4 summons")]
    assert package.notes == []  # a private note only when ticked
    assert len(package.delivery_public) == 32 and referral.delivery_key
    assert "case.referral_proposed" in _events(case)
    with pytest.raises(envelope.BadEnvelope):  # sealed to the partner, not to us
        envelope.open_payload(opened, alice.vault().private_key)


def test_a_ticked_private_note_goes_and_the_rest_can_be_left_out(
        alice: Persona, bob: Persona, remote: Remote) -> None:
    case, _code, _visitor = _web_case(alice)
    ids = _rich(alice, case)
    choice = referring.Choice(partner=remote.partner, note="", answers=False,
                              notes=(ids["note"],))
    referral = actions.propose_referral(bob.member, bob.vault(), case, choice)
    package = unpack(envelope.open_payload(remote.opened(referral), remote.keys.private))
    assert [n.text for n in package.notes] == ["Похоже на мошенничество, проверить."]
    assert package.answers == [] and package.messages == [] and package.files == []


def test_refusals_say_why_and_store_nothing(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote, settings: Any) -> None:
    case, _code, _visitor = _web_case(alice)
    ids = _rich(alice, case)
    url = f"/network/cases/{case.number}/refer/"

    def refused(data: dict[str, Any], words: str) -> None:
        response = bob_client.post(url, data)
        assert response.status_code == 400
        assert words in response.content.decode(), response.content.decode()[:3000]
        assert not Referral.objects.exists() and _envelope_files() == []

    refused({**_form(remote.partner, ids), "partner": ""}, "Choose the partner")
    refused({"partner": str(remote.partner.pk)}, "Nothing was chosen to share")
    ended = Remote(alice.org, "Gone Org")
    Partner.objects.filter(pk=ended.partner.pk).update(state=Partner.State.ENDED)
    refused(_form(ended.partner, ids), "is not an active partner")
    settings.HAVEN_NETWORK_MAX_ENVELOPE = 2000
    refused(_form(remote.partner, ids), "a referral may hold at most")
    settings.HAVEN_NETWORK_MAX_ENVELOPE = 40 * 2**20
    case_actions.set_status(alice.member, case, Status.CLOSED, None)
    refused(_form(remote.partner, ids), "This case is closed")
    desk = case_actions.create_case(alice.org, category="summons", channel=Channel.DESK,
                                    summary="On the phone", answers={"what": "x"}, by=alice.member,
                                    vault=alice.vault())
    with translation.override("en"), pytest.raises(actions.ReferralRefused, match="cannot be asked"):
        actions.propose_referral(bob.member, bob.vault(), desk,
                                 referring.Choice(partner=remote.partner, note="", answers=True))
    assert not Referral.objects.exists() and _envelope_files() == []


def test_one_referral_waits_at_a_time_and_can_be_withdrawn(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote, commits: Any) -> None:
    case, code, visitor = _web_case(alice)
    choice = referring.Choice(partner=remote.partner, note="", answers=True)
    first = actions.propose_referral(bob.member, bob.vault(), case, choice)
    with translation.override("en"), pytest.raises(actions.ReferralRefused, match="already waiting"):
        actions.propose_referral(bob.member, bob.vault(), case, choice)
    page = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Memorial Legal" in page and "Withdraw the proposal" in page
    assert f"/network/cases/{case.number}/refer/" not in page
    with commits(execute=True):
        response = bob_client.post(f"/network/cases/{case.number}/referrals/{first.pk}/withdraw/")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.state == State.WITHDRAWN and not first.envelope and first.delivery_key is None
    assert _envelope_files() == [] and "case.referral_withdrawn" in _events(case)
    # The requester's page no longer asks; an answer posted late changes nothing.
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert "Memorial Legal" not in page
    late = visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                                    "referral": str(first.pk), "answer": "agree"})
    first.refresh_from_db()
    assert first.state == State.WITHDRAWN and "Консультант отозвал" in late.content.decode()
    again = actions.propose_referral(bob.member, bob.vault(), case, choice)  # a new one may go now
    assert again.state == State.PROPOSED


def test_another_organizations_member_finds_no_refer_page(
        alice: Persona, charlie_client: Client, remote: Remote) -> None:
    case, _code, _visitor = _web_case(alice)
    assert charlie_client.get(f"/network/cases/{case.number}/refer/").status_code == 404
    assert charlie_client.post(f"/network/cases/{case.number}/refer/",
                               {"partner": str(remote.partner.pk), "answers": "1"}).status_code == 404
    assert not Referral.objects.exists()


# --- the requester's answer ---------------------------------------------------------


def test_a_web_requester_agrees_on_the_follow_up_page(
        alice: Persona, bob: Persona, remote: Remote, no_delivery: list[Any]) -> None:
    case, code, visitor = _web_case(alice)
    ids = _rich(alice, case)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="hi", answers=True, messages=(ids["reply"],),
        attachments=(ids["file"],)))
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert "Memorial Legal" in page and "1 файл" in page  # in the requester's language
    response = visitor.post(visitor.url("follow-up/"), {
        "codename": code, "action": "referral", "referral": str(referral.pk), "answer": "agree"})
    assert response.status_code == 200
    assert "отправлен" in response.content.decode() or "Memorial Legal" in response.content.decode()
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == State.CONSENTED and referral.answered_at is not None
    assert case.status == Status.REFERRED
    agreed = AuditEntry.objects.get(case_id=case.pk, action="case.referral_agreed")
    assert agreed.actor_id is None
    [(_org, partner, blob, sent_case, sent_referral)] = no_delivery
    assert partner == remote.partner and sent_case.pk == case.pk and sent_referral.pk == referral.pk
    assert blob == b""  # the transport sends the stored envelope file itself
    # Final: a second answer changes nothing.
    visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                             "referral": str(referral.pk), "answer": "refuse"})
    referral.refresh_from_db()
    assert referral.state == State.CONSENTED and len(no_delivery) == 1


def test_a_web_requesters_refusal_is_final_audited_and_the_envelope_gone(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        no_delivery: list[Any], commits: Any) -> None:
    case, code, visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True))
    with commits(execute=True):
        visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                                 "referral": str(referral.pk), "answer": "refuse"})
    referral.refresh_from_db()
    assert referral.state == State.REFUSED and not referral.envelope
    assert referral.delivery_key is None and _envelope_files() == []
    assert "case.referral_refused" in _events(case) and no_delivery == []
    visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                             "referral": str(referral.pk), "answer": "agree"})
    referral.refresh_from_db()
    assert referral.state == State.REFUSED and no_delivery == []
    page = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "The requester refused" in page


def test_a_telegram_requester_is_asked_in_their_language_and_answers_once(
        alice: Persona, bob: Persona, bot: Bot, fake: FakeTelegram, remote: Remote,
        no_delivery: list[Any]) -> None:
    phone = Phone(fake, 8101, lang="uk")
    phone.send("/start")
    case = case_actions.create_case(alice.org, category="summons", channel=Channel.TELEGRAM,
                                    summary="Повістка", first_message="Прийшла повістка",
                                    answers={"what": "повістка"}, lang="uk")
    from haven.telegram import links

    links.bind(case, bot, 8101, "uk")
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True))
    pump()
    question = phone.last()
    assert "Memorial Legal" in question and "відповіді" in question  # Ukrainian
    labels = [label for label, _data in fake.buttons(TOKEN, 8101)]
    assert len(labels) == 2
    data = [d for _label, d in fake.buttons(TOKEN, 8101)]
    phone.press(prefix=data[0])  # agree
    referral.refresh_from_db()
    assert referral.state == State.CONSENTED and len(no_delivery) == 1
    assert "Memorial Legal" in phone.last()
    asked = next(m["message_id"] for m in fake.visible(TOKEN, 8101) if "Memorial" in m.get("text", ""))
    fake.user_press(TOKEN, 8101, data[1], asked, lang="uk")  # refuse, after agreeing
    pump()
    referral.refresh_from_db()
    assert referral.state == State.CONSENTED and len(no_delivery) == 1
    assert "вже" in phone.last()  # "you already agreed"


def test_a_press_from_another_chat_changes_nothing(
        alice: Persona, bob: Persona, bot: Bot, fake: FakeTelegram, remote: Remote,
        no_delivery: list[Any]) -> None:
    case = telegram_case(alice, bot, 8102)
    Phone(fake, 8103).send("/start")
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=False, messages=tuple(
            case.records.filter(kind=RecordKind.INBOUND).values_list("pk", flat=True))))
    pump()
    mine = fake.visible(TOKEN, 8103)[-1]["message_id"]
    fake.user_press(TOKEN, 8103, f"r:y{referral.pk}", mine)
    pump()
    referral.refresh_from_db()
    assert referral.state == State.PROPOSED and no_delivery == []


# --- the partner's receipt ----------------------------------------------------------


def _consented(alice: Persona, bob: Persona, remote: Remote, case: Case) -> Referral:
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True))
    assert actions.answer_referral(case, referral.pk, True, via=case.channel) is consent.Answer.AGREED
    referral.refresh_from_db()
    return referral


def test_accepted_the_web_requester_reads_how_to_reach_the_partner(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        no_delivery: list[Any], commits: Any) -> None:
    case, code, visitor = _web_case(alice)
    referral = _consented(alice, bob, remote, case)
    receipt = remote.receipt(referral, "accepted", continuation="Пишите нам: @memorial_help")
    with commits(execute=True):
        assert actions.referral_receipt(alice.org, remote.partner, receipt) == "accepted"
    referral.refresh_from_db()
    assert referral.state == State.ACCEPTED and referral.outcome_at and referral.delivery_key is None
    assert _envelope_files() == []
    assert outbox.run_once().sent == 1
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert "Пишите нам: @memorial_help" in page
    assert RequesterMessage.objects.filter(case=case).exists()
    desk = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Accepted by the partner" in desk and "@memorial_help" not in desk  # never their content
    assert "case.referral_accepted" in _events(case)
    # The same receipt again changes nothing; a contrary one is refused.
    assert actions.referral_receipt(alice.org, remote.partner, receipt) == "already recorded"
    assert outbox.run_once().sent == 0
    with pytest.raises(inbox.Refused):
        actions.referral_receipt(alice.org, remote.partner, remote.receipt(referral, "declined"))


def test_accepted_the_telegram_requester_gets_the_partners_message(
        alice: Persona, bob: Persona, bot: Bot, fake: FakeTelegram, remote: Remote,
        no_delivery: list[Any]) -> None:
    phone = Phone(fake, 8104)
    phone.send("/start")
    case = telegram_case(alice, bot, 8104)
    referral = _consented(alice, bob, remote, case)
    pump()
    actions.referral_receipt(alice.org, remote.partner, remote.receipt(
        referral, "accepted", continuation="Звоните: +7 900 000-00-00"))
    pump()
    assert "Звоните: +7 900 000-00-00" in phone.last()


def test_declined_the_case_shows_the_reason_and_is_in_progress_again(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        no_delivery: list[Any]) -> None:
    case, _code, _visitor = _web_case(alice)
    referral = _consented(alice, bob, remote, case)
    actions.referral_receipt(alice.org, remote.partner, remote.receipt(
        referral, "declined", reason="We do not take summons cases this month."))
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == State.DECLINED and case.status == Status.IN_PROGRESS
    page = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "Declined by the partner" in page
    assert "We do not take summons cases this month." in page
    assert f"/network/cases/{case.number}/refer/" in page  # may refer again
    assert "case.referral_declined" in _events(case)


def test_receipts_from_the_wrong_partner_or_for_no_referral_of_ours_are_refused(
        alice: Persona, bob: Persona, charlie: Persona, remote: Remote,
        no_delivery: list[Any]) -> None:
    case, _code, _visitor = _web_case(alice)
    referral = _consented(alice, bob, remote, case)
    other = Remote(alice.org, "Another Partner")
    translation.activate("en")
    with pytest.raises(inbox.Refused, match="another partner"):
        actions.referral_receipt(alice.org, other.partner, other.receipt(referral, "accepted"))
    with pytest.raises(inbox.Refused, match="did not make"):
        actions.referral_receipt(charlie.org, remote.partner, remote.receipt(referral, "accepted"))
    with pytest.raises(inbox.Refused, match="outcome"):
        actions.referral_receipt(alice.org, remote.partner, remote.receipt(referral, "maybe"))
    proposed = Referral.objects.create(organization=alice.org, case=case, partner=remote.partner,
                                       state=State.PROPOSED)
    with translation.override("en"), pytest.raises(inbox.Refused, match="Waiting for the requester"):
        actions.referral_receipt(alice.org, remote.partner, remote.receipt(proposed, "accepted"))
    referral.refresh_from_db()
    assert referral.state == State.CONSENTED


def test_delivered_and_failed_are_shown_on_the_case(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        no_delivery: list[Any]) -> None:
    case, _code, _visitor = _web_case(alice)
    referral = _consented(alice, bob, remote, case)
    actions.referral_delivered(referral)
    referral.refresh_from_db()
    assert referral.state == State.DELIVERED and referral.delivered_at
    actions.referral_failed(referral, "partner server answered 500 for 3 days")
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == State.FAILED and case.status == Status.IN_PROGRESS
    page = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "partner server answered 500 for 3 days" in page
    assert {"case.referral_delivered", "case.referral_failed"} <= set(_events(case))


def test_a_file_referral_is_downloaded_once_the_requester_agreed(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        no_delivery: list[Any]) -> None:
    case, _code, _visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True, as_file=True))
    url = f"/network/cases/{case.number}/referrals/{referral.pk}/file/"
    assert bob_client.post(url).status_code == 302  # not before the requester agreed
    actions.answer_referral(case, referral.pk, True, via=Channel.WEB)
    assert no_delivery == []  # a file goes by hand
    response = bob_client.post(url)
    assert response.status_code == 200
    assert ".haven-referral" in response["Content-Disposition"]
    assert response.content == referring.read_envelope(referral.envelope)
    assert "case.referral_downloaded" in _events(case)


def test_pages_log_in(alice: Persona) -> None:
    client = log_in(Client(), alice)
    assert client.get("/desk/").status_code == 200


# --- through the integrator's transport and inbox -----------------------------------


def _both_ways(a: Persona, b: Persona) -> tuple[Partner, Partner]:
    """``a`` and ``b`` on this server, each the other's active partner."""
    at_a = Partner.objects.create(
        organization=a.org, name=b.org.name, local=b.org, remote_slug=b.org.slug,
        encryption_key=bytes(b.org.public_key),
        signing_key=bytes(keys.signing_key(b.org).public_key), state=Partner.State.ACTIVE)
    at_b = Partner.objects.create(
        organization=b.org, name=a.org.name, local=a.org, remote_slug=a.org.slug,
        encryption_key=bytes(a.org.public_key),
        signing_key=bytes(keys.signing_key(a.org).public_key), state=Partner.State.ACTIVE)
    return at_a, at_b


def test_on_this_server_agreement_delivers_at_once_and_the_receipt_comes_back_signed(
        alice: Persona, bob: Persona, charlie: Persona, monkeypatch: pytest.MonkeyPatch,
        commits: Any) -> None:
    at_alice, at_charlie = _both_ways(alice, charlie)
    got: list[Any] = []

    def store(org: Organization, partner: Partner, env: envelope.Envelope, blob: bytes) -> str:
        got.append(unpack(envelope.open_payload(env, charlie.vault().private_key)))
        return "stored"

    monkeypatch.setitem(inbox.HANDLERS, envelope.Kind.REFERRAL, store)  # the partner's side
    case, code, visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=at_alice, note="Над делом работали месяц.", answers=True))
    visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                             "referral": str(referral.pk), "answer": "agree"})
    referral.refresh_from_db()
    assert referral.state == State.DELIVERED and referral.delivered_at
    [package] = got
    assert package.note == "Над делом работали месяц." and package.referrer == alice.org.name
    # Charlie's organization accepts and says how to reach them, sealed to the delivery key.
    extra = {"referral": str(referral.ref_id), "outcome": "accepted",
             "continuation": base64.b64encode(seal(package.delivery_public, json.dumps(
                 {"text": "Напишите нам: help@second.example"}).encode())).decode()}
    receipt = envelope.make(envelope.Kind.RECEIPT, envelope_id=str(uuid.uuid4()),
                            sender_seed=keys.signing_seed(charlie.vault(), charlie.org),
                            sender_public=bytes(keys.signing_key(charlie.org).public_key),
                            recipient_public=bytes(alice.org.public_key), created=timezone.now(),
                            content=None, extra=extra)
    from haven.network import transport

    with commits(execute=True):
        assert transport.deliver(charlie.org, at_charlie, receipt) == "delivered"
    referral.refresh_from_db()
    assert referral.state == State.ACCEPTED
    assert outbox.run_once().sent == 1
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert "Напишите нам: help@second.example" in page
    # A receipt signed by a stranger's key never reaches the handler.
    forged_public, forged_seed = generate_signing_key()
    forged = envelope.make(envelope.Kind.RECEIPT, envelope_id=str(uuid.uuid4()),
                           sender_seed=forged_seed, sender_public=forged_public,
                           recipient_public=bytes(alice.org.public_key), created=timezone.now(),
                           content=None, extra={**extra, "outcome": "declined"})
    with pytest.raises(inbox.Refused):
        inbox.receive(forged, via="test")
    referral.refresh_from_db()
    assert referral.state == State.ACCEPTED


def test_on_this_server_a_refusing_inbox_fails_the_referral_with_its_reason(
        alice: Persona, bob: Persona, charlie: Persona, monkeypatch: pytest.MonkeyPatch) -> None:
    at_alice, at_charlie = _both_ways(alice, charlie)
    Partner.objects.filter(pk=at_charlie.pk).update(state=Partner.State.ENDED)
    monkeypatch.setitem(inbox.HANDLERS, envelope.Kind.REFERRAL, lambda *a: "stored")
    case, _code, _visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=at_alice, note="", answers=True))
    assert actions.answer_referral(case, referral.pk, True, via=Channel.WEB) is consent.Answer.AGREED
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == State.FAILED and referral.failure
    assert referral.answered_at is not None and case.status == Status.IN_PROGRESS
    assert "case.referral_agreed" in _events(case) and "case.referral_failed" in _events(case)


def test_to_another_server_the_outbox_carries_it_and_a_refusal_fails_it(
        alice: Persona, bob: Persona, bob_client: Client, remote: Remote,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.network import transport
    from haven.outbox.models import Outbox

    posted: list[tuple[str, bytes]] = []
    monkeypatch.setattr(transport, "post", lambda url, blob: posted.append((url, blob)) or {})
    case, _code, _visitor = _web_case(alice)
    first = _consented(alice, bob, remote, case)
    assert first.state == State.CONSENTED and Outbox.objects.filter(channel="network").count() == 1
    Outbox.objects.filter(channel="network").update(attempts=2, last_error="partner server busy")
    page = bob_client.get(f"/desk/cases/{case.number}/").content.decode()
    assert "did not take it yet (2 tries): partner server busy" in page
    Outbox.objects.filter(channel="network").update(attempts=0)
    assert outbox.run_once("network").sent == 1
    first.refresh_from_db()
    assert first.state == State.DELIVERED
    assert posted == [("https://partner.example/network/inbox/", referring.read_envelope(first.envelope))]
    # A partner that refuses: final, shown with its reason.
    Referral.objects.filter(pk=first.pk).update(state=State.DECLINED)

    def refuse(url: str, blob: bytes) -> dict[str, Any]:
        raise outbox.DeliveryError("refused by the partner: unknown sender", permanent=True)

    monkeypatch.setattr(transport, "post", refuse)
    second = _consented(alice, bob, remote, case)
    assert outbox.run_once("network").failed == 1
    second.refresh_from_db()
    assert second.state == State.FAILED and "unknown sender" in second.failure


def test_a_requester_who_erases_their_request_leaves_no_envelope_behind(
        alice: Persona, bob: Persona, remote: Remote, commits: Any) -> None:
    case, code, visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True))
    with commits(execute=True):
        visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "erase_confirmed"})
    referral.refresh_from_db()
    assert referral.state == State.WITHDRAWN and not referral.envelope
    assert referral.delivery_key is None and _envelope_files() == []


def test_a_telegram_requester_who_blocked_the_bot_cannot_be_asked(
        alice: Persona, bob: Persona, bot: Bot, fake: FakeTelegram, remote: Remote) -> None:
    from haven.telegram import links

    case = telegram_case(alice, bot, 8105)
    links.set_blocked(case.pk, True)
    with translation.override("en"), pytest.raises(case_actions.ActionError, match="blocked the bot"):
        actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
            partner=remote.partner, note="", answers=True))
    assert not Referral.objects.exists() and _envelope_files() == []


def test_agreeing_to_a_file_referral_says_the_caseworker_hands_it_over(
        alice: Persona, bob: Persona, remote: Remote) -> None:
    case, code, visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True, as_file=True))
    page = visitor.post(visitor.url("follow-up/"), {
        "codename": code, "action": "referral", "referral": str(referral.pk), "answer": "agree"})
    assert "Консультант передаст ваше обращение в Memorial Legal" in page.content.decode()


def test_a_partnership_ended_before_the_answer_sends_nothing(
        alice: Persona, bob: Persona, remote: Remote, no_delivery: list[Any], commits: Any) -> None:
    case, code, visitor = _web_case(alice)
    referral = actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=remote.partner, note="", answers=True))
    Partner.objects.filter(pk=remote.partner.pk).update(state=Partner.State.ENDED)
    with commits(execute=True):
        page = visitor.post(visitor.url("follow-up/"), {
            "codename": code, "action": "referral", "referral": str(referral.pk), "answer": "agree"})
    assert "больше не партнёр" in page.content.decode()
    referral.refresh_from_db()
    assert referral.state == State.WITHDRAWN and no_delivery == [] and _envelope_files() == []
