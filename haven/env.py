"""Reading configuration from the environment (no Django imports here).

Secrets may be given directly (``NAME``) or as a file path (``NAME_FILE``), the
usual way container orchestrators and systemd credentials pass them.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


class BadSetting(RuntimeError):
    """A setting in the environment is missing or cannot be read; the message names it."""


class MissingSecret(BadSetting):
    """A secret production needs was not configured."""


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def envbool(name: str, default: bool = False) -> bool:
    """Read a yes/no setting; a value that is neither (``ture``) is refused, not taken as no."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    accepted = ", ".join(TRUE_WORDS + FALSE_WORDS)
    raise BadSetting(f"{name}={os.environ[name]!r} is not a yes/no value; use one of: {accepted}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadSetting(f"{name}={value!r} is not a whole number") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


def secret(name: str) -> str | None:
    """Return ``NAME`` or the contents of the file named by ``NAME_FILE``."""
    value = os.environ.get(name)
    if value:
        return value.strip()
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise MissingSecret(f"{name}_FILE points at {path}, which cannot be read: {exc}") from exc
    return None


def default_data_dir() -> Path:
    """Per-user data folder: $XDG_DATA_HOME/haven, or ~/.local/share/haven."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "haven"


def data_dir() -> Path:
    value = os.environ.get("HAVEN_DATA")
    return Path(value).expanduser().resolve() if value else default_data_dir()


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (0700), tightened if it already exists (L-10)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    tighten(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """``path`` as a file only its owner can read (0600), created empty if missing (L-10).

    An existing file is only chmod-ed, never opened: closing any descriptor of a
    SQLite file would drop the POSIX locks this process's connections hold on it.
    """
    private_dir(path.parent)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    tighten(path, 0o600)


def tighten(path: Path, mode: int) -> None:
    """Take away every permission bit of ``path`` outside ``mode`` (chmod only; never opens it)."""
    try:
        if stat.S_IMODE(path.stat().st_mode) & ~mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        pass  # someone else's: the system check reports what is not writable


def local_secret(folder: Path, name: str) -> str:
    """A secret kept in the data folder, generated on first use (demo and tests only)."""
    private_dir(folder)
    path = folder / "secrets" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


SITE_URL_FILE = "site.url"


def recorded_site_url(folder: Path) -> str:
    """The address a running demo recorded in its data folder ('' if none)."""
    try:
        return (folder / SITE_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
