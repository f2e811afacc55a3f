"""Opening a 10 MB photo on the desk: decrypted, checked and handed to the browser.

A JPEG of about 10 MB (the intake limit), cleaned as intake cleans it, is attached to a
case; the median time until the view's response is ready (the Django test client builds
the whole response, so its first byte is its last) is printed as image_first_byte_ms,
and the preview of the same photo as thumbnail_ms. Target: image under 300 ms.

export_s: a case with 20 attachments (phone photos of about 1.5 MB, cleaned as intake
cleans them) exported as the case file PDF (every photo embedded) and as the encrypted
archive (the PDF plus the originals, AES-256), each through the desk's export page;
median seconds, reported separately with ``as``. Target: under 5 s.

    python bench/files.py [--runs 10]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import child_or_per_database, django_setup, emit, median_ms


def _big_photo() -> bytes:
    """A noisy photo just under the intake limit, cleaned the way intake stores it."""
    from PIL import Image

    from haven.intake import attachments

    for width in range(4200, 2000, -25):  # the largest that intake still takes
        height = width * 3 // 4
        noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
        raw = io.BytesIO()
        noise.save(raw, format="JPEG", quality=88)
        if raw.tell() <= attachments.MAX_BYTES:
            return attachments.clean("photo.jpg", raw.getvalue()).data
    raise RuntimeError("no photo under the limit")



def _phone_photo(seed: int) -> bytes:
    """A noisy 1600x1200 JPEG (about 1.5 MB), cleaned the way intake stores it."""
    from PIL import Image

    from haven.intake import attachments

    noise = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    raw = io.BytesIO()
    noise.save(raw, format="JPEG", quality=80)
    return attachments.clean(f"photo-{seed}.jpg", raw.getvalue()).data


def _export(args: argparse.Namespace, db: str) -> None:
    from django.test import Client

    from haven.cases import actions
    from tests.conftest import log_in, make_case, make_org

    bob, _ = make_org("export", "bob")
    case = make_case(bob, "Повестка и фотографии документов")
    photos = [_phone_photo(index) for index in range(20)]
    for index, data in enumerate(photos):
        actions.add_attachment(case, name=f"photo-{index}.jpg", kind="image/jpeg", data=data,
                               channel="web")
    client = log_in(Client(), bob)
    url = f"/desk/cases/{case.number}/export/"
    form = {"pdf": {"what": "pdf"},
            "archive": {"what": "archive", "passphrase": "violet tractor humming under lanterns"}}
    mb = round(sum(map(len, photos)) / 2**20, 1)
    for what, data in form.items():
        def post(data: dict[str, str] = data) -> None:
            response = client.post(url, data)
            assert response.status_code == 200, response.status_code
            if response.streaming:  # the archive is built as it is read
                assert sum(map(len, response.streaming_content)) > 20 * 2**20
        emit("files", "export_s", round(median_ms(post, args.export_runs) / 1000, 2), "s",
             db=db, files=20, mb=mb, **{"as": what})


def child(args: argparse.Namespace) -> None:
    db = django_setup()
    from django.test import Client

    from haven.cases import actions
    from tests.conftest import log_in, make_case, make_org

    alice, _ = make_org("files", "alice")
    case = make_case(alice)
    data = _big_photo()
    photo = actions.add_attachment(case, name="photo.jpg", kind="image/jpeg", data=data,
                                   channel="web")
    client = log_in(Client(), alice)
    base = f"/desk/cases/{case.number}/files/{photo.record_id}"

    def get(how: str) -> None:
        response = client.get(f"{base}/{how}/")
        assert response.status_code == 200, (how, response.status_code)

    size = round(len(data) / 2**20, 1)
    emit("files", "image_first_byte_ms", median_ms(lambda: get("view"), args.runs), "ms",
         db=db, mb=size)
    emit("files", "thumbnail_ms", median_ms(lambda: get("thumbnail"), args.runs), "ms",
         db=db, mb=size)
    _export(args, db)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--export-runs", type=int, default=3)
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
