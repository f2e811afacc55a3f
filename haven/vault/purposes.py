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
  different kinds from matching each other.
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

# Keys derived from an organization's private key (only members hold it).
RECORDS = Purpose(b"haven/records/v1", "organization private key",
                  "Records re-encrypted by a member (secret boxes, fast to open in bulk).")
KEYED_HASH = Purpose(b"haven/records/v1", "organization private key",
                     "Keyed hashes of an organization (search tokens, tags, donor references). "
                     "Today the same bytes as RECORDS: separating them needs a re-index, done "
                     "with the blind-index re-keying (see docs/threat-model.md).")

# Keys derived from secrets that only the requester or the invitee holds.
TOKEN_WRAP = Purpose(b"haven/token-wrap/v1", "a high-entropy token (invite link, codename key)",
                     "Wraps a private key under a token too random to need a slow hash.")
CODENAME_KEY = Purpose(b"haven/codename-key/v1", "the requester's codename",
                       "SHA-256 of info, a zero byte and the normalised codename: the token "
                       "that wraps a requester's private key.")
INTAKE_CODENAME = Purpose(b"haven/intake-codename/v1", "the browser's intake handle (cookie)",
                          "A new codename kept for a refresh; the server's secrets do not open it.")
TOTP = Purpose(b"haven/totp/v1", "the invite token",
               "HMAC-SHA256(token, info)[:20]: the invitee's second-factor secret.")

# Not a key: a domain-separation prefix hashed into each recovery share's checksum, so
# that a mistyped share is named instead of recovering a wrong key.
RECOVERY_SHARE_CHECK = Purpose(b"haven/recovery-share/v2", "the share itself (no secret)",
                               "Checksum of a printed recovery share (v2 shares).")

ALL: tuple[Purpose, ...] = (
    OUTBOX, INTAKE_STATE, BOT_TOKEN, TELEGRAM_CHAT, TELEGRAM_UPDATE, TELEGRAM_STATE,
    TELEGRAM_AUTOCLEAR, RECORDS, KEYED_HASH, TOKEN_WRAP, CODENAME_KEY, INTAKE_CODENAME, TOTP,
    RECOVERY_SHARE_CHECK,
)


class Lookup(StrEnum):
    """Labels of keyed hashes. The value is hashed in: never rename one."""

    # Under the server pepper (HAVEN_PEPPER), see haven.core.keys.pepper_hash.
    TG_CHAT = "tg-chat"
    """A Telegram chat found again: ``"{bot id}:{chat id}"``."""
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
    # Fingerprint kinds of identifiers (duplicate detection) are labels too:
    # they come from the questionnaire (haven.intake.questionnaire) and are
    # hashed under the pepper with the kind as label.

    # Under an organization's keyed-hash key (OrgVault.keyed).
    SEARCH = "search"
    """A stem of the blind search index."""
    TAG = "tag"
    """A case tag, lower-cased."""
    DONOR_REF = "donor-ref"
    """A normalised donation reference (duplicate imports)."""
