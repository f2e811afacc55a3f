"""A caseworker on a phone refers a case to a partner (JavaScript off); the requester agrees
on their follow-up page; the partner's answer reaches the requester; the desk never shows it."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from haven import outbox
from haven.accounts.models import Role
from haven.cases.models import Case, Status
from haven.network import actions, envelope, referring
from haven.network.models import Partner, Referral
from haven.network.package import unpack
from haven.vault import generate_keypair, seal
from haven.vault.signing import generate_signing_key
from tests.conftest import add_member, make_org

from .conftest import NewContext
from .test_intake_browser import EN, _intake
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_caseworker_refers_and_the_requester_agrees_without_javascript(
        new_context: NewContext, tmp_path: Path) -> None:
    alice, _made = make_org("first", "alice")
    bob = add_member(alice, "bob", Role.CASEWORKER)
    keys = generate_keypair()
    signing_public, seed = generate_signing_key()
    partner = Partner.objects.create(
        organization=alice.org, name="Memorial Legal", server_url="https://partner.example",
        remote_slug="ml", encryption_key=keys.public, signing_key=signing_public,
        state=Partner.State.ACTIVE)
    requester = new_context(javascript=False, phone=True).new_page()
    requester.goto("/o/first/")
    codename = _intake(requester, EN, "I got a summons yesterday.")
    case = Case.objects.get(organization=alice.org)

    desk = new_context(javascript=False, phone=True).new_page()
    desk.goto("/login/")
    _log_in(desk, bob)
    desk.goto(f"/desk/cases/{case.number}/")
    desk.get_by_role("link", name="Refer to a partner").click()
    desk.get_by_label("Partner organization").select_option(str(partner.pk))
    desk.get_by_label("Note to the partner").fill("Summons case; the requester is abroad.")
    expect(desk.get_by_label("The answers to the questionnaire")).to_be_checked()
    desk.get_by_label("As a file you download here").check()
    desk.get_by_label("Send online").check()
    desk.screenshot(path=tmp_path / "refer-form.png", full_page=True)
    width = desk.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the refer page scrolls sideways on a phone: {width}px"
    desk.get_by_role("button", name="Propose the referral").click()
    expect(desk.get_by_role("status").first).to_contain_text("The referral to Memorial Legal is proposed")
    expect(desk.locator(".referrals")).to_contain_text("Waiting for the requester's answer")

    requester.goto("/o/first/follow-up/")
    requester.get_by_label(EN["codename"]).fill(codename)
    requester.get_by_role("button", name=EN["open"]).click()
    expect(requester.locator(".referral-question")).to_contain_text("Memorial Legal")
    expect(requester.locator(".referral-question")).to_contain_text("the answers to the questionnaire")
    requester.screenshot(path=tmp_path / "referral-question.png", full_page=True)
    requester.get_by_role("button", name="I agree, send it").click()
    expect(requester.get_by_role("status")).to_contain_text("Your request was sent to Memorial Legal")
    referral = Referral.objects.get(case=case)
    assert referral.state == Referral.State.CONSENTED
    case.refresh_from_db()
    assert case.status == Status.REFERRED

    # The partner accepts and tells the requester how to reach them.
    package = unpack(envelope.open_payload(envelope.read(
        referring.read_envelope(referral.envelope), max_size=1 << 26), keys.private))
    assert package.note == "Summons case; the requester is abroad."
    receipt = envelope.make(
        envelope.Kind.RECEIPT, envelope_id=str(uuid.uuid4()), sender_seed=seed,
        sender_public=signing_public, recipient_public=bytes(alice.org.public_key),
        created=timezone.now(), content=None,
        extra={"referral": str(referral.ref_id), "outcome": "accepted",
               "continuation": base64.b64encode(seal(package.delivery_public, json.dumps(
                   {"text": "Write to us at help@memorial.example"}).encode())).decode()})
    actions.referral_receipt(alice.org, partner, envelope.read(receipt, max_size=1 << 20))
    outbox.run_once("web")
    requester.get_by_role("button", name="Check for new replies").click()
    expect(requester.get_by_role("main")).to_contain_text("Write to us at help@memorial.example")
    desk.reload()
    expect(desk.locator(".referrals")).to_contain_text("Accepted by the partner")
    expect(desk.get_by_role("main")).not_to_contain_text("help@memorial.example")
    desk.screenshot(path=tmp_path / "referral-accepted.png", full_page=True)
