from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from haven.env import BadSetting, envbool, envint

ROOT = Path(__file__).resolve().parents[2]


def test_pages_carry_the_security_headers(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_pages_name_no_other_origin(db: None) -> None:
    for path in ("/", "/login/"):
        html = Client().get(path).content.decode()
        assert "http://" not in html.replace("http://testserver", "")
        assert "https://" not in html
        assert "<script" not in html


@pytest.mark.parametrize(("lang", "word"), [("ru", "Войти"), ("uk", "Увійти"), ("en", "Log in")])
def test_the_login_page_speaks_three_languages(db: None, lang: str, word: str) -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": lang, "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert f'lang="{lang}"' in html
    assert word in html


def test_an_oversized_body_is_refused_before_it_is_read(db: None) -> None:
    response = Client().generic("POST", "/login/", b"x" * 10, CONTENT_LENGTH="999999999",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "haven.cli", *args], env={**base, **env}, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_production_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    result = _run({"HAVEN_DATA": str(tmp_path), "HAVEN_MODE": "production"}, "check")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["haven: refusing to start: HAVEN_SECRET_KEY is not set: give it in the "
                     "environment or as a file path in HAVEN_SECRET_KEY_FILE"]


def test_a_misspelt_yes_no_setting_stops_production_and_names_itself(tmp_path: Path) -> None:
    # "ture" once meant False: HTTPS redirect silently off. Now it is refused.
    env = {"HAVEN_DATA": str(tmp_path), "HAVEN_MODE": "production", "HAVEN_SECRET_KEY": "k" * 50,
           "HAVEN_PEPPER": "p" * 40, "HAVEN_TOKEN_KEY": "t" * 40, "HAVEN_SSL_REDIRECT": "ture"}
    result = _run(env, "check")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["haven: refusing to start: HAVEN_SSL_REDIRECT='ture' is not a yes/no value; "
                     "use one of: 1, true, yes, on, 0, false, no, off"]


@pytest.mark.parametrize(("value", "expected"), [
    ("", True), ("1", True), ("TRUE", True), (" yes ", True), ("on", True),
    ("0", False), ("False", False), ("no", False), ("off", False),
])
def test_yes_no_settings_read_the_usual_words(monkeypatch: pytest.MonkeyPatch, value: str,
                                               expected: bool) -> None:
    monkeypatch.setenv("HAVEN_SOME_FLAG", value)
    assert envbool("HAVEN_SOME_FLAG", True) is expected


@pytest.mark.parametrize("value", ["ture", "2", "yess", "enabled"])
def test_an_unreadable_yes_no_setting_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HAVEN_SOME_FLAG", value)
    with pytest.raises(BadSetting, match=r"HAVEN_SOME_FLAG.*1, true, yes, on, 0, false, no, off"):
        envbool("HAVEN_SOME_FLAG", False)


def test_an_unreadable_number_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_SOME_NUMBER", "abc")
    with pytest.raises(BadSetting, match="HAVEN_SOME_NUMBER='abc' is not a whole number"):
        envint("HAVEN_SOME_NUMBER", 3)


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    secret_file = tmp_path / "pepper"
    secret_file.write_text("p" * 20 + "q" * 30)
    env = {
        "HAVEN_DATA": str(tmp_path), "HAVEN_MODE": "production",
        "HAVEN_SECRET_KEY": "s8Kq2-vL9xZp4TnB7wE1rY6uI3oP0aSdFgHjK5lMnQ-Zx7Cv2Bn4Mm1Qw8Er5Ty0", "HAVEN_PEPPER_FILE": str(secret_file),
        "HAVEN_TOKEN_KEY": "t" * 50, "HAVEN_ALLOWED_HOSTS": "haven.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
    }
    result = _run(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_bad_configuration_is_named_by_a_check_id(tmp_path: Path) -> None:
    env = {"HAVEN_DATA": str(tmp_path), "HAVEN_MODE": "production", "HAVEN_SECRET_KEY": "short",
           "HAVEN_PEPPER": "p" * 40, "HAVEN_TOKEN_KEY": "p" * 40}
    result = _run(env, "check")
    assert result.returncode != 0
    for check_id in ("haven.E001", "haven.E002", "haven.E003"):
        assert check_id in result.stderr


@pytest.mark.parametrize("named_by_url", [False, True])
def test_sqlite_is_set_up_the_same_however_it_is_named(tmp_path: Path, named_by_url: bool) -> None:
    # WAL, overwriting of deleted pages and waiting for a busy writer must not be
    # lost when an operator writes DATABASE_URL=sqlite:///... instead of the default.
    env = {"HAVEN_DATA": str(tmp_path), "HAVEN_MODE": "test", "DATABASE_URL": ""}
    if named_by_url:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'named.sqlite3'}"
    code = ("from django.db import connection as c; cur = c.cursor(); "
            "print([cur.execute(f'PRAGMA {p}').fetchone()[0] for p in "
            "('journal_mode', 'secure_delete', 'foreign_keys', 'busy_timeout')], "
            "c.settings_dict['OPTIONS']['transaction_mode'])")
    result = _run(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['wal', 1, 1, 30000] IMMEDIATE"
