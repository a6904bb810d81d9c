"""Test names resolved to loopback addresses as /etc/hosts would, without touching the machine.

`python -m tests.deploy.resolver ARGS` runs `entraide ARGS` with the names of ENTRAIDE_TEST_HOSTS
(`name=address,...`) resolved in-process; tests patch their own process with `resolving`.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any

_system_getaddrinfo = socket.getaddrinfo


def parse_hosts(text: str) -> dict[str, str]:
    """Read `name=address,...` pairs."""
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return {name.lower(): address for name, address in pairs}


def format_hosts(hosts: Mapping[str, str]) -> str:
    return ",".join(f"{name}={address}" for name, address in hosts.items())


def resolving(hosts: Mapping[str, str]) -> Callable[..., Any]:
    """Return a socket.getaddrinfo that answers `hosts` itself and asks the system otherwise."""

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower().rstrip(".") in hosts:
            host = hosts[name.lower().rstrip(".")]
        return _system_getaddrinfo(host, port, *args, **kwargs)

    return getaddrinfo


if __name__ == "__main__":
    # asyncio's loop.getaddrinfo and socket.create_connection look socket.getaddrinfo up on each
    # call, so httpx (through anyio) and uvicorn see the patch. uvloop resolves in C and would
    # not: keep uvicorn on the asyncio loop should uvloop ever be installed.
    sys.modules.setdefault("uvloop", None)  # type: ignore[arg-type]
    socket.getaddrinfo = resolving(parse_hosts(os.environ["ENTRAIDE_TEST_HOSTS"]))
    sys.argv[0] = "entraide"

    from entraide.cli import main

    main()
