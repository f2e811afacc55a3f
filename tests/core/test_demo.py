"""``haven demo`` as a person runs it: two demos side by side, the printed logins work."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from haven.demo.seed import DEMO_PEOPLE
from haven.telegram.fake import Remote

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30  # gunicorn's graceful timeout is 20 s
# Settings of the test run must not leak into the demo: it uses SQLite in its own folder.
LEAKY = {"DATABASE_URL", "REDIS_URL"}


@dataclass
class Demo:
    port: int
    data: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Answer:
    status: int
    headers: Message


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HAVEN_", "DJANGO_")) and k not in LEAKY}
    env["PYTHONUNBUFFERED"] = "1"  # the printed logins must reach the log before it is read
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_pair() -> int:
    """A port P with P + 1 free too (the README's second demo runs on the first's port + 1)."""
    for _ in range(50):
        port = _free_port()
        if port < 65535 and _listening(port + 1) is False and _can_bind(port + 1):
            return port
    pytest.fail("no two free ports side by side")


def _can_bind(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _start(folder: Path, name: str, port: int | None = None, *extra: str) -> Demo:
    data, log = folder / name, folder / f"{name}.log"
    port = _free_port() if port is None else port
    with log.open("wb") as out:
        # A session of its own, so the demo, gunicorn and the worker can be stopped together.
        process = subprocess.Popen(
            [sys.executable, "-m", "haven.cli", "demo", "--port", str(port), "--data", str(data),
             *extra],
            cwd=ROOT, env=_environment(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Demo(port, data.resolve(), log, process)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(demo: Demo) -> bool:
    """SIGTERM to the demo's process group; True if everything in it ended by itself."""
    pgid = demo.process.pid
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    try:
        demo.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _group_alive(pgid):
        return demo.process.poll() is not None
    os.killpg(pgid, signal.SIGKILL)
    demo.process.wait(timeout=10)
    return False


def _wait_until_answering(demo: Demo) -> Answer:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(f"the demo exited with {demo.process.returncode}:\n{demo.output()}")
        try:
            with urllib.request.urlopen(demo.url + "/", timeout=5) as response:  # noqa: S310
                return Answer(response.status, response.headers)
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers)
        except OSError:  # not listening yet
            time.sleep(0.2)
    pytest.fail(f"the demo did not answer within {READY_TIMEOUT_S} s:\n{demo.output()}")


def _haven(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "haven.cli", "--data", str(data), *args], cwd=ROOT,
        env=_environment(), capture_output=True, text=True, timeout=60, check=False,
    )


def _log_in(demo: Demo, username: str, password: str, code: str) -> urllib.request.OpenerDirector:
    """Log in through the form, as a browser without JavaScript would; returns the session."""
    session = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with session.open(demo.url + "/login/", timeout=10) as response:
        form = response.read().decode("utf-8")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None, form
    body = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token.group(1), "username": username, "password": password,
        "code": code,
    }).encode("ascii")
    try:
        with session.open(demo.url + "/login/", body, timeout=30) as response:
            assert response.url != demo.url + "/login/"
    except urllib.error.HTTPError as exc:
        refusal = re.findall(r'role="alert">([^<]*)<', exc.read().decode("utf-8"))
        pytest.fail(f"the login was refused ({exc.code}): {refusal}")
    return session


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, Demo]]:
    folder = tmp_path_factory.mktemp("demos")
    started: list[Demo] = []
    port = _free_pair()
    try:
        # As the README says: the second demo on the first one's port + 1.
        started.append(_start(folder, "first", port))
        started.append(_start(folder, "second", port + 1))
        yield started[0], started[1]
    finally:
        stuck = [demo.url for demo in started if not _stop(demo)]
    if stuck:
        pytest.fail(f"still running {STOP_TIMEOUT_S} s after SIGTERM (then killed): {stuck}")


def test_it_runs_two_demos_side_by_side_with_the_security_headers(
    demos: tuple[Demo, Demo],
) -> None:
    first, second = demos
    assert first.port != second.port and first.data != second.data
    for demo in demos:
        answer = _wait_until_answering(demo)
        assert answer.status == 200, demo.output()
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        # Either keeps addresses, which may hold one-time tokens, from other sites.
        assert answer.headers["Referrer-Policy"] in {"no-referrer", "same-origin"}
        assert (demo.data / "haven.sqlite3").exists()


def _ports(demo: Demo) -> tuple[int, int]:
    found = re.search(r"Ports in use: (\d+) \(web\), (\d+) \(fake Telegram\)", demo.output())
    assert found, demo.output()
    return int(found.group(1)), int(found.group(2))


def test_the_second_demo_on_the_next_port_has_a_fake_telegram_of_its_own(
    demos: tuple[Demo, Demo],
) -> None:
    first, second = demos
    assert second.port == first.port + 1  # the README's example
    fakes = set()
    for demo in demos:
        assert _wait_until_answering(demo).status == 200, demo.output()
        web, fake = _ports(demo)
        assert web == demo.port
        assert fake not in {first.port, second.port}
        assert Remote(f"http://127.0.0.1:{fake}").alive(), demo.output()
        fakes.add(fake)
    assert len(fakes) == 2


def test_it_prints_logins_and_a_totp_command_that_work(demos: tuple[Demo, Demo]) -> None:
    first, _second = demos
    _wait_until_answering(first)
    output = first.output()
    for person in DEMO_PEOPLE:
        assert re.search(rf"^\s+{person.username}\s+{re.escape(person.password)}\s", output, re.M), output
    assert f"haven --data {first.data} totp alice" in output
    assert "DATABASE_URL" not in output  # the demo runs on SQLite in its folder
    for page in ("/login/", "/o/demo/", "/kb/o/demo/"):
        assert f"{first.url}{page}" in output, output

    result = _haven(first.data, "totp", "alice")
    assert result.returncode == 0, result.stderr
    code = result.stdout.strip()
    assert re.fullmatch(r"\d{6}", code), result.stdout

    alice = DEMO_PEOPLE[0]
    session = _log_in(first, alice.username, alice.password, code)
    with session.open(first.url + "/org/", timeout=10) as response:
        assert response.url == first.url + "/org/"
        assert "Demo help desk" in response.read().decode("utf-8")

    with session.open(first.url + "/telegram/settings/", timeout=10) as response:
        page = response.read().decode("utf-8")
    # The demo's bot is there from the start, not only after `haven chat` ran once.
    assert re.search(r"<dd>\d+:…[\w-]{4}</dd>", page), page


def test_haven_chat_names_the_web_form_on_the_demos_own_port(demos: tuple[Demo, Demo]) -> None:
    _first, second = demos
    _wait_until_answering(second)
    # /start, then the third button: English.
    result = subprocess.run(
        [sys.executable, "-m", "haven.cli", "--data", str(second.data), "chat", "--lang", "en"],
        cwd=ROOT, env=_environment(), input="3\n:quit\n", capture_output=True, text=True,
        timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{second.url}/o/demo/" in result.stdout, result.stdout
    assert "127.0.0.1:8000" not in result.stdout


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _wait_for_exit(demo: Demo) -> int:
    try:
        return demo.process.wait(timeout=STOP_TIMEOUT_S + 10)
    except subprocess.TimeoutExpired:
        _stop(demo)
        pytest.fail(f"the demo did not end:\n{demo.output()}")


def test_when_a_child_dies_the_demo_stops_the_others_and_fails(tmp_path: Path) -> None:
    demo = _start(tmp_path, "dying")
    try:
        _wait_until_answering(demo)
        web, fake = _ports(demo)
        worker = [pid for pid, cmd in _children(demo.process.pid).items() if "haven.cli worker" in cmd]
        assert len(worker) == 1, _children(demo.process.pid)
        os.kill(worker[0], signal.SIGKILL)
        code = _wait_for_exit(demo)
    finally:
        _stop(demo)
    assert code != 0, demo.output()
    assert "the demo's worker stopped" in demo.output()
    assert not _listening(web) and not _listening(fake), demo.output()


def test_after_ctrl_c_nothing_listens_on_the_demos_ports(tmp_path: Path) -> None:
    demo = _start(tmp_path, "interrupted")
    try:
        _wait_until_answering(demo)
        web, fake = _ports(demo)
        children = _children(demo.process.pid)
        os.killpg(demo.process.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends
        code = _wait_for_exit(demo)
    finally:
        _stop(demo)
    assert code == 0, demo.output()
    assert "Demo stopped." in demo.output()
    assert not _listening(web) and not _listening(fake), demo.output()
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)


def test_a_telegram_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "haven.cli", "demo", "--port", str(_free_port()),
             "--telegram-port", str(busy), "--data", str(tmp_path / "d")],
            cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert f"port {busy} is in use" in result.stderr
    assert not (tmp_path / "d" / "haven.sqlite3").exists()


def _printed_logins(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    from haven.demo.management.commands import demo as command

    monkeypatch.setattr(command.demo, "current_code", lambda username: "123456")
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = io.StringIO()
    command.Command(stdout=out)._print_logins(DEMO_PEOPLE, 8123)
    return out.getvalue()


def test_on_postgresql_the_printed_commands_name_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    output = _printed_logins(monkeypatch, "postgres://postgres@127.0.0.1:5432/demo")
    assert re.search(r"^  DATABASE_URL=postgres://postgres@127\.0\.0\.1:5432/demo \S*haven --data \S+ "
                     r"totp alice$", output, re.M), output
    assert re.search(r"^  DATABASE_URL=\S+ \S*haven --data \S+ chat$", output, re.M), output


def test_a_database_password_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    output = _printed_logins(monkeypatch, "postgres://haven:s3cret-pw@db.example:5432/demo")
    assert "s3cret-pw" not in output
    assert "set DATABASE_URL in that terminal as when you started the demo" in output
    assert re.search(r"^  \S*haven --data \S+ totp alice$", output, re.M), output
