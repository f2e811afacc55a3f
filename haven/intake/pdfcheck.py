"""PDFs that can act when opened are refused: scripts, actions, embedded files, XFA.

Haven keeps PDFs as they were sent (it does not rewrite them), so a PDF that a
member or a requester opens must not be able to do anything by itself. The check
looks for the PDF names that start behaviour (``/JavaScript``, ``/JS``,
``/Launch``, ``/SubmitForm``, ``/ImportData``, ``/GoToE``, ``/EmbeddedFile``,
``/RichMedia``, ``/XFA``), written plainly or with ``#xx`` escapes, in the file
and in every compressed stream that is not an image (object streams can hide
dictionaries). Inflating is bounded (:data:`MAX_INFLATED` in all), so a
decompression bomb is refused rather than unpacked. An encrypted PDF cannot be
checked and is refused too. The refusal says what to send instead.
"""

from __future__ import annotations

import re
import zlib

from django.utils.translation import gettext as _

ACTIVE = frozenset({b"JavaScript", b"JS", b"Launch", b"SubmitForm", b"ImportData", b"GoToE",
                    b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"XFA"})
MAX_INFLATED = 64 * 1024 * 1024  # what all of a file's streams may unpack to, together
_NAME = re.compile(rb"/((?:[A-Za-z]|#[0-9A-Fa-f]{2})+)")
_STREAM = re.compile(rb"stream\r?\n")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class _TooMuch(Exception):
    pass


def check_pdf(shown: str, data: bytes) -> None:
    """Raise AttachmentRefused if the PDF named ``shown`` can act or cannot be checked."""
    from .attachments import AttachmentRefused

    try:
        names = _names(data)
    except _TooMuch:
        raise AttachmentRefused(_("“%(name)s” unpacks to far more than its size, so it cannot be "
                                  "checked. Print it to a new PDF, or send photos of the pages.")
                                % {"name": shown}) from None
    if b"Encrypt" in names:
        raise AttachmentRefused(_("“%(name)s” is encrypted or password-protected, so it cannot be "
                                  "checked. Remove the protection (print it to a new PDF), or send "
                                  "photos of the pages.") % {"name": shown})
    if names & ACTIVE:
        raise AttachmentRefused(_("“%(name)s” contains scripts, actions or embedded files. Print "
                                  "it to a new PDF (“Save as PDF”), or send photos of the pages.")
                                % {"name": shown})


def _names(data: bytes) -> set[bytes]:
    found = _found(data)
    budget = MAX_INFLATED
    for match in _STREAM.finditer(data):
        start = match.end()
        head = data[max(0, match.start() - 300):match.start()]
        if b"/Image" in head:
            continue  # pixels: no dictionary can be hidden in them
        end = data.find(b"endstream", start)
        chunk = data[start:end if end >= 0 else len(data)]
        inflated = _inflate(chunk, budget)
        if inflated:
            budget -= len(inflated)
            found |= _found(inflated)
    return found


def _inflate(chunk: bytes, budget: int) -> bytes:
    if not chunk[:1] or chunk[0] & 0x0F != 8:  # not a zlib stream (Flate's header)
        return b""
    unpacker = zlib.decompressobj()
    try:
        out = unpacker.decompress(chunk, budget + 1)
    except zlib.error:
        return b""
    if len(out) > budget:
        raise _TooMuch
    return out


def _found(data: bytes) -> set[bytes]:
    return {_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
            for name in _NAME.findall(data)}
