"""The security review's proof-of-concept scripts as tests of the fixed behaviour.

Each test repeats the attack of one script in ../shared/reviews/poc/ (our own
code, not the script) and asserts that it no longer works:

- invite_poc.py (H-1, M-1): a spent invitation link plus a database copy;
- blind_poc.py (H-2): the blind index against the public questionnaires;
- len_poc.py (M-3): ciphertext lengths against answers and languages;
- exif_test.py (L-1): metadata left in cleaned photos;
- headers.py (L-3, L-4, section 4): response headers and cookies;
- shamir_test.py (I-1): malformed and mistyped recovery shares.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import struct
from collections import defaultdict

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, PngImagePlugin

from haven import vault
from haven.accounts import services
from haven.accounts.keys import unlock_member
from haven.accounts.models import Member
from haven.cases import search
from haven.cases.models import Case, SearchToken
from haven.core.text import terms
from haven.intake import registry
from haven.intake.attachments import clean
from haven.intake.engine import CONFIRM, Engine, Finished
from haven.intake.submit import submit
from haven.vault import recovery
from tests.conftest import PASSWORD, Persona

from .flows import accept_on_the_web

FREE_TEXT = "zxqvortian plimbusarium"  # shares no stem with any question or label

# --- invite_poc.py: H-1 and M-1 ------------------------------------------------------


def _accept_on_the_web(token: str) -> Member:
    accept_on_the_web(token, PASSWORD)
    return Member.objects.get(username="anna")


def _every_stored_blob() -> list[bytes]:
    blobs = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, models.BinaryField)]
        for row in model.objects.values_list(*names) if names else ():
            blobs += [bytes(v) for v in row if v]
    return blobs


def _opened_by(token: str, blobs: list[bytes]) -> list[bytes]:
    """What a thief opens with the token: keys wrapped under it, then boxes sealed to those."""
    keys = []
    for blob in blobs:
        try:
            keys.append(vault.unwrap_with_token(blob, token.encode()))
        except vault.VaultError:  # anything but a key under this token
            continue
    opened = []
    for key in keys:
        for blob in blobs:
            try:
                opened.append(vault.open_sealed(key, blob))
            except vault.VaultError:
                continue
    return opened


def test_a_spent_invitation_link_and_a_database_copy_open_no_organization_key(db: None) -> None:
    made = services.create_organization("poc", "PoC org", "anna")
    token = made.admin_invite.token
    anna = _accept_on_the_web(token)
    org_private = unlock_member(anna, PASSWORD).org_private
    opened = _opened_by(token, _every_stored_blob())
    # Compared without printing: a failure must not show the key in the CI log.
    assert not any(o == org_private for o in opened), "the spent link opens the organization key (H-1)"
    assert not opened, f"the spent link still opens {len(opened)} stored value(s) (H-1)"


def test_a_spent_invitation_link_does_not_give_the_second_factor(db: None) -> None:
    made = services.create_organization("poc", "PoC org", "anna")
    token = made.admin_invite.token
    anna = _accept_on_the_web(token)
    from_link = hmac.new(token.encode(), vault.purposes.TOTP.info, hashlib.sha256).digest()[:20]
    assert TOTPDevice.objects.get(user=anna).key != from_link.hex(), (
        "the member's TOTP secret is derived from the invitation link (M-1)")


# --- blind_poc.py: H-2 ----------------------------------------------------------------


def _answer_for(engine: Engine, state, picks: dict[str, str]) -> object:  # type: ignore[no-untyped-def]
    prompt = engine.prompt(state)
    step = prompt.step
    if prompt.field in ("choice", "yes_no"):
        return picks.get(step.id, prompt.choices[0][0])
    if prompt.field == "multi_choice":
        return [prompt.choices[0][0]]
    if prompt.field == "date":
        return "2026-03-10"
    if prompt.field == "number":
        return str(step.min_value or 1)
    return "" if step.optional else FREE_TEXT


def fill(category: str, lang: str, picks: dict[str, str]) -> Finished:
    """A questionnaire completed as a requester would: ``picks`` chosen, free text typed."""
    engine = registry.engine(category)
    state = engine.start(lang, consent=False)
    while state.phase != CONFIRM:
        result = engine.answer(state, _answer_for(engine, state, picks))
        assert not result.error, (engine.prompt(state).step.id, result.error)
        state = result.state
    finished = engine.answer(state, "yes").finished
    assert finished is not None
    return finished


def _public_stems(category: str) -> set[str]:
    """Every stem of every question text and answer label, in every language."""
    questionnaire = registry.get(category)
    assert questionnaire is not None
    texts = [t for s in questionnaire.steps for t in s.text.values()]
    texts += [label for s in questionnaire.steps for c in (s.choices or []) for label in c.labels.values()]
    return {stem for text in texts for stem in terms(text)} - set(terms(FREE_TEXT))


def test_the_blind_index_holds_no_token_of_a_question_or_answer_label(alice: Persona) -> None:
    for option in ("left", "war_zone"):
        submit(alice.org, fill("leaving-service", "ru", {"where_now": option}))
    org_vault = alice.vault()
    search.index_pending(org_vault, alice.org.pk)  # what a member's next search does
    stored = set(SearchToken.objects.filter(organization=alice.org).values_list("token", flat=True))
    assert stored, "nothing was indexed: the test would prove nothing"
    leaked = sorted(s for s in _public_stems("leaving-service")
                    if search.query_tokens(org_vault, s) & stored)
    assert not leaked, f"stems of public questions and labels in the blind index (H-2): {leaked}"


# --- len_poc.py: M-3 ------------------------------------------------------------------


def _summary_lengths(persona: Persona, category: str) -> dict[int, list[str]]:
    questionnaire = registry.get(category)
    assert questionnaire is not None
    step = next(s for s in questionnaire.steps if s.summary)
    lengths: dict[int, list[str]] = defaultdict(list)
    for lang in ("ru", "uk", "en"):
        for choice in step.choices or []:
            case = submit(persona.org, fill(category, lang, {step.id: choice.id})).case
            lengths[len(bytes(case.summary))].append(f"{lang}:{choice.id} sealed")
            search.index_case(persona.vault(), case)  # a member re-seals it on first view
            lengths[len(bytes(Case.objects.get(pk=case.pk).summary))].append(f"{lang}:{choice.id} reseal")
    return lengths


@pytest.mark.parametrize("category", ["summons", "evacuation", "leaving-service"])
def test_a_summarys_length_tells_neither_the_answer_nor_the_language(
        alice: Persona, category: str) -> None:
    by_length = _summary_lengths(alice, category)
    sealed = {n for n, made in by_length.items() if any(m.endswith("sealed") for m in made)}
    resealed = {n for n, made in by_length.items() if any(m.endswith("reseal") for m in made)}
    assert len(sealed) == 1 and len(resealed) == 1, f"summary lengths (M-3): {dict(by_length)}"


# --- exif_test.py: L-1 ----------------------------------------------------------------

SECRETS = [b"CanonSECRETMAKE", b"COMMENT-SECRET", b"ICC-DEVICE-SECRET", b"XMP-SECRET",
           b"PNG-TEXT-SECRET", b"PNG-ITXT-SECRET"]
ICC = b"\x00" * 128 + b"ICC-DEVICE-SECRET"


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CanonSECRETMAKE"
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0)}
    return exif


def _png_chunks(data: bytes) -> list[bytes]:
    chunks, rest = [], data[8:]
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        chunks.append(rest[4:8])
        rest = rest[12 + length:]
    return chunks


def test_a_cleaned_jpeg_keeps_no_comment_profile_exif_or_xmp() -> None:
    image, buf = Image.new("RGB", (64, 64), (200, 10, 10)), io.BytesIO()
    image.save(buf, format="JPEG", exif=_exif(), comment=b"COMMENT-SECRET Ivan Ivanov, Saratov",
               icc_profile=ICC, xmp=b"<x:xmpmeta>XMP-SECRET</x:xmpmeta>")
    out = clean("p.jpg", buf.getvalue()).data
    assert [s for s in SECRETS if s in out] == []
    kept = [(hex(marker), head) for marker, head in _jpeg_segments(out)
            if marker == 0xFE or (0xE1 <= marker <= 0xEF)]
    assert not kept, f"metadata segments survived (L-1): {kept}"


def _jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, first bytes) of each segment before the image data."""
    segments, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        segments.append((data[at + 1], data[at + 4:at + 16]))
        at += 2 + length
    return segments


def test_a_cleaned_png_keeps_no_text_profile_or_exif_chunk() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "PNG-TEXT-SECRET")
    info.add_itxt("Comment", "PNG-ITXT-SECRET")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buf, format="PNG", pnginfo=info, exif=_exif(),
                                                  icc_profile=ICC)
    out = clean("p.png", buf.getvalue()).data
    assert [s for s in SECRETS if s in out] == []
    kept = set(_png_chunks(out)) & {b"iCCP", b"tEXt", b"iTXt", b"zTXt", b"eXIf"}
    assert not kept, f"metadata chunks survived (L-1): {kept}"


# --- headers.py: section 4, L-3, L-4 ---------------------------------------------------

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
                    "X-Content-Type-Options")


def _assert_private_page(response) -> None:  # type: ignore[no-untyped-def]
    missing = [h for h in SECURITY_HEADERS if not response.headers.get(h)]
    assert not missing, f"missing headers: {missing}"
    assert "no-store" in response.headers.get("Cache-Control", ""), (
        f"{response.request['PATH_INFO']} may be cached (L-4): {response.headers.get('Cache-Control')}")


def test_the_invitation_and_backup_code_pages_are_never_cached(db: None) -> None:
    made = services.create_organization("poc", "PoC org", "anna")
    pages, _secret = accept_on_the_web(made.admin_invite.token, PASSWORD)
    assert any('class="key"' in p.content.decode() for p in pages)  # the TOTP key was shown
    assert pages[-1].content.decode().count("<code>") == 10  # and then the backup codes
    for page in pages:
        _assert_private_page(page)


def test_no_public_page_leaves_a_lasting_cookie(alice: Persona) -> None:
    for url in ("/login/", f"/o/{alice.org.slug}/", "/kb/"):
        response = Client().get(url)
        lasting = {k: m["max-age"] or m["expires"] for k, m in response.cookies.items()
                   if m["max-age"] or m["expires"]}
        assert not lasting, f"{url} sets cookies that outlive the browser session (L-3): {lasting}"


# --- shamir_test.py: I-1 ----------------------------------------------------------------


def test_recovery_shares_numbered_outside_1_to_255_are_refused() -> None:
    good = recovery.split(b"\x01" * 32, 2, 2)
    body = good[0].split("-", 3)[3]
    for x in (0, 256, 1000):
        with pytest.raises(recovery.BadRecoveryKey, match="number"):
            recovery.combine([f"v2-2-{x}-{body}", good[1]])
    for legacy in ("2-0-", "2-256-"):
        with pytest.raises(recovery.BadRecoveryKey):
            recovery.combine([legacy + recovery.format_key(b"\0" * 32), good[1]])


def test_a_mistyped_recovery_share_is_named_not_recovered_wrongly() -> None:
    secret = bytes(range(32))
    shares = recovery.split(secret, 2, 3)
    assert recovery.combine([shares[2], shares[0]]) == secret
    head, body = shares[1].rsplit("-", 1)
    for at in range(len(body) - 1):  # each letter but the last (whose low bits are padding)
        typo = body[:at] + ("A" if body[at] != "A" else "B") + body[at + 1:]
        with pytest.raises(recovery.BadRecoveryKey, match="mistyped"):
            recovery.combine([shares[0], f"{head}-{typo}"])
    with pytest.raises(recovery.BadRecoveryKey):
        recovery.combine(shares[:1])  # one share short
