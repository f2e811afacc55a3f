"""Every purpose a key or keyed hash is used for, named once.

A reviewer reads this file to know every key Haven derives and what it
protects. The byte strings are derivation inputs: changing one makes every
value made with it unreadable (or unfindable), so an entry is never edited,
only superseded by a new version next to it.

Two tables:

- :class:`Purpose` entries: a 32-byte key derived for one use (``info``), from
  the secret named in ``source``.
- :class:`Lookup`: the labels of keyed hashes (HMAC-SHA256), under the server
  pepper or an organization's keyed-hash key. The label keeps lookups of
  different kinds from matching each other. An organization's labels each have
  their own derived key (:data:`ORG_KEYED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Purpose:
    """One use of a derived key: its derivation input, what it comes from, why."""

    info: bytes
    source: str
    doc: str


# Keys derived from the server's HAVEN_TOKEN_KEY: rows the server must read
# with no member present (a ServerBox each). The database alone opens none.
OUTBOX = Purpose(b"haven/outbox/v1", "HAVEN_TOKEN_KEY",
                 "Outbox payloads: the reply text and address until delivered.")
INTAKE_STATE = Purpose(b"haven/intake-state/v1", "HAVEN_TOKEN_KEY",
                       "Unfinished intake conversations, bound to their lookup key.")
BOT_TOKEN = Purpose(b"haven/bot-token/v1", "HAVEN_TOKEN_KEY",
                    "Telegram bot tokens, bound to the bot's public id.")
TELEGRAM_CHAT = Purpose(b"haven/telegram-chat/v1", "HAVEN_TOKEN_KEY",
                        "A case's Telegram chat id for the worker, bound to the case.")
TELEGRAM_UPDATE = Purpose(b"haven/telegram-update/v1", "HAVEN_TOKEN_KEY",
                          "Received Telegram updates waiting to be processed (raw bytes).")
TELEGRAM_STATE = Purpose(b"haven/telegram-state/v1", "HAVEN_TOKEN_KEY",
                         "A bot chat's dialogue state, bound to the chat's lookup key.")
TELEGRAM_AUTOCLEAR = Purpose(b"haven/telegram-autoclear/v1", "HAVEN_TOKEN_KEY",
                             "Chat ids whose messages the bot clears later, bound to the chat key.")
NOTIFY_ADDRESS = Purpose(b"haven/notify-address/v1", "HAVEN_TOKEN_KEY",
                         "A member's notification address (Telegram chat id or e-mail address), "
                         "bound to the member and the kind of address.")
SMTP_PASSWORD = Purpose(b"haven/smtp-password/v1", "HAVEN_TOKEN_KEY",
                        "An organization's SMTP password for notifications, bound to the organization.")
PASSWORD_PEPPER = Purpose(b"haven/password-pepper/v1", "HAVEN_PEPPER (SHA-256 of it)",
                          "Mixed into every member's password-derived key (argon2id$2$) and into "
                          "the login password hash, so a backup alone allows no password guessing.")

# Keys derived from an organization's private key (only members hold it).
# Since teams (haven.vault.keyring), the same derivations run on other private keys too:
# RECORDS on a case's own key (its records), SEARCH_INDEX on a team's key (that team's
# blind index); a migrated "General" team's key is the organization key, so its old
# records and tokens stay valid. No new derivation input was needed.
RECORDS = Purpose(b"haven/records/v1", "organization private key",
                  "Records re-encrypted by a member (secret boxes, fast to open in bulk).")
# Keys of an organization's keyed hashes (HMAC-SHA256), one per label (see ORG_KEYED):
# the record key is not an HMAC key (review I-2).
SEARCH_INDEX = Purpose(b"haven/index/v1", "organization private key",
                       "Blind search index tokens (SearchToken), one per stem of free text.")
TAGS = Purpose(b"haven/tags/v1", "organization private key",
               "Tag hashes (CaseTag), for filtering by a tag without storing it.")
DONOR_REF = Purpose(b"haven/records/v1", "organization private key",
                    "Donor reference hashes (duplicate imports). Still the bytes of RECORDS: "
                    "stored hashes cannot be recomputed without re-hashing every donation "
                    "(not done yet, see docs/threat-model.md).")
FINGERPRINT = Purpose(b"haven/fingerprint/v1", "organization private key",
                      "Keyed hashes of requester identifiers (phone, Telegram username) for "
                      "duplicate detection: computed with a member's key, never at intake, so "
                      "the server's own secrets cannot test a guessed identifier.")

# Keys derived from secrets that only the requester or the invitee holds.
TOKEN_WRAP = Purpose(b"haven/token-wrap/v1", "a high-entropy token (invite link, codename key)",
                     "Wraps a private key under a token too random to need a slow hash.")
CODENAME_KEY = Purpose(b"haven/codename-key/v1", "the requester's codename",
                       "SHA-256 of info, a zero byte and the normalised codename: the token "
                       "that wraps a requester's private key.")
INTAKE_CODENAME = Purpose(b"haven/intake-codename/v1", "the browser's intake handle (cookie)",
                          "A new codename kept for a refresh; the server's secrets do not open it.")
TOTP = Purpose(b"haven/totp/v1", "the invite token",
               "Retired (review M-1): the second-factor secret was HMAC-SHA256(token, info)[:20], "
               "so whoever saw the link could compute it. It is random now; the label is kept "
               "so that it is never reused.")

# Not a key: a domain-separation prefix hashed into each recovery share's checksum, so
# that a mistyped share is named instead of recovering a wrong key.
RECOVERY_SHARE_CHECK = Purpose(b"haven/recovery-share/v2", "the share itself (no secret)",
                               "Checksum of a printed recovery share (v2 shares).")

# Between organizations (haven.network). Not secret keys: a label and a server-held box.
CARD_FINGERPRINT = Purpose(b"haven/card-fingerprint/v1", "no secret (public keys)",
                           "The digits two administrators compare to check a partner card.")
REFERRAL_DELIVERY = Purpose(b"haven/referral-delivery/v1", "HAVEN_TOKEN_KEY",
                            "A referral's delivery key: opens the partner's message telling the "
                            "requester how to reach them, so the worker can pass it on.")
# Not a key of its own: a secret longer than a BLAKE2b key may be (64 bytes, e.g. an
# 88-character HAVEN_TOKEN_KEY) is first hashed to 32 bytes with this prefix.
LONG_SECRET = Purpose(b"haven/long-secret/v1", "any secret longer than 64 bytes",
                      "BLAKE2b-256 of info, a zero byte and the secret: what derive_subkey "
                      "keys with instead. Secrets of 64 bytes or less are used as they are.")

ALL: tuple[Purpose, ...] = (
    OUTBOX, INTAKE_STATE, BOT_TOKEN, TELEGRAM_CHAT, TELEGRAM_UPDATE, TELEGRAM_STATE,
    TELEGRAM_AUTOCLEAR, NOTIFY_ADDRESS, SMTP_PASSWORD, PASSWORD_PEPPER, RECORDS, SEARCH_INDEX, TAGS,
    DONOR_REF, FINGERPRINT,
    TOKEN_WRAP, CODENAME_KEY, INTAKE_CODENAME, TOTP, RECOVERY_SHARE_CHECK, LONG_SECRET,
    CARD_FINGERPRINT, REFERRAL_DELIVERY,
)


class Lookup(StrEnum):
    """Labels of keyed hashes. The value is hashed in: never rename one."""

    # Under the server pepper (HAVEN_PEPPER), see haven.core.keys.pepper_hash.
    TG_CHAT = "tg-chat"
    """A Telegram chat found again: ``"{bot id}:{chat id}"``. Superseded by TG_CHAT_SLOW;
    still computed once for a chat whose rows were made before, to re-key them."""
    TG_CHAT_SLOW = "tg-chat-slow"
    """The same, through ``slow_pepper_hash`` (Argon2id, ``vault.kdf.SLOW_LOOKUP``), so the
    whole chat-id space cannot be searched with the pepper. Also the chat's part of the
    key of an unfinished bot intake (``"telegram:{chat key}"``)."""
    TG_WEBHOOK_SECRET = "tg-webhook-secret"  # noqa: S105 (a label, not a secret)
    """The webhook secret Telegram sends back with each call."""
    TG_CODENAME_TRIES = "tg-codename-tries"
    """The cache key counting codename attempts in one chat."""
    LOGIN_CLIENT = "client"
    """The cache key throttling logins from one address in one hour."""
    LOGIN_USERNAME = "username"
    """The cache key throttling logins to one username."""
    CODENAME_TRIES = "codename-tries"
    """The cache key slowing down repeated tries of the same codename: ``"{org id}|{words}"``."""
    INVITE = "invite"
    """An invite or reset link's token."""
    BACKUP_CODE = "backup-code"
    """A member's one-time backup code."""
    KEY_SESSION = "key-session"
    """The id of a key session (the keys kept encrypted for a logged-in member)."""
    FOLLOWUP_FORM = "followup-form"
    """A follow-up form's one-time token, so a form is not sent twice."""
    CODENAME = "codename"
    """A requester's normalised codename."""
    INTAKE_CONVERSATION = "intake-conversation"
    """The handle of an unfinished intake conversation."""
    NOTIFY_LINK_CODE = "notify-link-code"
    """A member's one-time code that links their Telegram chat to notifications."""
    # Fingerprint kinds of identifiers (duplicate detection) are labels too:
    # they come from the questionnaire (haven.intake.questionnaire) and are
    # hashed under an organization's FINGERPRINT key (OrgVault.fingerprint) with
    # the kind as label. Until 0002_ident_keyed_fingerprints they were hashed
    # under the pepper; those rows were dropped.

    # Under an organization's key for that label (OrgVault.keyed, ORG_KEYED).
    SEARCH = "search"
    """A stem of the blind search index."""
    TAG = "tag"
    """A case tag, lower-cased."""
    DONOR_REF = "donor-ref"
    """A normalised donation reference (duplicate imports)."""


# The key of each of an organization's keyed-hash labels (OrgVault.keyed).
ORG_KEYED: dict[Lookup, Purpose] = {
    Lookup.SEARCH: SEARCH_INDEX,
    Lookup.TAG: TAGS,
    Lookup.DONOR_REF: DONOR_REF,
}
