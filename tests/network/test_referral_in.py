"""Referrals in: a partner's referral is stored once, refused with its reason when bad (and
then nothing is stored), opened by coordinators only, accepted into a case the requester
continues with a new codename, or declined with a reason only the partner reads."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from haven import outbox, vault
from haven.accounts.models import Organization
from haven.audit.models import AuditEntry
from haven.cases import actions as case_actions
from haven.cases import files
from haven.cases.models import Case, CaseRecord, RecordKind
from haven.network import actions, inbox, keys, package, storage
from haven.network import envelope as env
from haven.network.models import IncomingReferral, Partner
from haven.vault import generate_keypair
from haven.vault.signing import generate_signing_key
from tests.conftest import Persona, log_in

pytestmark = pytest.mark.django_db

STORY = "Мне пришла повестка, а я студент."
REPLY = "Мы передадим ваш вопрос юристам партнёра."


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _partners(referrer: Organization, receiver: Organization, *,
              state: str = Partner.State.ACTIVE) -> tuple[Partner, Partner]:
    """Each organization knows the other, on this server."""
    at_referrer = Partner.objects.create(
        organization=referrer, name=receiver.name, local=receiver, remote_slug=receiver.slug,
        encryption_key=bytes(receiver.public_key),
        signing_key=bytes(keys.signing_key(receiver).public_key), state=Partner.State.ACTIVE)
    at_receiver = Partner.objects.create(
        organization=receiver, name=referrer.name, local=referrer, remote_slug=referrer.slug,
        encryption_key=bytes(referrer.public_key),
        signing_key=bytes(keys.signing_key(referrer).public_key), state=state)
    return at_referrer, at_receiver


def _package(delivery_public: bytes, **changes: Any) -> package.Package:
    fields: dict[str, Any] = {
        "note": "Please help with the summons.", "category": "summons", "language": "ru",
        "channel": "web",
        "answers": [{"key": "what", "question": "Что случилось?", "answer": STORY,
                     "sensitive": False}],
        "messages": [package.Message("2026-11-01T10:00:00+00:00", True, STORY),
                     package.Message("2026-11-02T10:00:00+00:00", False, REPLY)],
        "notes": [package.Note("2026-11-02T11:00:00+00:00", "Chosen note: urgent")],
        "files": [package.File("photo.jpg", "image/jpeg", _photo())],
        "delivery_public": delivery_public, "referrer": "Second",
    }
    return package.Package(**{**fields, **changes})


def _referral(sender: Persona, to: Organization | None, pkg: package.Package, *,
              ref_id: str | None = None, stranger: bool = False) -> bytes:
    org = sender.org
    public, seed = (generate_signing_key() if stranger else
                    (bytes(keys.signing_key(org).public_key), keys.signing_seed(sender.vault(), org)))
    return env.make(env.Kind.REFERRAL, envelope_id=ref_id or str(uuid.uuid4()),
                    sender_seed=seed, sender_public=public,
                    recipient_public=bytes(to.public_key) if to else generate_keypair().public,
                    created=timezone.now(), content=package.pack(pkg))


@pytest.fixture(autouse=True)
def _own_files(settings: Any, tmp_path: Any) -> None:
    """A files folder of this test's own, so "nothing left behind" can be counted."""
    settings.MEDIA_ROOT = str(tmp_path / "files")


@pytest.fixture
def receipts(monkeypatch: pytest.MonkeyPatch) -> list[env.Envelope]:
    """The referring side's handler of receipts (built elsewhere): records what it got."""
    got: list[env.Envelope] = []

    def record(org: Organization, partner: Partner, envelope: env.Envelope, blob: bytes) -> str:
        got.append(envelope)
        return "noted"

    monkeypatch.setitem(inbox.HANDLERS, env.Kind.RECEIPT, record)
    return got


@pytest.fixture
def delivery() -> vault.KeyPair:
    return generate_keypair()


@pytest.fixture
def linked(alice: Persona, charlie: Persona) -> tuple[Partner, Partner]:
    """charlie's organization refers to alice's."""
    return _partners(charlie.org, alice.org)


def _envelope_files() -> list[str]:
    return [p.name for p in storage.folder().iterdir() if p.is_file()]


def test_a_referral_sent_twice_is_stored_once(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair) -> None:
    blob = _referral(charlie, alice.org, _package(delivery.public))
    assert inbox.receive(blob, via="test").result == "stored"
    assert inbox.receive(blob, via="https").result == "already received"
    row = IncomingReferral.objects.get()
    assert (row.organization, row.partner, row.state) == (alice.org, linked[1], "received")
    assert row.size == len(blob) and row.digest == env.digest(blob)
    assert _envelope_files() == [row.envelope]
    assert storage.read(row.envelope) == blob
    assert (storage.path_of(row.envelope).stat().st_mode & 0o777) == 0o600
    assert AuditEntry.objects.filter(organization=alice.org, action="referral.received").count() == 1


def test_another_envelope_under_a_used_id_is_refused(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair) -> None:
    ref_id = str(uuid.uuid4())
    inbox.receive(_referral(charlie, alice.org, _package(delivery.public), ref_id=ref_id),
                  via="test")
    other = _referral(charlie, alice.org, _package(delivery.public, note="changed"), ref_id=ref_id)
    with pytest.raises(inbox.Refused) as refused:
        inbox.receive(other, via="test")
    assert refused.value.status == 409 and "replay or a forgery" in refused.value.reason
    assert IncomingReferral.objects.count() == 1 and len(_envelope_files()) == 1


@pytest.mark.parametrize(("bad", "words"), [
    ("truncated", "cut short"),
    ("oversized", "larger than this server accepts"),
    ("forged", "forged or altered"),
    ("unknown signer", "does not know as a partner"),
    ("ended", "has ended"),
    ("not for us", "not for an organization on this server"),
    ("no content", "no sealed content"),
])
def test_a_bad_referral_is_refused_with_its_reason_and_nothing_is_stored(
        alice: Persona, charlie: Persona, delivery: vault.KeyPair, settings: Any,
        bad: str, words: str) -> None:
    _partners(charlie.org, alice.org,
              state=Partner.State.ENDED if bad == "ended" else Partner.State.ACTIVE)
    blob = _referral(charlie, alice.org, _package(delivery.public))
    if bad == "truncated":
        blob = blob[:len(blob) // 2]
    elif bad == "oversized":
        settings.HAVEN_NETWORK_MAX_ENVELOPE = len(blob) - 1
    elif bad == "forged":
        altered = bytearray(blob)
        altered[-100] ^= 1
        blob = bytes(altered)
    elif bad == "unknown signer":
        blob = _referral(charlie, alice.org, _package(delivery.public), stranger=True)
    elif bad == "not for us":
        blob = _referral(charlie, None, _package(delivery.public))
    elif bad == "no content":
        blob = env.make(env.Kind.REFERRAL, envelope_id=str(uuid.uuid4()),
                        sender_seed=keys.signing_seed(charlie.vault(), charlie.org),
                        sender_public=bytes(keys.signing_key(charlie.org).public_key),
                        recipient_public=bytes(alice.org.public_key), created=timezone.now(),
                        content=None)
    with pytest.raises(inbox.Refused) as refused:
        inbox.receive(blob, via="test")
    assert words in refused.value.reason
    assert refused.value.status < 500
    # The same file uploaded on the page: the same reason, shown; nothing stored either.
    client = log_in(Client(), alice)
    page = client.post("/network/incoming/upload/", {"file": _upload(blob)})
    assert page.status_code == 400
    assert words in page.content.decode().replace("&#x27;", "'")
    assert not IncomingReferral.objects.exists()
    assert _envelope_files() == []


def _upload(blob: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("case.haven-referral", blob, "application/octet-stream")


def test_a_referral_handed_over_as_a_file_is_received_once(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair) -> None:
    blob = _referral(charlie, alice.org, _package(delivery.public))
    client = log_in(Client(), alice)
    first = client.post("/network/incoming/upload/", {"file": _upload(blob)}, follow=True)
    assert "was received" in first.content.decode()
    again = client.post("/network/incoming/upload/", {"file": _upload(blob)}, follow=True)
    assert "was already here" in again.content.decode()
    assert IncomingReferral.objects.count() == 1


def test_a_file_for_another_organization_on_this_server_is_refused(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair) -> None:
    """Both organizations are partners of each other; the file charlie's organization made
    for alice's is refused when charlie uploads it, and stored for nobody."""
    blob = _referral(charlie, alice.org, _package(delivery.public))
    page = log_in(Client(), charlie).post("/network/incoming/upload/", {"file": _upload(blob)})
    assert page.status_code == 400 and "not addressed to your organization" in page.content.decode()
    assert not IncomingReferral.objects.exists() and _envelope_files() == []


def _received(alice: Persona, charlie: Persona, delivery: vault.KeyPair,
              **changes: Any) -> IncomingReferral:
    inbox.receive(_referral(charlie, alice.org, _package(delivery.public, **changes)), via="test")
    return IncomingReferral.objects.get()


def test_coordinators_open_a_referral_and_see_what_was_shared(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair) -> None:
    row = _received(alice, charlie, delivery)
    client = log_in(Client(), alice)
    desk = client.get("/desk/").content.decode()
    assert "1 referral from a partner waits for a decision." in desk and "/network/incoming/" in desk
    listing = client.get("/network/incoming/").content.decode()
    assert "Second" in listing and f"/network/incoming/{row.pk}/" in listing
    page = client.get(f"/network/incoming/{row.pk}/").content.decode()
    for shown in (STORY, REPLY, "Chosen note: urgent", "Please help with the summons.",
                  "photo.jpg", "Что случилось?"):
        assert shown in page
    assert AuditEntry.objects.filter(action="referral.opened", actor_id=alice.member.pk).exists()


def test_caseworkers_and_other_organizations_get_404(
        alice: Persona, bob: Persona, charlie: Persona, linked: Any,
        delivery: vault.KeyPair) -> None:
    row = _received(alice, charlie, delivery)
    team = alice.org.default_team_id
    for client in (log_in(Client(), bob), log_in(Client(), charlie)):
        assert client.get(f"/network/incoming/{row.pk}/").status_code == 404
        assert client.post(f"/network/incoming/{row.pk}/accept/", {"team": team}).status_code == 404
        assert client.post(f"/network/incoming/{row.pk}/decline/", {}).status_code == 404
    assert log_in(Client(), bob).get("/network/incoming/").status_code == 404
    assert "/network/incoming/" not in log_in(Client(), bob).get("/desk/").content.decode()
    theirs = log_in(Client(), charlie).get("/network/incoming/")
    assert theirs.status_code == 200 and f"/network/incoming/{row.pk}/" not in theirs.content.decode()
    row.refresh_from_db()
    assert row.state == "received" and not Case.objects.filter(organization=alice.org).exists()


def _follow(client: Client, slug: str, codename: str, **data: str) -> str:
    response = client.post(f"/o/{slug}/follow-up/", {"codename": codename, **data})
    assert response.status_code == 200, response.content.decode()[:800]
    return response.content.decode()


def test_accepting_opens_a_case_and_the_requester_continues_here_with_a_new_codename(
        alice: Persona, bob: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        receipts: list[env.Envelope], django_capture_on_commit_callbacks: Any) -> None:
    row = _received(alice, charlie, delivery)
    envelope_file = row.envelope
    client = log_in(Client(), alice)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/network/incoming/{row.pk}/accept/",
                             {"team": alice.org.default_team_id}, follow=True)
    assert answer.status_code == 200 and "Referral accepted" in answer.content.decode()
    row.refresh_from_db()
    case = row.case
    assert case is not None and row.state == "accepted" and row.decided_by == alice.member
    assert (case.organization, case.category, case.channel) == (alice.org, "summons", "web")
    assert row.envelope == "" and not storage.path_of(envelope_file).exists()

    # The accepting team reads everything the partner shared, under the case's own key.
    records = case_actions.read_case(bob.member, bob.vault(), case)
    kinds = [item["record"].kind for item in records]
    assert kinds.count(RecordKind.ANSWERS) == 1 and kinds.count(RecordKind.ATTACHMENT) == 1
    texts = [item["body"] for item in records if isinstance(item["body"], str)]
    assert STORY in texts
    assert any(REPLY in t and "Second" in t for t in texts)  # the partner's reply, as a note
    assert any("Chosen note: urgent" in t for t in texts)
    inbound = [item for item in records if item["record"].kind == RecordKind.INBOUND]
    assert [i["body"] for i in inbound] == [STORY]
    answers = next(i["body"] for i in records if i["record"].kind == RecordKind.ANSWERS)
    assert answers["items"][0]["answer"] == STORY
    photo = next(i for i in records if i["record"].kind == RecordKind.ATTACHMENT)
    opened = case_actions.open_file(bob.member, bob.vault(), case, photo["record"].file, "view")
    assert opened.data[:3] == b"\xff\xd8\xff"  # a JPEG, cleaned again here
    page = log_in(Client(), bob).get(f"/desk/cases/{case.number}/").content.decode()
    assert "Referred by Second" in page

    # The partner got a signed receipt; only the referring server opens the continuation.
    [receipt] = receipts
    assert receipt.kind is env.Kind.RECEIPT
    assert receipt.header["outcome"] == "accepted" and receipt.header["referral"] == str(row.ref_id)
    env.verify(receipt, bytes(keys.signing_key(alice.org).public_key))
    sealed = base64.b64decode(receipt.header["continuation"])
    with pytest.raises(vault.VaultError):
        vault.open_sealed(charlie.vault().private_key, sealed)
    text = json.loads(vault.open_sealed(delivery.private, sealed))["text"]
    assert "First" in text and "/o/first/follow-up/" in text
    codename = re.search(r"кодовое имя: ([^.]+)\.", text)
    assert codename is not None, text

    # The requester opens the follow-up page here with it, reads the reply and answers.
    requester = Client()
    thread = _follow(requester, "first", codename.group(1))
    assert "Second" in thread  # the welcome message names who passed the request on
    case_actions.reply(bob.member, bob.vault(), case, "Здравствуйте, мы получили ваше обращение.")
    assert outbox.run_once().sent >= 1
    thread = _follow(requester, "first", codename.group(1))
    assert "Здравствуйте, мы получили ваше обращение." in thread
    token = re.search(r'name="token" value="([^"]+)"', thread).group(1)  # type: ignore[union-attr]
    _follow(requester, "first", codename.group(1), action="send", token=token,
            message="Спасибо, жду.")
    inbound = CaseRecord.objects.filter(case=case, kind=RecordKind.INBOUND).order_by("pk")
    assert [bob.case_vault(case).decrypt_text(bytes(r.body)) for r in inbound][-1] == "Спасибо, жду."
    assert AuditEntry.objects.filter(action="referral.accepted", case_id=case.pk).exists()


def test_accepting_twice_makes_one_case(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        receipts: list[env.Envelope]) -> None:
    row = _received(alice, charlie, delivery)
    team = alice.org.default_team
    stale = IncomingReferral.objects.get(pk=row.pk)  # a second tab, loaded before the first accepted
    actions.accept_incoming(alice.member, alice.vault(), row, team)
    with pytest.raises(actions.IncomingError, match="already accepted or declined"):
        actions.accept_incoming(alice.member, alice.vault(), stale, team)
    assert Case.objects.filter(organization=alice.org).count() == 1 and len(receipts) == 1


def test_a_failed_delivery_of_the_receipt_leaves_nothing_behind(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No receipt handler at the partner: the partner's inbox refuses the receipt, the
    accept is refused with that reason, and no case, codename or file is left."""
    monkeypatch.delitem(inbox.HANDLERS, env.Kind.RECEIPT, raising=False)
    row = _received(alice, charlie, delivery)
    before = set(files.folder().iterdir())
    with pytest.raises(actions.IncomingError, match="refused the answer"):
        actions.accept_incoming(alice.member, alice.vault(), row, alice.org.default_team)
    row.refresh_from_db()
    assert row.state == "received" and storage.path_of(row.envelope).exists()
    assert not Case.objects.filter(organization=alice.org).exists()
    assert set(files.folder().iterdir()) == before


def test_declining_tells_the_partner_a_reason_only_it_opens(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        receipts: list[env.Envelope], django_capture_on_commit_callbacks: Any) -> None:
    row = _received(alice, charlie, delivery)
    envelope_file = row.envelope
    client = log_in(Client(), alice)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/network/incoming/{row.pk}/decline/",
                             {"reason": "Мы не работаем с этим регионом."}, follow=True)
    assert "Referral declined" in answer.content.decode()
    row.refresh_from_db()
    assert row.state == "declined" and row.case is None and row.envelope == ""
    assert not storage.path_of(envelope_file).exists()
    [receipt] = receipts
    assert receipt.header["outcome"] == "declined" and "continuation" not in receipt.header
    sealed = base64.b64decode(receipt.header["reason"])
    assert json.loads(vault.open_sealed(charlie.vault().private_key, sealed)) == \
        {"text": "Мы не работаем с этим регионом."}
    with pytest.raises(vault.VaultError):
        vault.open_sealed(alice.vault().private_key, sealed)
    assert not Case.objects.filter(organization=alice.org).exists()
    entry = AuditEntry.objects.get(action="referral.declined")
    assert entry.detail["with_reason"] is True and "регион" not in json.dumps(entry.detail)


def test_a_decided_referral_cannot_be_opened_again(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        receipts: list[env.Envelope]) -> None:
    row = _received(alice, charlie, delivery)
    actions.decline_incoming(alice.member, alice.vault(), row, "")
    page = log_in(Client(), alice).get(f"/network/incoming/{row.pk}/").content.decode()
    assert "Declined" in page and STORY not in page
    assert "reason" not in receipts[0].header


def test_an_unknown_category_becomes_other_and_an_old_message_keeps_its_date(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        receipts: list[env.Envelope]) -> None:
    row = _received(alice, charlie, delivery, category="not-here", files=[])
    accepted = actions.accept_incoming(alice.member, alice.vault(), row, alice.org.default_team)
    assert accepted.case.category == "other"
    first = CaseRecord.objects.filter(case=accepted.case, kind=RecordKind.INBOUND).get()
    assert first.created < timezone.now() - timedelta(days=1)


def test_the_answer_to_a_partner_reached_by_file_is_downloaded_and_received_there(
        alice: Persona, charlie: Persona, linked: tuple[Partner, Partner],
        delivery: vault.KeyPair, receipts: list[env.Envelope]) -> None:
    Partner.objects.filter(pk=linked[1].pk).update(local=None, server_url="")
    row = _received(alice, charlie, delivery)
    client = log_in(Client(), alice)
    answer = client.post(f"/network/incoming/{row.pk}/accept/",
                         {"team": alice.org.default_team_id}, follow=True)
    assert "download the answer below" in answer.content.decode()
    assert receipts == []  # nothing was sent: there is no connection
    row.refresh_from_db()
    assert row.state == "accepted" and row.envelope
    download = client.get(f"/network/incoming/{row.pk}/receipt/")
    assert download.status_code == 200
    assert ".haven-receipt" in download["Content-Disposition"]
    blob = download.content
    assert inbox.receive(blob, via="file").result == "noted"  # the partner uploads it
    assert receipts[0].header["outcome"] == "accepted"
    assert log_in(Client(), charlie).get(f"/network/incoming/{row.pk}/receipt/").status_code == 404


def test_a_full_disk_asks_the_sender_to_try_again_and_stores_nothing(
        alice: Persona, charlie: Persona, linked: Any, delivery: vault.KeyPair,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(blob: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "write", full)
    with pytest.raises(inbox.Refused) as refused:
        inbox.receive(_referral(charlie, alice.org, _package(delivery.public)), via="test")
    assert refused.value.status == 503
    assert not IncomingReferral.objects.exists()


def test_after_the_partnership_ended_a_waiting_referral_can_only_be_declined_here(
        alice: Persona, charlie: Persona, linked: tuple[Partner, Partner],
        delivery: vault.KeyPair, receipts: list[env.Envelope]) -> None:
    row = _received(alice, charlie, delivery)
    Partner.objects.filter(pk=linked[1].pk).update(state=Partner.State.ENDED)
    client = log_in(Client(), alice)
    refused = client.post(f"/network/incoming/{row.pk}/accept/",
                          {"team": alice.org.default_team_id})
    assert refused.status_code == 400 and "is not active" in refused.content.decode()
    answer = client.post(f"/network/incoming/{row.pk}/decline/", {"reason": ""}, follow=True)
    assert "they were not told" in answer.content.decode()
    row.refresh_from_db()
    assert row.state == "declined" and receipts == []
    assert AuditEntry.objects.get(action="referral.declined").detail["partner_told"] is False


def test_a_referral_that_does_not_unpack_is_shown_as_unreadable_and_can_be_declined(
        alice: Persona, charlie: Persona, linked: Any, receipts: list[env.Envelope]) -> None:
    blob = env.make(env.Kind.REFERRAL, envelope_id=str(uuid.uuid4()),
                    sender_seed=keys.signing_seed(charlie.vault(), charlie.org),
                    sender_public=bytes(keys.signing_key(charlie.org).public_key),
                    recipient_public=bytes(alice.org.public_key), created=timezone.now(),
                    content=b"\x00\x00\x00\x05{bad}")
    inbox.receive(blob, via="test")
    row = IncomingReferral.objects.get()
    client = log_in(Client(), alice)
    page = client.get(f"/network/incoming/{row.pk}/")
    assert page.status_code == 200 and "cannot be read" in page.content.decode()
    assert "Decline the referral" in page.content.decode()
    assert "Accept and open a case" not in page.content.decode()
    with pytest.raises(actions.IncomingError, match="cannot be read"):
        actions.accept_incoming(alice.member, alice.vault(), row, alice.org.default_team)
    client.post(f"/network/incoming/{row.pk}/decline/", {"reason": "unreadable"})
    row.refresh_from_db()
    assert row.state == "declined" and receipts[0].header["outcome"] == "declined"


def test_a_referral_without_a_delivery_key_cannot_be_accepted(
        alice: Persona, charlie: Persona, linked: Any, receipts: list[env.Envelope]) -> None:
    """The requester could not be told their codename here: refused, nothing made."""
    inbox.receive(_referral(charlie, alice.org, _package(b"")), via="test")
    row = IncomingReferral.objects.get()
    with pytest.raises(actions.IncomingError, match="no key to pass the requester"):
        actions.accept_incoming(alice.member, alice.vault(), row, alice.org.default_team)
    assert not Case.objects.filter(organization=alice.org).exists() and receipts == []


# --- both sides on this server, the referring side's own code -------------------------------


def _referred_by_alice(alice: Persona, bob: Persona, charlie: Persona) -> tuple[Any, str, Any]:
    """alice's organization refers a web case to charlie's, and the requester agrees on the
    follow-up page: the referral reaches charlie's inbox at once."""
    from haven.network import actions as network_actions
    from haven.network import referring
    from tests.intake.conftest import Visitor, codename_in, complete

    at_alice, _at_charlie = _partners(alice.org, charlie.org)
    visitor = Visitor(alice.org.slug)
    code = codename_in(complete(visitor))
    case = Case.objects.get(organization=alice.org)
    referral = network_actions.propose_referral(bob.member, bob.vault(), case, referring.Choice(
        partner=at_alice, note="Нужен юрист по повесткам.", answers=True))
    visitor.post(visitor.url("follow-up/"), {"codename": code, "action": "referral",
                                             "referral": str(referral.pk), "answer": "agree"})
    referral.refresh_from_db()
    assert referral.state == "delivered"
    return referral, code, visitor


def test_end_to_end_the_requester_reads_the_new_codename_at_the_referring_organization(
        alice: Persona, bob: Persona, charlie: Persona,
        django_capture_on_commit_callbacks: Any) -> None:
    referral, code, visitor = _referred_by_alice(alice, bob, charlie)
    row = IncomingReferral.objects.get(organization=charlie.org)
    assert row.ref_id == referral.ref_id
    client = log_in(Client(), charlie)
    assert "Нужен юрист по повесткам." in client.get(f"/network/incoming/{row.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/network/incoming/{row.pk}/accept/", {"team": charlie.org.default_team_id})
    referral.refresh_from_db()
    assert referral.state == "accepted"
    assert outbox.run_once().sent >= 1
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    found = re.search(r"кодовое имя: ([^.]+)\.", page)
    assert found is not None and "/o/second/follow-up/" in page
    # The new codename opens the thread at charlie's organization; the old one does not.
    assert "First" in _follow(Client(), "second", found.group(1))
    assert Client().post("/o/second/follow-up/", {"codename": code}).status_code == 400
    # The referring case shows the outcome, never the partner's case.
    desk = log_in(Client(), bob).get(f"/desk/cases/{referral.case.number}/").content.decode()
    assert "Accepted by the partner" in desk


def test_end_to_end_a_decline_reason_is_read_on_the_referring_case(
        alice: Persona, bob: Persona, charlie: Persona) -> None:
    referral, _code, _visitor = _referred_by_alice(alice, bob, charlie)
    row = IncomingReferral.objects.get(organization=charlie.org)
    log_in(Client(), charlie).post(f"/network/incoming/{row.pk}/decline/",
                                   {"reason": "Мы не работаем с этим регионом."})
    referral.refresh_from_db()
    assert referral.state == "declined"
    desk = log_in(Client(), bob).get(f"/desk/cases/{referral.case.number}/").content.decode()
    assert "Мы не работаем с этим регионом." in desk
