"""Test profile: sets the environment, then loads Haven's one settings module."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["HAVEN_MODE"] = "test"
if not os.environ.get("HAVEN_DATA"):
    # The process that makes the folder removes it when it ends. Test workers (xdist) and
    # the processes tests start inherit HAVEN_DATA, so they share it and leave it alone.
    _made = tempfile.mkdtemp(prefix="haven-test-")
    os.environ["HAVEN_DATA"] = _made
    atexit.register(shutil.rmtree, _made, True)

from haven.settings import *  # noqa: F403

# Tests read English unless they switch language themselves (Haven's default is Russian).
LANGUAGE_CODE = "en"

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: some tests inspect the raw database file as a thief would.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# Live-server and browser tests run threads; persistent connections would keep the
# test database busy when pytest-django drops it at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
