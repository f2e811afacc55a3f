"""Decrypted attachments handed to a member's browser, and nothing else of them kept.

- An image opens in the browser only as a plain JPEG or PNG: the stored bytes when
  they are what intake stores (re-encoded, no metadata block), otherwise a fresh
  re-encoding; anything else is a download.
- PDFs and every other type are downloads (``Content-Disposition: attachment``,
  ``application/octet-stream``): the browser never renders a type a requester chose.
- Every response is ``no-store`` with ``nosniff`` and a sandboxing CSP
  (security review I-4).
- Previews are made on the fly from the decrypted image: small JPEGs with no metadata.
- "All files" is a ZIP streamed one decrypted file at a time; its names are cleaned.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from haven.cases.files import OpenedFile
from haven.intake import attachments

SANDBOX = "sandbox; default-src 'none'; img-src 'self'"
IMAGES = {attachments.JPEG: "JPEG", attachments.PNG: "PNG"}
# What a JPEG or PNG written by Pillow carries besides pixels; anything more is metadata.
PLAIN_INFO = {"JPEG": {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"},
              "PNG": {"dpi", "transparency", "gamma", "aspect"}}
PREVIEW = (320, 320)
DOWNLOAD = "application/octet-stream"


def safe_filename(name: str) -> str:
    """A short file name with no folder, control or quoting characters."""
    base = unicodedata.normalize("NFC", os.path.basename(name.replace("\\", "/")))
    stem, ext = os.path.splitext(base)
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" ._")[:80] or "document"
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:8]
    return f"{stem}.{ext}" if ext else stem


def _guarded(response: HttpResponse | StreamingHttpResponse) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = "no-store"


def file_response(data: bytes, name: str, kind: str | None = None) -> HttpResponse:
    """An image of ``kind`` shown inline, or (no kind) any file as a download."""
    response = HttpResponse(data, content_type=kind or DOWNLOAD)
    response["Content-Disposition"] = (content_disposition_header(kind is None, safe_filename(name))
                                       or ("inline" if kind else "attachment"))
    _guarded(response)
    return response


def _plain(data: bytes, kind: str) -> bool:
    """True for a JPEG or PNG of its sniffed type with no metadata block (as intake stores)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            markers = {marker for marker, _body in getattr(image, "applist", [])}
            return (image.format == IMAGES[kind]
                    and image.width * image.height <= attachments.MAX_PIXELS
                    and set(image.info) <= PLAIN_INFO[IMAGES[kind]] and markers <= {"APP0"})
    except Exception:  # damaged files break decoders in many ways (a bad PNG chunk: SyntaxError)
        return False


def shown_image(data: bytes) -> tuple[bytes, str] | None:
    """The image a browser may show (stored bytes if plain, else re-encoded), or None."""
    kind = attachments.sniff(data)
    if kind not in IMAGES:
        return None
    if _plain(data, kind):
        return data, kind
    try:
        cleaned = attachments.clean("image", data, max_bytes=len(data))
    except attachments.AttachmentRefused:
        return None
    return cleaned.data, cleaned.type


def preview(data: bytes) -> bytes | None:
    """A small JPEG of an image with no metadata, or None when it is not a readable image."""
    from PIL import Image, ImageOps

    if attachments.sniff(data) not in IMAGES:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > attachments.MAX_PIXELS:
                return None
            image.draft("RGB", PREVIEW)  # JPEG: decode at a reduced scale, much faster
            small = ImageOps.exif_transpose(image)
            small.thumbnail(PREVIEW)
            small = small.convert("RGB")
            small.info = {}  # Pillow would write a JPEG comment or ICC profile kept in info
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=75)
    except Exception:  # damaged files break decoders in many ways (a bad PNG chunk: SyntaxError)
        return None
    return out.getvalue()


def opened_response(opened: OpenedFile, how: str) -> HttpResponse | None:
    """The response for one opened file (``view``, ``thumbnail``, ``download``), or None
    when the file cannot be shown that way (a preview of a PDF)."""
    if how == "thumbnail":
        small = preview(opened.data)
        if small is None:
            return None
        return file_response(small, os.path.splitext(opened.name)[0] + ".jpg", attachments.JPEG)
    shown = shown_image(opened.data) if how == "view" else None
    if shown is None:
        return file_response(opened.data, opened.name)
    return file_response(shown[0], opened.name, shown[1])


class Sink(io.RawIOBase):
    """A write-only, unseekable stream: zipfile then writes data descriptors as it goes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def zip_chunks(opened: Iterable[OpenedFile]) -> Iterator[bytes]:
    """A ZIP of the files, yielded as each one is added (names numbered, so unique)."""
    sink = Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for index, item in enumerate(opened, 1):
            archive.writestr(zipfile.ZipInfo(f"{index:02d}-{safe_filename(item.name)}"), item.data)
            yield sink.take()
    yield sink.take()


def archive_response(opened: Iterable[OpenedFile], number: int) -> StreamingHttpResponse:
    response = StreamingHttpResponse(zip_chunks(opened), content_type=DOWNLOAD)
    response["Content-Disposition"] = (content_disposition_header(True, f"case-{number}-files.zip")
                                       or "attachment")
    _guarded(response)
    return response
