"""An organization's signing key: made on first use, opened with the organization key."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from haven.accounts.models import Organization
from haven.vault import OrgVault, VaultError, open_sealed, seal
from haven.vault.signing import fingerprint, generate_signing_key, sign

from .models import SigningKey


class NoSigningKey(Exception):
    """The member's keys do not open the organization's signing key."""


def signing_key(org: Organization) -> SigningKey:
    """The organization's signing key row, made now if it has none. Making it needs no
    secret: the seed is sealed to the organization's public key at once."""
    found = SigningKey.objects.filter(organization=org).first()
    if found is not None:
        return found
    public, seed = generate_signing_key()
    try:
        with transaction.atomic():
            return SigningKey.objects.create(organization=org, public_key=public,
                                             sealed_seed=seal(bytes(org.public_key), seed))
    except IntegrityError:  # made meanwhile by another request
        return SigningKey.objects.get(organization=org)


def signing_seed(ring: OrgVault, org: Organization) -> bytes:
    """The seed, opened with the organization key the member holds."""
    row = signing_key(org)
    try:
        return open_sealed(ring.private_key, bytes(row.sealed_seed))
    except VaultError as exc:
        raise NoSigningKey("these keys do not open the organization's signing key") from exc


def sign_as(ring: OrgVault, org: Organization, data: bytes) -> bytes:
    return sign(signing_seed(ring, org), data)


def org_fingerprint(org: Organization) -> str:
    """What an administrator reads out so a partner can check this organization's card."""
    return fingerprint(bytes(org.public_key), bytes(signing_key(org).public_key))
