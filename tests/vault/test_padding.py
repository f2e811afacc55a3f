"""Ciphertext lengths give away size classes only (review M-3), and old ciphertexts still open.

Port of ``reviews/poc/len_poc.py``: every (language, answer) summary of one
questionnaire step used to have its own ciphertext length on a seized disk.
"""

from __future__ import annotations

import nacl.public
import pytest
from django.db import connection

from haven import vault
from haven.cases import actions, files, summaries
from haven.cases.models import Attachment, Case
from haven.intake import fields, registry
from haven.vault import box
from tests.conftest import Persona, make_case

LANGS = ("ru", "uk", "en")
CATEGORIES = ("acs", "leaving-service", "summons", "evacuation")


def _summary_plaintexts(category: str) -> list[str]:
    q = registry.get(category)
    step = next(s for s in q.steps if s.summary and s.choices)
    return [summaries.pack(fields.display(step, c.id, lang)[:200], lang)
            for lang in LANGS for c in step.choices]


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_answer_and_language_of_a_summary_has_the_same_ciphertext_length(category: str) -> None:
    org = vault.OrgVault(vault.generate_keypair().private)
    texts = _summary_plaintexts(category)
    assert len({len(t.encode()) for t in texts}) > 1  # the answers differ in length
    sealed = {len(vault.seal_text(org.public_key, t)) for t in texts}  # as intake stores them
    resealed = {len(org.encrypt_text(t)) for t in texts}  # after a member's view re-seals them
    assert len(sealed) == 1 and len(resealed) == 1
    for text in texts:
        assert org.decrypt_text(vault.seal_text(org.public_key, text)) == text
        assert org.decrypt_text(org.encrypt_text(text)) == text


def test_summaries_of_different_lengths_are_stored_at_one_length(alice: Persona) -> None:
    texts = ("Электронная", "Ukrainian citizen who lives in Russia")
    cases = [make_case(alice, summary=text, lang="ru") for text in texts]
    with connection.cursor() as cursor:
        cursor.execute("SELECT LENGTH(summary) FROM cases_case WHERE id IN (%s, %s)",
                       [c.pk for c in cases])
        assert len({row[0] for row in cursor.fetchall()}) == 1
    for case, text in zip(cases, texts, strict=True):
        stored = bytes(Case.objects.get(pk=case.pk).summary)
        assert summaries.unpack(alice.case_vault(case).decrypt_text(stored)) == summaries.Summary(text, "ru")


def test_an_attachment_keeps_only_its_size_class_in_clear(alice: Persona) -> None:
    case = make_case(alice)
    small = actions.add_attachment(case, name="a.pdf", kind="application/pdf", data=b"x" * 1500,
                                   channel="web")
    large = actions.add_attachment(case, name="b.pdf", kind="application/pdf", data=b"y" * 1900,
                                   channel="web")
    assert small.size == large.size == 2048
    assert len(files.read(small.storage_name)) == len(files.read(large.storage_name))
    assert alice.case_vault(case).decrypt(files.read(large.storage_name)) == b"y" * 1900
    assert Attachment.objects.filter(size=1500).count() == 0


@pytest.mark.parametrize(("length", "padded"), [
    (0, 256), (255, 256), (256, 1024), (1023, 1024), (1024, 2048), (16383, 16384),
    (16384, 32768), (40000, 65536), (65535, 65536), (65536, 131072), (200_000, 262_144),
])
def test_size_classes(length: int, padded: int) -> None:
    assert box.padded_length(length) == padded
    key = bytes(32)
    blob = box.secret_encrypt(key, b"a" * length)
    assert len(blob) == box.HEADER_LEN + 24 + 16 + padded
    assert box.secret_decrypt(key, blob) == b"a" * length


def _unpadded_sealed(public: bytes, plaintext: bytes) -> bytes:
    """A sealed box as format version 1 wrote it (no padding), written out."""
    return b"hv\x01\x01" + nacl.public.SealedBox(nacl.public.PublicKey(public)).encrypt(plaintext)


def test_old_unpadded_ciphertexts_still_open(alice: Persona) -> None:
    made = make_case(alice)
    org = alice.case_vault(made)  # the case's own key (before teams: the organization's)
    old = _unpadded_sealed(org.public_key, "старое резюме".encode())
    assert org.decrypt_text(old) == "старое резюме"
    assert vault.open_sealed(org.private_key, old) == "старое резюме".encode()
    Case.objects.filter(pk=made.pk).update(summary=old)
    case = Case.objects.get(summary=old)
    actions.reseal(alice.vault(), case)  # a member's view re-encrypts it in the new format
    stored = bytes(Case.objects.get(pk=case.pk).summary)
    assert stored[:4] == b"hv\x02\x02" and org.decrypt_text(stored) == "старое резюме"


def test_a_relabelled_or_truncated_padded_ciphertext_does_not_open() -> None:
    org = vault.OrgVault(vault.generate_keypair().private)
    sealed = vault.seal_text(org.public_key, "ответ")
    as_old = sealed[:2] + b"\x01" + sealed[3:]  # sealed boxes carry no key binding: checked inside
    with pytest.raises(vault.TamperedCiphertext):
        org.decrypt(as_old)
    secret = org.encrypt_text("ответ")
    with pytest.raises(vault.TamperedCiphertext):
        org.decrypt(secret[:2] + b"\x01" + secret[3:])
    with pytest.raises(vault.UnknownKeyVersion):
        org.decrypt(secret[:2] + b"\x03" + secret[3:])
