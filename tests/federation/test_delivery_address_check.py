"""The address check before each delivery: public hosts remembered briefly, refusals never."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from federation import fetch
from federation.fetch import FetchError, check_url


class Resolver:
    """A stand-in for the system resolver: name → address, counting the lookups."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        self.lookups: list[str] = []

    async def getaddrinfo(self, host: str, port: int, **kwargs: Any) -> list[Any]:
        self.lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.addresses[host], port))]


@pytest.fixture
async def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    found = Resolver({"peer.example": "93.184.215.14", "inside.example": "10.0.0.7"})
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", found.getaddrinfo)
    monkeypatch.setattr(fetch, "_public_hosts", {})
    return found


async def test_a_public_host_is_resolved_once_for_many_inboxes(resolver: Resolver) -> None:
    for i in range(50):
        await check_url(f"https://peer.example/inbox/{i}", allow_private=False)
    assert resolver.lookups == ["peer.example"]


async def test_a_public_host_is_resolved_again_once_its_check_expired(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "ADDRESS_CHECK_SECONDS", 0.0)
    await check_url("https://peer.example/inbox", allow_private=False)
    await asyncio.sleep(0.01)
    await check_url("https://peer.example/inbox", allow_private=False)
    assert resolver.lookups == ["peer.example", "peer.example"]


async def test_a_private_address_is_refused_every_time(resolver: Resolver) -> None:
    for _ in range(3):
        with pytest.raises(FetchError, match="private network"):
            await check_url("https://inside.example/inbox", allow_private=False)
    assert resolver.lookups == ["inside.example"] * 3
