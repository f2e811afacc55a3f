"""Opening a 10 MB photo on the desk: decrypted, checked and handed to the browser.

A JPEG of about 10 MB (the intake limit), cleaned as intake cleans it, is attached to a
case; the median time until the view's response is ready (the Django test client builds
the whole response, so its first byte is its last) is printed as image_first_byte_ms,
and the preview of the same photo as thumbnail_ms. Target: image under 300 ms.

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
