"""create-org and recover-org with split recovery keys, as an operator runs them."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from haven.accounts import services


def _recover(monkeypatch: pytest.MonkeyPatch, lines: list[str]) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    call_command("recover_org", "rescue", "--admin", "newadmin", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_mistyped_share_is_named_and_a_correct_set_restores_access(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = services.create_organization("rescue", "Rescue", "alice", shares=3, threshold=2)
    _first, second, third = made.recovery
    spot = len(second) - 10
    typo = second[:spot] + ("A" if second[spot] != "A" else "B") + second[spot + 1:]
    with pytest.raises(CommandError, match=r"share 2 \(as entered\), marked 2-2, is mistyped"):
        _recover(monkeypatch, [third, typo])
    assert "One-time link for newadmin" in _recover(monkeypatch, [third, second])


def test_more_than_255_shares_is_refused_plainly(db: None) -> None:
    with pytest.raises(CommandError, match="--shares can be at most 255"):
        call_command("create_org", "big", "Big", "--admin", "alice", "--shares", "256", "--threshold", "2",
                     stdout=io.StringIO())


def test_create_org_warns_on_stderr_not_to_run_it_unattended(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JOURNAL_STREAM", "CI"):  # CI itself sets CI: only systemd's variable here
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INVOCATION_ID", "0123abcd")  # as under systemd
    out, err = io.StringIO(), io.StringIO()
    call_command("create_org", "warned", "Warned", "--admin", "alice", stdout=out, stderr=err)
    assert "never under systemd, cron or CI" in err.getvalue()
    assert "unattended run (INVOCATION_ID is set)" in err.getvalue()
    assert "RECOVERY KEY" in out.getvalue() and "never under" not in out.getvalue()


def test_recover_org_warns_on_stderr_too(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INVOCATION_ID", "JOURNAL_STREAM", "CI"):
        monkeypatch.delenv(name, raising=False)
    made = services.create_organization("rescue", "Rescue", "alice")
    monkeypatch.setattr("sys.stdin", io.StringIO(made.recovery[0] + "\n"))
    err = io.StringIO()
    call_command("recover_org", "rescue", "--admin", "newadmin", stdout=io.StringIO(), stderr=err)
    assert "never under systemd, cron or CI" in err.getvalue()
    assert "unattended run" not in err.getvalue()
