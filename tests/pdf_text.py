"""Reading back the text of a PDF Haven wrote (fpdf2, DejaVu as Type0 fonts), for tests.

fpdf2 writes each font as a subset whose two-byte glyph codes are mapped back to
characters by the font's ToUnicode map, and compresses page contents with zlib. This
reads the objects, the maps of each font resource (``/F1``…) and the strings shown with
``Tj``, which is enough to check what a case file says. Not a general PDF reader.
"""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
# A font selection, or a shown string: literal (with escapes) or hex.
TOKENS = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|<([0-9A-Fa-f]*)>\s*Tj", re.S)


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number -> (dictionary text, decompressed stream or b"")."""
    out = {}
    for number, body in OBJECT.findall(data):
        found = STREAM.search(body)
        stream = b""
        if found:
            stream = found.group(1)
            try:
                stream = zlib.decompress(stream)
            except zlib.error:
                pass
        out[int(number)] = (body[:found.start()] if found else body, stream)
    return out


def _cmap(stream: bytes) -> dict[int, str]:
    glyphs: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                      block):
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                glyphs[code] = chr(int(dst, 16) + offset)
    return glyphs


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        byte = literal[i]
        if byte == 0x5C and i + 1 < len(literal):  # backslash
            nxt = literal[i + 1]
            octal = re.match(rb"[0-7]{1,3}", literal[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out.append(ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(byte)
        i += 1
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """The text of every page, one line per shown string."""
    objects = _objects(data)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _stream in objects.values():
        for name, ref in re.findall(rb"/(F\d+)\s+(\d+) 0 R", head):
            font = objects.get(int(ref), (b"", b""))[0]
            unicode_ref = re.search(rb"/ToUnicode\s+(\d+) 0 R", font)
            if unicode_ref:
                fonts[name] = _cmap(objects[int(unicode_ref.group(1))][1])
    lines = []
    for _head, stream in objects.values():
        if b"BT" not in stream or b"Tj" not in stream:
            continue
        glyphs: dict[int, str] = {}
        for font, literal, hexed in TOKENS.findall(stream):
            if font:
                glyphs = fonts.get(font, {})
                continue
            raw = _unescape(literal) if not hexed else bytes.fromhex(hexed.decode())
            lines.append("".join(glyphs.get(int.from_bytes(raw[i:i + 2], "big"), "?")
                                 for i in range(0, len(raw) - 1, 2)))
    return "\n".join(lines)
