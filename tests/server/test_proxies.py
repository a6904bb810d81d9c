"""Trusted proxies: who may name the client and its scheme, and what is read from whom."""

from __future__ import annotations

import pytest

from server.proxies import (
    DEFAULT_TRUSTED_PROXIES,
    forwarded_client,
    forwarded_host,
    forwarded_scheme,
    is_trusted_proxy,
    parse_trusted_proxies,
)

LOOPBACK = parse_trusted_proxies(DEFAULT_TRUSTED_PROXIES)
PROXY = parse_trusted_proxies("10.0.0.2, 10.1.0.0/16")


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("192.0.2.7", False),
        ("", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_default_trusts_loopback_only(peer: str | None, trusted: bool) -> None:
    assert is_trusted_proxy(LOOPBACK, peer) is trusted


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_proxy() -> None:
    assert forwarded_client(PROXY, "192.0.2.7", "203.0.113.5") == "192.0.2.7"


def test_client_is_the_right_most_address_no_proxy_of_ours_vouches_for() -> None:
    # The client forged "1.1.1.1"; our proxy 10.1.2.3 appended the real client, 198.51.100.4,
    # and the edge proxy 10.0.0.2 appended 10.1.2.3.
    header = "1.1.1.1, 198.51.100.4, 10.1.2.3"
    assert forwarded_client(PROXY, "10.0.0.2", header) == "198.51.100.4"
    assert forwarded_client(PROXY, "10.0.0.2", "198.51.100.4") == "198.51.100.4"


def test_client_on_the_proxy_machine_is_the_left_most_hop() -> None:
    assert forwarded_client(LOOPBACK, "127.0.0.1", "127.0.0.2") == "127.0.0.2"
    assert forwarded_client(LOOPBACK, "127.0.0.1", "") == "127.0.0.1"
    assert forwarded_client(LOOPBACK, None, "192.0.2.1") == "unknown"


def test_forwarded_for_that_is_not_an_address_is_kept_short() -> None:
    assert forwarded_client(LOOPBACK, "127.0.0.1", "x" * 500) == "x" * 64


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy() -> None:
    assert forwarded_scheme(PROXY, "10.0.0.2", "https", "http") == "https"
    assert forwarded_scheme(PROXY, "192.0.2.7", "https", "http") == "http"
    assert forwarded_scheme(PROXY, "10.0.0.2", "gopher", "http") == "http"


def test_parse_names_the_bad_item() -> None:
    assert parse_trusted_proxies("") == ()
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_trusted_proxies("127.0.0.1, 10.0.0.300")


def test_forwarded_host_is_believed_only_from_a_trusted_proxy() -> None:
    assert forwarded_host(PROXY, "10.0.0.2", "entraide.example", "web:8000") == "entraide.example"
    assert forwarded_host(PROXY, "10.0.0.2", "evil.example, entraide.example", "web") == (
        "entraide.example"
    )
    assert forwarded_host(PROXY, "192.0.2.7", "entraide.example", "evil.example") == (
        "evil.example"
    )
    assert forwarded_host(PROXY, "10.0.0.2", "", "entraide.example") == "entraide.example"
