"""The demo's child processes: each in a process group of its own, stopped together.

A child runs in a new session, so Ctrl-C in the terminal reaches only the demo,
which then stops every child and waits for it. Stopping signals the whole group,
so gunicorn's workers go with their master; what is still there after the grace
period is killed, group and all, so nothing is left holding a port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

STOP_GRACE_S = 25.0  # gunicorn's graceful timeout is 20 s


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


class Children:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[Child] = []

    def start(self, name: str, argv: list[str]) -> Child:
        process = subprocess.Popen(argv, env=self.env, start_new_session=True)  # noqa: S603
        child = Child(name, process)
        self.running.append(child)
        return child

    def first_dead(self) -> Child | None:
        return next((c for c in self.running if c.process.poll() is not None), None)

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM every group, wait for all of it; SIGKILL what outlives ``grace``."""
        for child in self.running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.running:
            _wait_group(child, deadline)
        for child in self.running:
            if child.group_alive() or child.process.poll() is None:
                child.signal_group(signal.SIGKILL)
                _wait_group(child, time.monotonic() + 5)


def _wait_group(child: Child, deadline: float) -> None:
    try:
        child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return
    while child.group_alive() and time.monotonic() < deadline:
        time.sleep(0.05)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on ``port`` and it can be bound now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
