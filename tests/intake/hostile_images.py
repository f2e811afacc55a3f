"""Crafted image files from the penetration test, built in memory for the tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

SECRETS = (b"EXIF-MAKE-SECRET", b"COMMENT-SECRET", b"ICC-DEVICE-SECRET", b"XMP-SECRET",
           b"APP13-SECRET", b"PNG-TEXT-SECRET", b"PNG-ITXT-SECRET")  # zTXt is compressed
ICC = b"\0" * 128 + b"ICC-DEVICE-SECRET"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunks(data: bytes) -> list[bytes]:
    kinds, rest = [], data[8:]
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        kinds.append(rest[4:8])
        rest = rest[12 + length:]
    return kinds


def jpeg_markers(data: bytes) -> list[int]:
    """The segment markers before the image data (SOS)."""
    markers, at = [], 2
    while at < len(data) and data[at] == 0xFF and data[at + 1] != 0xDA:
        markers.append(data[at + 1])
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return markers


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "EXIF-MAKE-SECRET"
    exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)  # GPS latitude
    return exif


def picture() -> Image.Image:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    image.paste((10, 120, 240), (0, 0, 32, 24))
    return image


def jpeg_with_everything() -> bytes:
    """EXIF with GPS, a COM comment, an ICC profile, XMP and a Photoshop APP13 block."""
    out = io.BytesIO()
    picture().save(out, format="JPEG", exif=_exif(), comment=b"COMMENT-SECRET Ivan Ivanov",
                   icc_profile=ICC, xmp=b"<x:xmpmeta>XMP-SECRET</x:xmpmeta>")
    data = out.getvalue()
    app13 = b"Photoshop 3.0\0APP13-SECRET"
    return data[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + data[2:]


def png_with_everything() -> bytes:
    """tEXt, zTXt, iTXt (and XMP in iTXt), eXIf and an iCCP profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "PNG-TEXT-SECRET")
    info.add_text("Comment", "PNG-ZTXT-SECRET", zip=True)
    info.add_itxt("Description", "PNG-ITXT-SECRET")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>XMP-SECRET</x:xmpmeta>")
    out = io.BytesIO()
    picture().save(out, format="PNG", pnginfo=info, exif=_exif(), icc_profile=ICC)
    return out.getvalue()


def png_with_a_broken_chunk() -> bytes:
    """The pentest's F1 file: a chunk of garbage between two IDAT chunks."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(out, "PNG")
    png = out.getvalue()
    at = png.find(b"IDAT") - 4
    (length,) = struct.unpack(">I", png[at:at + 4])
    raw = png[at + 8:at + 8 + length]
    half = len(raw) // 2
    return (png[:at] + chunk(b"IDAT", raw[:half]) + struct.pack(">I", 4) + b"\x01\x02\x03\x04abcd\0\0\0\0"
            + chunk(b"IDAT", raw[half:]) + chunk(b"IEND", b""))


def png_of_size(width: int, height: int) -> bytes:
    """A real, all-black RGB PNG: tiny on the wire, ``width * height * 3`` bytes decoded."""
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def jpeg_claiming_size(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims ``width`` x ``height`` pixels."""
    out = io.BytesIO()
    picture().save(out, format="JPEG")
    data = bytearray(out.getvalue())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)
