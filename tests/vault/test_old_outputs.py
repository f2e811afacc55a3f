"""A database made before the vault owned every purpose still opens, byte for byte.

``old_outputs.json`` was written by the code as it was before the refactor
(fixed secrets and inputs; the ciphertexts have random nonces, so they are the
old code's actual output). Each test opens or recomputes them with today's
code; where the old formula is short it is also written out here, so a change
to a purpose string or a format cannot pass unnoticed.

New values are written in format version 2 (padded, M-3): the same keys and
header binding with version byte 2, and the plaintext padded ISO/IEC 7816-4
style (0x80, then zeros) to a size class; ``new_open`` writes that out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import nacl.encoding
import nacl.hash
import nacl.secret
import pytest
from django.test import override_settings

from haven import outbox, vault
from haven.core.keys import pepper_hash, server_box
from haven.intake import codename, conversations
from haven.telegram import sealing
from haven.vault import purposes
from haven.vault.derive import intake_codename_key
from haven.vault.purposes import Lookup
from haven.vault.server import Envelope

OLD = json.loads((Path(__file__).parent / "old_outputs.json").read_text("utf-8"))
TOKEN_KEY = OLD["token_key"].encode()
PEPPER = OLD["pepper_secret"].encode()
HAVEN = Path(__file__).resolve().parents[2] / "haven"
# The slow chat key (Lookup.TG_CHAT_SLOW, vault.kdf.SLOW_LOOKUP) of bot 5, chat 987654321,
# as first released (3 passes, 32 MiB): a change of label or cost would strand every chat.
SLOW_CHAT_KEY = "46524075c249447bde86ac916679740a8c95e9054c9a853af78fd9c99710744c"


@pytest.fixture(autouse=True)
def _old_secrets() -> Any:
    with override_settings(HAVEN_TOKEN_KEY=TOKEN_KEY, HAVEN_PEPPER=PEPPER):
        yield


def _blake(data: bytes, key: bytes) -> bytes:
    return nacl.hash.blake2b(data, key=key, digest_size=32, encoder=nacl.encoding.RawEncoder)


def old_open(secret: bytes, info: bytes, blob: bytes, kind: int = 2) -> bytes:
    """The old secret box written out: key = BLAKE2b(info, secret), box key bound to the header."""
    head = b"hv" + bytes([1, kind])
    assert blob[:4] == head
    return nacl.secret.SecretBox(_blake(head, _blake(info, secret))).decrypt(blob[4:])


def _strip_padding(padded: bytes) -> bytes:
    assert len(padded) == 256 or len(padded) % 1024 == 0
    body = padded.rstrip(b"\x00")
    assert body.endswith(b"\x80")
    return body[:-1]


def new_open(secret: bytes, info: bytes, blob: bytes, kind: int = 2, derive: bool = True) -> bytes:
    """Version 2 written out: as ``old_open`` with version byte 2, then the padding stripped."""
    head = b"hv" + bytes([2, kind])
    assert blob[:4] == head
    key = _blake(info, secret) if derive else secret
    return _strip_padding(nacl.secret.SecretBox(_blake(head, key)).decrypt(blob[4:]))


def test_old_outbox_payloads_open_and_new_ones_are_padded() -> None:
    payload = {"text": "Привет, ответ", "chat_id": 12345}
    assert outbox.open_payload(bytes.fromhex(OLD["outbox"])) == payload
    new = outbox.seal_payload(payload)
    assert new_open(TOKEN_KEY, b"haven/outbox/v1", new) == json.dumps(payload, ensure_ascii=False).encode()


@pytest.mark.parametrize(("name", "purpose", "bound", "value"), [
    ("tg_chat", sealing.CHAT, "case:7", {"chat": 987654321, "bot": 3}),
    ("tg_token", sealing.TOKEN, "bot-public-id", "123:ABC"),
    ("tg_state", sealing.STATE, "chatkey", {"step": "q1", "lang": "ru"}),
    ("tg_autoclear", sealing.AUTOCLEAR, "chatkey", 987654321),
])
def test_old_telegram_values_open_and_new_ones_are_padded(
    name: str, purpose: purposes.Purpose, bound: str, value: Any,
) -> None:
    assert sealing.unseal(purpose, bound, bytes.fromhex(OLD[name])) == value
    plain = json.dumps([bound, value], ensure_ascii=False, separators=(",", ":")).encode()
    info = {"tg_chat": b"haven/telegram-chat/v1", "tg_token": b"haven/bot-token/v1",
            "tg_state": b"haven/telegram-state/v1", "tg_autoclear": b"haven/telegram-autoclear/v1"}
    assert new_open(TOKEN_KEY, info[name], sealing.seal(purpose, bound, value)) == plain
    with pytest.raises(vault.TamperedCiphertext):
        sealing.unseal(purpose, "another-row", bytes.fromhex(OLD[name]))


def test_old_telegram_updates_open_and_new_ones_are_padded() -> None:
    assert sealing.unseal_bytes(sealing.UPDATE, bytes.fromhex(OLD["tg_update"])) == b'{"update_id": 1}'
    new = sealing.seal_bytes(sealing.UPDATE, b"body")
    assert new_open(TOKEN_KEY, b"haven/telegram-update/v1", new) == b"body"


def test_old_intake_conversations_open_and_new_ones_are_padded() -> None:
    key = conversations.lookup_key("A" * 32)
    assert key == OLD["intake_key"]
    box = server_box(purposes.INTAKE_STATE, Envelope.KEYED)
    assert box.unseal(key, bytes.fromhex(OLD["intake_state"])) == {"x": 1}
    assert new_open(TOKEN_KEY, b"haven/intake-state/v1", box.seal(key, {"x": 1})) == \
        OLD["intake_state_plain"].encode()
    with pytest.raises(vault.TamperedCiphertext):
        box.unseal(conversations.lookup_key("B" * 32), bytes.fromhex(OLD["intake_state"]))


def test_an_old_kept_codename_opens_with_the_handle() -> None:
    blob = bytes.fromhex(OLD["intake_codename"])
    assert vault.box.secret_decrypt(intake_codename_key("A" * 32), blob) == "берег река".encode()
    assert old_open(b"A" * 32, b"haven/intake-codename/v1", blob) == "берег река".encode()


def test_codename_key_and_lookups_are_unchanged() -> None:
    normal = codename.normalise("Берег  Ёлка")
    old_key = hashlib.sha256(b"haven/codename-key/v1\x00" + normal.encode()).digest()
    assert codename.key_material("Берег  Ёлка") == old_key == bytes.fromhex(OLD["codename_key"])
    assert codename.lookup_hash("Берег  Ёлка") == OLD["codename_lookup"]
    assert sealing.fast_chat_key(5, 987654321) == OLD["chat_key"]  # re-keys old rows
    assert sealing.chat_key(5, 987654321) == SLOW_CHAT_KEY
    assert sealing.secret_hash("hook-secret") == OLD["webhook_hash"]


def test_every_pepper_label_hashes_as_before() -> None:
    for label, old in OLD["pepper"].items():
        mac = hmac.new(PEPPER, label.encode() + b"\x00value-1", hashlib.sha256).hexdigest()
        assert pepper_hash(label, "value-1") == old == mac
    # Labels under an organization's key, and labels added after the file was written
    # (the slow chat key, the per-codename try counter): nothing stored to stay equal to.
    newer = {"search", "tag", "donor-ref", "tg-chat-slow", "codename-tries",
             "notify-link-code"}
    labels = {x.value for x in Lookup} - newer
    assert labels <= set(OLD["pepper"])
    for label in labels:
        assert pepper_hash(Lookup(label), "value-1") == OLD["pepper"][label]


def test_organization_records_and_donor_references_are_unchanged() -> None:
    org = vault.OrgVault(bytes.fromhex(OLD["org_private"]))
    assert org.decrypt_text(bytes.fromhex(OLD["org_record"])) == "запись"
    assert org.keyed(Lookup.DONOR_REF, "значение") == OLD["org_keyed"]["donor-ref"]


def test_search_and_tag_hashes_have_keys_of_their_own() -> None:
    # Re-keyed (review I-2): the record key is no longer their HMAC key. Stored tokens and
    # tag hashes are rebuilt by the re-index that migration 0004 asks for.
    private = bytes.fromhex(OLD["org_private"])
    org = vault.OrgVault(private)
    for label, info in (("search", b"haven/index/v1"), ("tag", b"haven/tags/v1")):
        key = vault.box.derive_subkey(private, info)
        mac = hmac.new(key, label.encode() + b"\x00" + "значение".encode(), hashlib.sha256)
        assert org.keyed(Lookup(label), "значение") == mac.hexdigest() != OLD["org_keyed"][label]
    with pytest.raises(ValueError):
        org.keyed(Lookup.CODENAME, "значение")  # a pepper label is no organization hash


def test_old_key_sessions_and_token_wraps_open() -> None:
    cookie = bytes.fromhex(OLD["cookie_key"])
    assert vault.unpack_member_keys(cookie, bytes.fromhex(OLD["key_session"])) == \
        (bytes(range(32)), bytes(range(32, 64)))
    new = vault.pack_member_keys(cookie, bytes(range(32)), bytes(range(32, 64)))
    assert new_open(cookie, b"", new, derive=False) == bytes(range(64))
    assert vault.unwrap_with_token(bytes.fromhex(OLD["token_wrap"]), b"t" * 32) == b"s" * 32
    with pytest.raises(vault.TamperedCiphertext):
        vault.unpack_member_keys(cookie, vault.box.secret_encrypt(cookie, bytes(32)))


def test_each_purpose_is_named_once_and_nowhere_else() -> None:
    infos = [p.info for p in purposes.ALL if p is not purposes.DONOR_REF]
    assert len(infos) == len(set(infos))
    assert purposes.DONOR_REF.info == purposes.RECORDS.info  # until donations are re-hashed
    assert set(purposes.ORG_KEYED) == {Lookup.SEARCH, Lookup.TAG, Lookup.DONOR_REF}
    literal = re.compile(r"""b["']haven/""")
    outside = [str(p.relative_to(HAVEN)) for p in HAVEN.rglob("*.py")
               if p.name != "purposes.py" and literal.search(p.read_text("utf-8"))]
    assert outside == []
