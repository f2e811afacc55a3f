"""Photos of documents and PDFs sent with an intake: checked, cleaned, sealed.

- The type is decided by the content (magic bytes), never by the name or the
  browser's claim; only JPEG, PNG and PDF are accepted.
- Images are decoded and rebuilt from their pixels alone, which drops EXIF
  (camera, time, GPS position), comments, ICC profiles, text chunks, XMP and
  every other metadata block. An image larger than MAX_PIXELS is refused from
  its header, before any pixel is decoded. PDFs are kept as sent, but one that
  carries active content (scripts, launch or submit actions, embedded files,
  XFA forms; also hidden in compressed object streams) or is encrypted (so it
  cannot be checked) is refused (:mod:`haven.intake.pdfcheck`), on every
  channel: web intake, the follow-up, Telegram and the desk.
- Uploads are kept in memory up to the limit (``MemoryUploadHandler``), never
  spooled to a temporary file, so no clear copy touches the disk.
- The cleaned file is sealed to the organization's public key before it is
  written (``haven.cases.actions.add_attachment``); its name, type and size live
  only in the sealed record body.
"""

from __future__ import annotations

import io
import os
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024
# 24 megapixels is more than a phone photo of a document needs (12 MP is usual), and
# bounds what one decode costs: a 116 KB PNG can declare 40 MP and take a gigabyte.
MAX_PIXELS = 24_000_000
_DECODING = threading.Lock()
JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}


class AttachmentRefused(ValueError):
    """The file cannot be accepted; the message says why, in the requester's language."""


@dataclass(frozen=True)
class CleanFile:
    name: str
    type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def safe_name(name: str, kind: str) -> str:
    """A short printable file name with the extension of the real type."""
    base = os.path.basename(name.replace("\\", "/"))
    base = unicodedata.normalize("NFC", base)
    stem = re.sub(r"[^\w .()-]+", "_", os.path.splitext(base)[0]).strip(" ._") or "document"
    return f"{stem[:80]}.{EXTENSIONS[kind]}"


def clean(name: str, data: bytes, max_bytes: int = MAX_BYTES) -> CleanFile:
    """Check one upload and strip its metadata; raise AttachmentRefused.

    ``max_bytes`` lets a channel with its own limit (Telegram's files) use the same checks.
    """
    if len(data) > max_bytes:
        raise AttachmentRefused(_("“%(name)s” is larger than %(mb)d MB. Send a smaller photo.")
                                % {"name": safe_name(name, JPEG)[:-4], "mb": max_bytes // 2**20})
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(_("“%(name)s” is not a photo (JPEG, PNG) or a PDF file.")
                                % {"name": safe_name(name, JPEG)[:-4]} + " "
                                + _("Send a photo of the paper, or save the document as PDF."))
    if kind == PDF:
        from .pdfcheck import check_pdf

        check_pdf(safe_name(name, kind), data)
    else:
        data = _reencode(data, kind, name)
    return CleanFile(safe_name(name, kind), kind, data)


def _reencode(data: bytes, kind: str, name: str) -> bytes:
    """The picture alone, re-encoded: no EXIF, comment, ICC profile, text chunk or XMP.

    The size is read from the header and checked before any pixel is decoded, and a
    process decodes one image at a time (gunicorn runs threads: 4 requests with 3
    photos each would otherwise hold 12 decoded images at once; the lock also keeps
    ``catch_warnings``, which changes process-wide state, to one thread). Any
    error from the image library (Pillow raises ``SyntaxError`` for a broken PNG
    chunk, and others for other damage) refuses the file rather than failing the page.
    """
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, for any other caller too
    shown = safe_name(name, kind)
    try:
        with _DECODING, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.width * opened.height > MAX_PIXELS:
                raise _too_large(shown)
            return _pixels_only(opened, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(shown) from exc
    except AttachmentRefused:
        raise
    except Exception as exc:  # hostile files break decoders in many ways
        raise AttachmentRefused(_("“%(name)s” could not be read as an image. Take the photo "
                                  "again or send it as a PDF.") % {"name": shown}) from exc


def _too_large(shown: str) -> AttachmentRefused:
    return AttachmentRefused(_("“%(name)s” is too large: at most %(mp)d megapixels. Take the photo "
                               "again at a lower resolution, or send a smaller one.")
                             % {"name": shown, "mp": MAX_PIXELS // 1_000_000})


def _pixels_only(opened: Any, kind: str) -> bytes:
    """A new image made from the decoded pixels only, so no block of the original can follow."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(opened)  # keep the picture upright; EXIF itself is not kept
    wanted = ("RGB", "L") if kind == JPEG else ("1", "L", "LA", "I;16", "RGB", "RGBA")
    if image.mode not in wanted:  # a palette, CMYK, YCbCr...: to plain colour (keeps transparency)
        image = image.convert("RGBA" if kind == PNG and image.has_transparency_data else "RGB")
    bare = Image.frombytes(image.mode, image.size, image.tobytes())  # no info, no palette, no profile
    out = io.BytesIO()
    if kind == JPEG:
        bare.save(out, format="JPEG", quality=88)
    else:
        bare.save(out, format="PNG")
    return out.getvalue()


class MemoryUploadHandler(FileUploadHandler):
    """Keep each upload in memory and skip (and note) any file past MAX_BYTES.

    Installed by the view before the body is parsed; skipped names are listed in
    ``request.intake_oversized`` so the page can say which file was too large.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.buffer = io.BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > MAX_BYTES:
            if self.request is not None:
                oversized = getattr(self.request, "intake_oversized", [])
                oversized.append(self.file_name or "")
                self.request.intake_oversized = oversized  # type: ignore[attr-defined]
            raise SkipFile
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer, field_name=self.field_name, name=self.file_name or "",
            content_type=self.content_type or "", size=file_size, charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
