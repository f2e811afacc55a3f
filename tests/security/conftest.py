"""What a thief finds: planted markers, and the places a seized machine is read from.

The seized-disk tests plant unique strings through the real flows and then read
the server as a thief would: the raw database files (SQLite with its -wal and
-shm, or a pg_dump), the decoded login sessions, the data folder and every log
record. :func:`findings` names each marker found and where.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from PIL import Image

from tests.telegram.conftest import bot, fake, quick_chats  # noqa: F401 (fixtures)

PHONE_TYPED = "+7 (916) 555-12-34"
PHONE_NORMALISED = "79165551234"
CHAT_ID = 7319465028
TG_USERNAME_TYPED = "@Zyablik_Seized77"
TG_USERNAME = "zyablik_seized77"

# label -> the string a thief must not find. Every one is unique to these tests.
MARKERS: dict[str, str] = {
    "requester surname": "Скворцовякина",
    "requester name (Telegram profile)": "Agrippinushka",
    "requester surname (Telegram profile)": "Skvortsovyakina",
    "phone as typed": PHONE_TYPED,
    "phone normalised": PHONE_NORMALISED,
    "chat id": str(CHAT_ID),
    "telegram username": TG_USERNAME,
    "web intake word": "Пеликанозавр",
    "bot intake word": "Бегемотослон",
    "desk reply word": "Хамелеонариум",
    "web follow-up word": "Кенгурятник",
    "bot follow-up word": "Жирафоплан",
    "payee": "Лебедянская-Фазанова",
    "donor reference": "DonorRefSeized4471",
    "photo file name": "удостоверение-Скворцовякиной",
    "EXIF make": "ExifSeizedMake",
    "EXIF artist": "ExifSeizedArtistIvanova",
    "JPEG comment": "JpegCommentSeized",
    "photo caption (bot)": "Подписьфотографии",
}


def jpeg_with_metadata(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A phone photo: EXIF make, artist and GPS, a JPEG comment."""
    image = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[0x010F] = MARKERS["EXIF make"]
    exif[0x013B] = MARKERS["EXIF artist"]
    exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=MARKERS["JPEG comment"].encode())
    data = out.getvalue()
    assert MARKERS["EXIF make"].encode() in data and MARKERS["JPEG comment"].encode() in data
    return data


# --- what a thief reads -------------------------------------------------------------------

def _cat(paths: list[str]) -> bytes:
    # Read by another process: opening and closing a SQLite file here would drop this
    # process's locks on it (see tests/core/test_seized_disk.py).
    return subprocess.run(["cat", *paths], capture_output=True, check=True, timeout=120).stdout


def database_files() -> dict[str, bytes]:
    """The database as it lies on disk: SQLite's files (WAL included) or a pg_dump."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # an open connection keeps the WAL file in place
            cursor.execute("SELECT count(*) FROM django_session")
        path = Path(connection.settings_dict["NAME"])
        found = sorted(str(p) for p in path.parent.glob(path.name + "*"))
        assert any(f.endswith("-wal") for f in found), found  # the WAL is read too
        return {f"database file {Path(f).name}": _cat([f]) for f in found}
    data = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "-h", data.get("HOST") or "127.0.0.1",
         "-U", data.get("USER") or "postgres", "-p", str(data.get("PORT") or 5432), data["NAME"]],
        capture_output=True, check=True, timeout=120,
    )
    return {"pg_dump": dump.stdout}


def decoded_sessions() -> dict[str, bytes]:
    """Login sessions are signed, not encrypted: a thief decodes them."""
    rows = [json.dumps(s.get_decoded(), ensure_ascii=False, default=str) for s in Session.objects.all()]
    return {"django_session (decoded)": "\n".join(rows).encode()}


def data_folder() -> dict[str, bytes]:
    """Every file under HAVEN_DATA (attachments, secrets, the SQLite files, anything else)."""
    root = Path(settings.DATA_DIR)
    run = subprocess.run(["tar", "-cf", "-", "-C", str(root), "."], capture_output=True, timeout=120)
    # 1: a file changed while read (another test process's database, under xdist).
    assert run.returncode in (0, 1), run.stderr.decode()
    packed = run.stdout
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                out[f"data folder {member.name}"] = handle.read()
    assert out, "the data folder is empty"
    return out


def _needles(marker: str) -> set[bytes]:
    """The forms a string takes in storage, lower-cased: UTF-8, JSON's \\u escapes, hex (bytea)."""
    forms = {marker.lower().encode()}
    for text in (marker, marker.lower()):
        forms |= {json.dumps(text)[1:-1].lower().encode(), text.encode().hex().encode()}
    return forms


def findings(places: dict[str, bytes], markers: dict[str, str]) -> dict[str, list[str]]:
    """For each marker label, the places holding it (case-insensitively)."""
    lowered = {where: data.decode("utf-8", "replace").lower().encode() for where, data in places.items()}
    found: dict[str, list[str]] = {}
    for label, marker in markers.items():
        where = [w for w, data in lowered.items() if any(n in data for n in _needles(marker))]
        if where:
            found[label] = where
    return found


def report(found: dict[str, list[str]]) -> str:
    return "planted strings found:\n" + "\n".join(f"  {label}: {', '.join(where)}"
                                                   for label, where in sorted(found.items()))


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG, as with HAVEN_LOG_LEVEL=DEBUG.

    Every logger that settings.LOGGING does not pin is opened to DEBUG, including
    those of libraries that set a level of their own; the loggers the settings pin
    (django.request, django.server) keep their level, since an operator's
    HAVEN_LOG_LEVEL does not change them either.
    """
    pinned = set(settings.LOGGING.get("loggers", {}))
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and not any(
                name == p or name.startswith(p + ".") for p in pinned):
            caplog.set_level(logging.DEBUG, logger=name)
    logging.getLogger("haven.seized-test").debug("capture check")
    yield caplog


def log_records(caplog: pytest.LogCaptureFixture) -> dict[str, bytes]:
    """The records of the flows (run in setup) and of the test, by logger."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert any(r.getMessage() == "capture check" for r in records), "the capture does not work"
    out: dict[str, bytes] = {}
    for record in records:
        key = f"log {record.name}"
        out[key] = out.get(key, b"") + formatter.format(record).encode() + b"\n"
    return out
