"""Case helpers live in tests/conftest.py; re-exported here for older imports."""

from tests.conftest import RecordingHandler, make_case

__all__ = ["RecordingHandler", "make_case"]
