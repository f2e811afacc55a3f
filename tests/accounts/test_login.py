from __future__ import annotations

import pytest
from django.test import Client

from haven.accounts.models import KeySession, Member
from tests.conftest import Persona, log_in


def _post_login(client: Client, username: str, password: str, code: str) -> str:
    response = client.post("/login/", {"username": username, "password": password, "code": code})
    return response.content.decode()


def test_it_logs_in_with_password_and_code_and_unlocks_keys(alice: Persona) -> None:
    client = log_in(Client(), alice)
    page = client.get("/org/")
    assert page.status_code == 200
    assert "alice" in page.content.decode()
    assert KeySession.objects.filter(member=alice.member).count() == 1
    assert client.cookies["haven_key"].value


def test_it_refuses_a_wrong_password_without_saying_which_part_was_wrong(alice: Persona) -> None:
    wrong_pw = _post_login(Client(), "alice", "not-the-password", alice.code())
    wrong_code = _post_login(Client(), "alice", alice.password, "000000")
    no_user = _post_login(Client(), "nobody", alice.password, alice.code())
    message = "Wrong username, password or code."
    assert message in wrong_pw and message in wrong_code and message in no_user
    assert not KeySession.objects.exists()


def test_a_backup_code_works_once(alice: Persona) -> None:
    code = alice.backup_codes[0]
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": alice.password, "code": code})
    assert response.status_code == 302
    again = _post_login(Client(), "alice", alice.password, code)
    assert "Wrong username, password or code." in again


def test_ten_wrong_logins_lock_the_account_and_say_so(alice: Persona) -> None:
    for _ in range(10):
        _post_login(Client(), "alice", "wrong-password-here", alice.code())
    page = _post_login(Client(), "alice", alice.password, alice.code())
    assert "locked after too many failed attempts" in page
    assert Member.objects.get(username="alice").locked_until is not None


def test_unknown_usernames_lock_the_same_way(db: None) -> None:
    for _ in range(10):
        _post_login(Client(), "ghost", "wrong-password-here", "123456")
    assert "locked after too many failed attempts" in _post_login(Client(), "ghost", "x", "123456")


def test_logout_destroys_the_keys(alice: Persona) -> None:
    client = log_in(Client(), alice)
    client.post("/logout/")
    assert not KeySession.objects.exists()
    assert client.get("/org/").status_code == 302


def test_without_the_key_cookie_the_session_ends(alice: Persona) -> None:
    client = log_in(Client(), alice)
    client.cookies["haven_key"] = "AAAA" + client.cookies["haven_key"].value[4:]
    response = client.get("/org/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_replayed_login_form_is_refused_with_a_clear_page(alice: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "alice", "password": alice.password,
                                       "code": alice.code()})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not KeySession.objects.exists()


@pytest.mark.parametrize("path", ["/org/", "/account/"])
def test_member_pages_need_a_login(db: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302 and "/login/" in response["Location"]
