"""Test profile: sets the environment, then loads Haven's one settings module."""

from __future__ import annotations

import os
import tempfile

os.environ["HAVEN_MODE"] = "test"
os.environ.setdefault("HAVEN_DATA", tempfile.mkdtemp(prefix="haven-test-"))

from haven.settings import *  # noqa: E402, F403
