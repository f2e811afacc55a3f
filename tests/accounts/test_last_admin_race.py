"""Two administrators demoting each other at the same moment leave one administrator.

Each change runs in its own thread, so on its own database connection. On
PostgreSQL the row locks taken before the last-administrator check make the
second change wait and then see the first; on SQLite the IMMEDIATE transactions
the project uses queue the two writers the same way.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from haven.accounts import services
from haven.accounts.models import Member, Role
from haven.audit.chain import verify
from haven.audit.models import AuditEntry
from tests.conftest import Persona, add_member

pytestmark = pytest.mark.django_db(transaction=True)


def _demote_at_once(pairs: list[tuple[Member, Member]]) -> list[str]:
    barrier = threading.Barrier(len(pairs))
    outcomes: list[str] = []

    def demote(by: Member, target: Member) -> None:
        barrier.wait()
        try:
            services.set_role(by, target, Role.VIEWER)
            outcomes.append("changed")
        except services.AccountError:
            outcomes.append("refused")
        except Exception as exc:  # any other failure is shown by the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the window between the check and the write, where the race would happen."""
    real = services._keep_an_admin

    def check_then_wait(by: Member, target: Member) -> None:
        real(by, target)
        time.sleep(0.3)

    monkeypatch.setattr(services, "_keep_an_admin", check_then_wait)


@pytest.mark.parametrize("who", ["each other", "themselves"])
def test_demoting_the_two_last_admins_at_once_leaves_one(
    alice: Persona, slow_check: None, who: str
) -> None:
    dora = add_member(alice, "dora", Role.ADMIN).member
    a = alice.member
    pairs = [(a, dora), (dora, a)] if who == "each other" else [(a, a), (dora, dora)]
    assert _demote_at_once(pairs) == ["changed", "refused"]
    admins = Member.objects.filter(organization=alice.org, role=Role.ADMIN, is_active=True)
    assert admins.count() == 1
    assert AuditEntry.objects.filter(organization=alice.org, action="member.role").count() == 1
    assert verify(alice.org.pk) is None
