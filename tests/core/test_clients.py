"""M-4: who the client is, behind a trusted proxy or an onion service, and the checks on that setting."""

from __future__ import annotations

from django.core.checks import run_checks
from django.test import RequestFactory, override_settings

from haven.core import clients


def _request(remote: str, forwarded: str = "") -> object:
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@override_settings(HAVEN_TRUSTED_PROXY=["127.0.0.1", "::1"])
def test_behind_the_trusted_proxy_two_clients_get_separate_buckets() -> None:
    one = clients.client_hash(_request("127.0.0.1", "203.0.113.5"), "t")  # type: ignore[arg-type]
    two = clients.client_hash(_request("127.0.0.1", "198.51.100.7"), "t")  # type: ignore[arg-type]
    assert one and two and one != two
    assert "203.0.113.5" not in one


@override_settings(HAVEN_TRUSTED_PROXY=["127.0.0.1"])
def test_the_rightmost_untrusted_entry_is_the_client_and_spoofed_entries_are_ignored() -> None:
    spoofed = _request("127.0.0.1", "10.1.1.1, 203.0.113.5")
    assert clients.client_address(spoofed) == "203.0.113.5"  # type: ignore[arg-type]
    chained = _request("127.0.0.1", "203.0.113.5, 127.0.0.1")
    assert clients.client_address(chained) == "203.0.113.5"  # type: ignore[arg-type]
    garbage = _request("127.0.0.1", "not-an-address")
    assert clients.client_address(garbage) == "127.0.0.1"  # type: ignore[arg-type]


@override_settings(HAVEN_TRUSTED_PROXY=[])
def test_without_a_trusted_proxy_the_header_is_not_believed() -> None:
    assert clients.client_address(_request("192.0.2.9", "203.0.113.5")) == "192.0.2.9"  # type: ignore[arg-type]


@override_settings(HAVEN_ONION=True)
def test_on_an_onion_service_there_is_no_client_identity() -> None:
    request = _request("127.0.0.1", "203.0.113.5")
    assert clients.client_address(request) is None  # type: ignore[arg-type]
    assert clients.client_hash(request, "t") is None  # type: ignore[arg-type]


@override_settings(HAVEN_TRUSTED_PROXY=["nginx.local"])
def test_a_trusted_proxy_that_is_not_an_ip_is_a_configuration_error() -> None:
    assert "haven.E006" in {problem.id for problem in run_checks()}


@override_settings(HAVEN_TRUSTED_PROXY=["127.0.0.1", "10.0.0.0/8"])
def test_addresses_and_networks_pass_the_check() -> None:
    assert "haven.E006" not in {problem.id for problem in run_checks()}


@override_settings(PRODUCTION=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
                   HAVEN_TRUSTED_PROXY=[], HAVEN_ONION=False)
def test_behind_a_proxy_without_a_trusted_proxy_the_check_warns() -> None:
    assert "haven.W002" in {problem.id for problem in run_checks()}
