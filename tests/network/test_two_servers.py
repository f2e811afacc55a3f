"""Two Haven servers on loopback, over real HTTP: partners, referrals, a partner down, forgeries.

A runs on SQLite with a Telegram bot on the fake Bot API; B on PostgreSQL (a fresh
database). Both are shared by the module's tests (tests/network/servers.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import TOKEN, Network, Server, pg_available, two_servers

pytestmark = pytest.mark.skipif(not pg_available(),
                                reason="PostgreSQL does not answer on 127.0.0.1:5432 (server B runs on it)")


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    with two_servers() as (network, _a, _b):
        yield network


@pytest.fixture(scope="module")
def a(net: Network) -> Server:
    return net.servers[0]


@pytest.fixture(scope="module")
def b(net: Network) -> Server:
    return net.servers[1]


def test_both_servers_answer_and_their_members_log_in(net: Network, a: Server, b: Server) -> None:
    for server in (a, b):
        for who in ("coordinator", "caseworker"):
            desk = server.member(who)
            assert desk.open("/desk/").status == 200
    net.fake.open_chat(TOKEN, 777)
    net.fake.user_message(TOKEN, 777, "/start", lang="ru")
    import time
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not net.fake.sent_to(TOKEN, 777):
        time.sleep(0.2)
    assert net.fake.sent_to(TOKEN, 777), net.logs()
