"""What a referral carries, inside its envelope's encrypted payload.

Layout: a 4-byte big-endian length, a JSON manifest (UTF-8), then the files' bytes one
after another in the manifest's order (``files``: name, type, size). Files are not
base64 in the JSON, so 10 MB of photos stay 10 MB. :func:`unpack` checks every length
and field and raises :class:`BadPackage`; it never trusts the manifest's sizes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

FORMAT = 1
MAX_MANIFEST = 8 * 1024 * 1024


class BadPackage(ValueError):
    """The payload is not a referral package this code reads."""


@dataclass(frozen=True)
class Message:
    created: str  # ISO 8601
    from_requester: bool
    text: str


@dataclass(frozen=True)
class Note:
    created: str
    text: str


@dataclass(frozen=True)
class File:
    name: str
    type: str  # MIME type as cleaned at intake
    data: bytes


@dataclass(frozen=True)
class Package:
    note: str  # the referring caseworker's note to the partner
    category: str
    language: str  # the requester's language (ru, uk, en)
    channel: str  # where the requester wrote from at the referring organization
    answers: list[dict[str, Any]] = field(default_factory=list)  # as the case's answers record
    messages: list[Message] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    # X25519 public key the partner seals its "how to reach us" message to (see Referral).
    delivery_public: bytes = b""
    referrer: str = ""  # the referring organization's name, as it introduces itself


def pack(pkg: Package) -> bytes:
    manifest = {
        "format": FORMAT,
        "note": pkg.note,
        "category": pkg.category,
        "language": pkg.language,
        "channel": pkg.channel,
        "answers": pkg.answers,
        "messages": [{"created": m.created, "from_requester": m.from_requester, "text": m.text}
                     for m in pkg.messages],
        "notes": [{"created": n.created, "text": n.text} for n in pkg.notes],
        "files": [{"name": f.name, "type": f.type, "size": len(f.data)} for f in pkg.files],
        "delivery_public": base64.b64encode(pkg.delivery_public).decode(),
        "referrer": pkg.referrer,
    }
    head = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return len(head).to_bytes(4, "big") + head + b"".join(f.data for f in pkg.files)


def unpack(data: bytes) -> Package:
    data = bytes(data)
    if len(data) < 4:
        raise BadPackage(_("The referral is empty."))
    head_len = int.from_bytes(data[:4], "big")
    if head_len > MAX_MANIFEST or len(data) < 4 + head_len:
        raise BadPackage(_("The referral's contents are cut short."))
    try:
        m = json.loads(data[4:4 + head_len].decode("utf-8"))
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise BadPackage(_("The referral was made in a format this server does not read."))
        files, at = [], 4 + head_len
        for entry in m.get("files", []):
            size = int(entry["size"])
            if size < 0 or at + size > len(data):
                raise BadPackage(_("The referral's files are cut short."))
            files.append(File(str(entry["name"]), str(entry["type"]), data[at:at + size]))
            at += size
        if at != len(data):
            raise BadPackage(_("The referral has bytes after its last file."))
        return Package(
            note=str(m.get("note", "")), category=str(m["category"]),
            language=str(m.get("language", "")), channel=str(m.get("channel", "")),
            answers=list(m.get("answers", [])),
            messages=[Message(str(x["created"]), bool(x["from_requester"]), str(x["text"]))
                      for x in m.get("messages", [])],
            notes=[Note(str(x["created"]), str(x["text"])) for x in m.get("notes", [])],
            files=files,
            delivery_public=base64.b64decode(str(m.get("delivery_public", "")), validate=True),
            referrer=str(m.get("referrer", "")),
        )
    except BadPackage:
        raise
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise BadPackage(_("The referral's contents are malformed.")) from exc
