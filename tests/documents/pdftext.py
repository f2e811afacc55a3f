"""Read the text back out of a PDF Haven wrote (fpdf2 with embedded TrueType subsets).

No PDF library is installed, and none is needed for this: fpdf2 writes each line as
two-byte glyph ids in literal strings (``(...) Tj`` or, justified, ``[(...) -324 (...)] TJ``)
in zlib-compressed content streams and maps
glyphs to characters in a ``ToUnicode`` CMap. This reverses exactly that, so a test reads
what a person opening the file would see, not the string Haven meant to write.
"""

from __future__ import annotations

import re
import zlib

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)


def _streams(data: bytes) -> list[bytes]:
    found = []
    for raw in STREAM.findall(data):
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            found.append(raw)
    return found


def _cmap(streams: list[bytes]) -> dict[int, str]:
    glyphs: dict[int, str] = {}
    for stream in streams:
        if b"beginbfchar" not in stream and b"beginbfrange" not in stream:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.DOTALL):
            for glyph, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[int(glyph, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.DOTALL):
            for low, high, start in re.findall(
                    rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                first = int(start, 16)
                for offset, glyph in enumerate(range(int(low, 16), int(high, 16) + 1)):
                    glyphs[glyph] = chr(first + offset)
    return glyphs


ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _literals(block: bytes) -> list[bytes]:
    """The PDF literal strings ``(...)`` of a text object, escapes undone."""
    found, i = [], 0
    while i < len(block):
        if block[i] != ord("("):
            i += 1
            continue
        depth, i, out = 1, i + 1, bytearray()
        while depth:
            c = block[i]
            if c == ord("\\"):
                nxt = block[i + 1]
                if ord("0") <= nxt <= ord("7"):
                    digits = re.match(rb"[0-7]{1,3}", block[i + 1:i + 4])
                    assert digits
                    out.append(int(digits.group(), 8) & 0xFF)
                    i += 1 + len(digits.group())
                    continue
                out.append(ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if c == ord("("):
                depth += 1
            elif c == ord(")"):
                depth -= 1
                if not depth:
                    break
            out.append(c)
            i += 1
        found.append(bytes(out))
        i += 1
    return found


def pdf_text(data: bytes) -> str:
    """The text of every text object (one line each), in page order."""
    assert data.startswith(b"%PDF-")
    streams = _streams(data)
    glyphs = _cmap(streams)
    assert glyphs, "no ToUnicode map: the text could not be read back"
    lines = []
    for stream in streams:
        for block in re.findall(rb"\bBT\b(.*?)\bET\b", stream, re.DOTALL):
            codes = b"".join(_literals(block))
            if codes:
                lines.append("".join(glyphs.get(int.from_bytes(codes[i:i + 2], "big"), "\ufffd")
                                     for i in range(0, len(codes) - 1, 2)))
    return "\n".join(lines)
