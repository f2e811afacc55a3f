"""A copy of the raw database holds none of the planted plaintext."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.db import connection, transaction

from haven.accounts.models import Organization
from haven.vault import OrgVault, seal_text
from tests.conftest import Persona

PLANTED = ["Ivanov-planted-surname", "+7-999-planted-phone", "Кукушкин-посажено"]


def _store(alice: Persona) -> None:
    from django.db import models

    org = Organization.objects.get(pk=alice.org.pk)
    vault = alice.vault()
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS planted (id integer primary key, data "
                    + ("bytea" if connection.vendor == "postgresql" else "blob") + ")")
        for i, text in enumerate(PLANTED):
            blob = seal_text(bytes(org.public_key), text) if i % 2 else vault.encrypt_text(text)
            cur.execute("INSERT INTO planted (id, data) VALUES (%s, %s)", [i + 1, blob])
    del models


def _raw_bytes() -> bytes:
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(FULL)")
        path = Path(connection.settings_dict["NAME"])
        files = sorted(str(p) for p in path.parent.glob(path.name + "*"))
        # Read by another process: opening and closing the files here would drop this
        # process's SQLite locks on them (POSIX locks go with any close), after which
        # the next process to open the database rebuilds the WAL index under the
        # connections still using it, and corrupts the database.
        return subprocess.run(["cat", *files], capture_output=True, check=True, timeout=120).stdout
    name = connection.settings_dict["NAME"]
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "-h", connection.settings_dict.get("HOST") or "127.0.0.1",
         "-U", connection.settings_dict.get("USER") or "postgres", name],
        capture_output=True, check=True, timeout=120,
    )
    return dump.stdout


@pytest.mark.django_db(transaction=True)
def test_a_raw_copy_of_the_database_holds_no_planted_plaintext(alice: Persona) -> None:
    with transaction.atomic():
        _store(alice)
    raw = _raw_bytes()
    assert b"alice" in raw  # the copy is real: usernames are in clear by design
    for word in PLANTED:
        assert word.encode("utf-8") not in raw
    vault = OrgVault(alice.vault().private_key)
    with connection.cursor() as cur:
        cur.execute("SELECT data FROM planted ORDER BY id")
        assert [vault.decrypt_text(bytes(row[0])) for row in cur.fetchall()] == PLANTED
