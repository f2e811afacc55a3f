"""L-10: the data folder, the SQLite file and the attachments are the owner's only, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven.cases import files
from haven.env import private_dir, private_file

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_fresh_data_folder_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "haven-data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(HAVEN_MODE="test", HAVEN_DATA=str(data), DJANGO_SETTINGS_MODULE="haven.settings")
    code = ("import os; os.umask(0o022); import django; django.setup(); "
            "from django.db import connection; connection.ensure_connection(); "
            "connection.cursor().execute('CREATE TABLE t (x int)'); "
            "print(oct(os.stat(connection.settings_dict['NAME'] + '-wal').st_mode & 0o777))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60,
                          capture_output=True, text=True)
    assert done.stdout.strip() == "0o600"  # the -wal file, while open: SQLite gives it the database's mode
    assert _mode(data) == 0o700
    assert _mode(data / "haven.sqlite3") == 0o600
    assert _mode(data / "secrets") == 0o700


def test_an_old_world_readable_folder_and_file_are_tightened(tmp_path: Path, loose_umask: None) -> None:
    folder, db = tmp_path / "old", tmp_path / "old" / "haven.sqlite3"
    folder.mkdir(mode=0o755)
    db.write_bytes(b"")
    db.chmod(0o644)
    private_file(db)
    private_dir(folder)
    assert (_mode(folder), _mode(db)) == (0o700, 0o600)


def test_attachments_are_written_into_private_folders(
    tmp_path: Path, settings: object, loose_umask: None
) -> None:
    setattr(settings, "MEDIA_ROOT", tmp_path / "files")  # noqa: B010
    name = files.write(b"ciphertext")
    assert _mode(tmp_path / "files") == 0o700
    assert _mode(tmp_path / "files" / "attachments") == 0o700
    assert _mode(tmp_path / "files" / "attachments" / name) == 0o600
