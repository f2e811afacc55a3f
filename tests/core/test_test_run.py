"""The test run itself leaves nothing behind in the temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_test_run_removes_the_data_folder_it_made(tmp_path: Path) -> None:
    # SQLite in the run's own folder: on PostgreSQL it would share this run's test database.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HAVEN_", "DJANGO_")) and k != "DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist",
         "tests/core/test_web.py", "-k", "security_headers or other_origin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert " passed" in result.stdout
    assert not list(tmp_path.glob("haven-test-*"))
