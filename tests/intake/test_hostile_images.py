"""Hostile images on the public intake (penetration test F1, F5, F9; security review L-1).

A broken file or an image too large to decode is refused on the page, in the
requester's language, with nothing stored; a cleaned image keeps its pixels and
nothing else.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageFile

from haven.cases.models import Attachment, Case
from haven.intake import attachments
from tests.conftest import Persona

from . import hostile_images as hostile
from .conftest import SUMMONS_ANSWERS, Visitor, codename_in

pytestmark = pytest.mark.django_db


def _send(visitor: Visitor, name: str, data: bytes, lang: str = "ru") -> str:
    visitor.start("summons", lang)
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    response = visitor.post_files(visitor.url("confirm/"), {
        "send": "1", "files": SimpleUploadedFile(name, data, "image/png")})
    assert response.status_code == 400, response.content.decode()[:1500]
    return response.content.decode()


def test_a_png_with_a_broken_chunk_is_refused_on_the_page(visitor: Visitor) -> None:
    page = _send(visitor, "brokenchunk2.png", hostile.png_with_a_broken_chunk())
    assert "«brokenchunk2.png» не удалось прочитать как изображение" in page
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_the_refusal_is_in_the_requesters_language(alice: Persona) -> None:
    visitor = Visitor(alice.org.slug)
    page = _send(visitor, "scan.png", hostile.png_with_a_broken_chunk(), lang="en")
    assert "“scan.png” could not be read as an image. Take the photo again" in page
    assert not Case.objects.exists()


def test_a_small_file_declaring_40_megapixels_is_refused_as_too_large_without_decoding(
    visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = hostile.png_of_size(6320, 6320)  # 39.9 MP in 116 KB: the pentest's F5 file
    assert len(bomb) < 200_000
    decoded: list[str] = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: decoded.append("load") or real_load(self))
    page = _send(visitor, "bomb39mp.png", bomb)
    assert "Файл «bomb39mp.png» слишком большой: не больше 24 Мп." in page
    assert "не удалось прочитать" not in page  # F9: it says why, not "take the photo again"
    assert decoded == []  # refused from the header, before any pixel was decoded
    assert not Case.objects.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize("make", [
    lambda: hostile.png_of_size(4900, 4900),  # just over 24 MP
    lambda: hostile.jpeg_claiming_size(6000, 4001),
    lambda: hostile.jpeg_claiming_size(60000, 60000),  # past Pillow's own bomb limit
])
def test_an_image_over_the_pixel_limit_is_refused_in_words(make: object) -> None:
    with translation.override("en"), pytest.raises(
            attachments.AttachmentRefused, match="is too large: at most 24 megapixels"):
        attachments.clean("big.jpg", make())  # type: ignore[operator]
    assert Image.MAX_IMAGE_PIXELS == attachments.MAX_PIXELS  # Pillow's check agrees


def test_a_cleaned_jpeg_keeps_the_picture_and_no_metadata_block() -> None:
    source = hostile.jpeg_with_everything()
    assert all(secret in source for secret in hostile.SECRETS[:5])
    cleaned = attachments.clean("p.jpg", source).data
    assert [s for s in hostile.SECRETS if s in cleaned] == []
    assert b"Ivan Ivanov" not in cleaned
    assert set(hostile.jpeg_markers(cleaned)) <= {0xE0, 0xDB, 0xC0, 0xC4}  # JFIF, tables, frame
    image = Image.open(io.BytesIO(cleaned))
    assert image.size == (64, 48) and not image.getexif() and "icc_profile" not in image.info
    assert max(abs(a - b) for a, b in zip(image.getpixel((5, 5)), (10, 120, 240), strict=True)) < 8


def test_a_cleaned_png_keeps_the_pixels_exactly_and_no_other_chunk() -> None:
    source = hostile.png_with_everything()
    assert {b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"eXIf"} <= set(hostile.png_chunks(source))
    cleaned = attachments.clean("p.png", source).data
    assert set(hostile.png_chunks(cleaned)) == {b"IHDR", b"IDAT", b"IEND"}
    assert [s for s in hostile.SECRETS if s in cleaned] == []
    assert Image.open(io.BytesIO(cleaned)).tobytes() == hostile.picture().tobytes()


def test_a_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 4, 8))
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    cleaned = Image.open(io.BytesIO(attachments.clean("p.png", out.getvalue()).data))
    assert cleaned.convert("RGBA").getpixel((1, 1)) == (255, 0, 0, 255)
    assert cleaned.convert("RGBA").getpixel((6, 1))[3] == 0  # still see-through


def test_a_cleaned_photo_is_still_accepted_whole(alice: Persona, visitor: Visitor) -> None:
    visitor.start("summons")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    done = visitor.post_files(visitor.url("confirm/"), {
        "send": "1", "files": SimpleUploadedFile("doc.png", hostile.png_with_everything())})
    codename_in(done)
    assert Attachment.objects.count() == 1


def test_a_process_decodes_one_image_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Penetration test F5: parallel requests with several photos each must not decode them all at once."""
    inside, most = [0], [0]
    real = attachments._pixels_only

    def slow(opened: object, kind: str) -> bytes:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        inside[0] -= 1
        return real(opened, kind)

    monkeypatch.setattr(attachments, "_pixels_only", slow)
    source = hostile.png_with_everything()
    with ThreadPoolExecutor(max_workers=6) as pool:
        cleaned = list(pool.map(lambda i: attachments.clean(f"{i}.png", source), range(6)))
    assert len(cleaned) == 6 and most[0] == 1


@pytest.mark.parametrize(("mode", "kind"), [
    ("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"),
    ("I;16", "PNG"), ("CMYK", "JPEG"), ("L", "JPEG"), ("RGB", "JPEG")])
def test_every_ordinary_kind_of_image_is_still_accepted(mode: str, kind: str) -> None:
    """Rebuilding from pixels must not refuse a scan in grey, black-and-white, 16 bits or CMYK."""
    out = io.BytesIO()
    Image.new(mode, (20, 10)).save(out, kind)
    cleaned = attachments.clean(f"scan.{kind.lower()}", out.getvalue())
    assert Image.open(io.BytesIO(cleaned.data)).size == (20, 10)
    assert cleaned.type == f"image/{kind.lower()}"
