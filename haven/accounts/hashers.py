"""Login password hashes with the server's password pepper mixed in (review M-2).

The password is normalised to NFC and replaced by HMAC-SHA256(pepper, password)
before the usual hasher sees it, so a copy of the database alone cannot check a
guess. Hashes made before (plain Argon2) still verify and are replaced at the
member's next login (Django re-hashes with the first hasher of PASSWORD_HASHERS).
"""

from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth.hashers import Argon2PasswordHasher, MD5PasswordHasher

from haven.core.keys import password_pepper
from haven.vault.kdf import normalise_password


def peppered(password: str) -> str:
    return hmac.new(password_pepper(), normalise_password(password).encode("utf-8"),
                    hashlib.sha256).hexdigest()


class PepperedArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2p"

    def encode(self, password: str, salt: str) -> str:
        return super().encode(peppered(password), salt)

    def verify(self, password: str, encoded: str) -> bool:
        return super().verify(peppered(password), encoded)


class PepperedMD5PasswordHasher(MD5PasswordHasher):
    """Tests only (fast). MD5's verify calls encode, so only encode peppers."""

    algorithm = "md5p"

    def encode(self, password: str, salt: str) -> str:
        return super().encode(peppered(password), salt)
