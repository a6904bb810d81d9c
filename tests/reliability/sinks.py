"""Stand-in remote inboxes on loopback: a tiny HTTP/1.1 server that counts what it receives.

One Sink listens on several ports of 127.0.0.1, each port a "host" to the delivery worker (hosts
are host:port). It runs its own event loop in a thread, answers each POST after `delay`
seconds with the status `answer(host, path)` gives (None: never answer, as a hung peer), and
records the activity id of every POST per inbox path, at arrival: a request the worker sent is
one the peer received, whether or not the answer made it back.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable

Answer = Callable[[str, str], int | None]
REASONS = {202: "Accepted", 410: "Gone", 500: "Internal Server Error"}


def free_port() -> int:
    """Return a port of 127.0.0.1 nothing listens on, for a server about to start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RefusingPort:
    """A port of 127.0.0.1 held without listening: every connection is refused (RST).

    Held, not merely closed: a closed port may be taken by any other process meanwhile.
    """

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"

    def release(self) -> int:
        """Let the port go, for a server to listen on it; return it."""
        self.socket.close()
        return self.port


class _Inbox(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: what httpx sends."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.host = ""
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Each port is a host of its own, as the worker sees it: host:port.
        address, port = transport.get_extra_info("sockname")[:2]
        self.host = f"{address}:{port}"
        self.sink.transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.sink.transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, path, _ = head.split("\r\n", 1)[0].split(" ", 2)
            self.sink.receive(self, method, path, body)


class Sink:
    """Inboxes on `hosts` ports of 127.0.0.1; see the module docstring."""

    def __init__(self, hosts: int, *, delay: float = 0.0, answer: Answer | None = None) -> None:
        self.delay = delay
        self.answer: Answer = answer or (lambda host, path: 202)
        self.ports: list[int] = []
        self.hosts: list[str] = []
        self.count = hosts
        self.lock = threading.Lock()
        self.received: dict[str, list[str]] = defaultdict(list)  # path -> activity ids
        self.by_host: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()  # requests answered not yet, per host
        self.most_waiting: Counter[str] = Counter()
        self.transports: set[asyncio.Transport] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []

    # --- what arrived --------------------------------------------------------------------------

    def receive(self, inbox: _Inbox, method: str, path: str, body: bytes) -> None:
        if method != "POST":
            self._write(inbox, inbox.host, 405)
            return
        try:
            activity_id = str(json.loads(body).get("id"))
        except (ValueError, AttributeError):
            activity_id = "?"
        with self.lock:
            self.received[path].append(activity_id)
            self.by_host[inbox.host] += 1
            self.waiting[inbox.host] += 1
            self.most_waiting[inbox.host] = max(
                self.most_waiting[inbox.host], self.waiting[inbox.host]
            )
        status = self.answer(inbox.host, path)
        if status is None:
            return  # a hung peer: the connection stays open, the request unanswered
        if self.delay:
            self.loop.call_later(self.delay, self._write, inbox, inbox.host, status)
        else:
            self._write(inbox, inbox.host, status)

    def _write(self, inbox: _Inbox, host: str, status: int) -> None:
        with self.lock:
            self.waiting[host] -= 1
        if inbox.transport is not None and not inbox.transport.is_closing():
            reason = REASONS.get(status, "Whatever")
            inbox.transport.write(
                f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n\r\n".encode()
            )

    def counts(self) -> dict[str, int]:
        """Return the number of POSTs per inbox path so far."""
        with self.lock:
            return {path: len(ids) for path, ids in self.received.items()}

    def total(self) -> int:
        with self.lock:
            return sum(len(ids) for ids in self.received.values())

    def ids(self) -> dict[str, list[str]]:
        with self.lock:
            return {path: list(ids) for path, ids in self.received.items()}

    # --- the server ----------------------------------------------------------------------------

    def start(self) -> Sink:
        self.thread.start()

        async def listen() -> None:
            for _ in range(self.count):
                server = await self.loop.create_server(
                    lambda: _Inbox(self), "127.0.0.1", 0, backlog=1024
                )
                port = server.sockets[0].getsockname()[1]
                self.servers.append(server)
                self.ports.append(port)
                self.hosts.append(f"127.0.0.1:{port}")

        asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        return self

    def listen_on(self, port: int) -> str:
        """Listen on one more, given port (a host that refused connections until now)."""
        host = f"127.0.0.1:{port}"

        async def listen() -> None:
            server = await self.loop.create_server(
                lambda: _Inbox(self), "127.0.0.1", port, reuse_address=True
            )
            self.servers.append(server)

        asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        self.hosts.append(host)
        return host

    def hang_up(self) -> None:
        """Close every connection (requests left unanswered fail at once on the other side)."""

        async def close() -> None:
            for transport in list(self.transports):
                transport.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)

    def stop(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            for transport in list(self.transports):
                transport.abort()

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.loop.close()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
