"""What bench/fanout.py and bench/inbox.py share: PostgreSQL, child processes, loopback peers.

A "peer" is a child process standing in for remote servers: a minimal HTTP/1.1 server on many
loopback addresses that answers 202 to every POST, counts them, and serves actor documents.
Nothing here sends traffic anywhere but 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import httpx
import psutil

from federation import signatures
from federation.jsondoc import AS_PUBLIC
from server.config import Config, load_config
from server.migrate import apply_migrations
from server.models import Account
from server.services.accounts import register_account

T = TypeVar("T")
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
SECRET_KEY = "bench-secret-key-not-secret-0123456789abcdef"


class Interrupted(Exception):
    """SIGTERM: unwind like Ctrl-C so that children and PostgreSQL are stopped."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


def install_stop_signals() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Ctrl-C stops the run even when started from a shell that ignores SIGINT (background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def running(start: Callable[[], T], stop: Callable[[T], object]) -> Iterator[T]:
    """Start something and stop it on the way out; Ctrl-C is held while it starts."""
    # Held by a handler that notes the signal, not by blocking it: a child inherits the
    # blocked signals of its parent, and children started meanwhile would ignore SIGTERM.
    held: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _: held.append(signum)) for s in STOP_SIGNALS}
    try:
        thing = start()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    try:
        for signum in held[:1]:
            signal.raise_signal(signum)  # now that there is something to stop
        yield thing
    finally:
        stop(thing)


@contextlib.contextmanager
def embedded_postgres(folder: Path) -> Iterator[tuple[Any, str]]:
    """Run a throwaway PostgreSQL in `folder` (deleted on exit); yield it and a database URL."""
    import pgserver

    with running(
        lambda: pgserver.get_server(folder / "pgdata", cleanup_mode="delete"),
        lambda postgres: postgres.cleanup(),
    ) as postgres:
        postgres.psql("CREATE DATABASE bench;")
        yield postgres, str(postgres.get_uri("bench"))


def bench_config(url: str, base_url: str, data_dir: Path) -> Config:
    """Return the instance settings of a bench: loopback peers allowed, fixed secret."""
    return load_config(
        {
            "DATABASE_URL": url,
            "ENTRAIDE_URL": base_url,
            "ENTRAIDE_DATA_DIR": str(data_dir),
            "ENTRAIDE_SECRET_KEY": SECRET_KEY,
            "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": "true",
            "ENTRAIDE_LANGUAGE": "en",
        }
    )


PASSWORD = "bench-password-not-secret"


async def migrate_and_create_owner(pool: Any, config: Config) -> Account:
    """Apply the migrations and create the administrator who owns the benchmarks' groups."""
    async with pool.acquire() as conn:
        await apply_migrations(conn)
    return await register_account(
        pool,
        config,
        username="owner",
        email="owner@bench.invalid",
        password=PASSWORD,
        is_admin=True,
        by_operator=True,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def start_child(command: list[str], log: Path, env: dict[str, str] | None = None) -> Any:
    """Start a child in a session of its own: Ctrl-C reaches the bench, which stops it."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )


def stop_child(process: Any) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def wait_for_line(log: Path, text: str, process: Any, seconds: float = 30) -> None:
    """Wait until a child wrote `text` to its log (its way of saying it is ready)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"child not ready ({text!r}):\n{log.read_text(errors='replace')[-3000:]}")


def process_tree_cpu(pid: int) -> float:
    """Return the CPU seconds used so far by a process and its living children."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """Return the resident memory of a process and its children, in MB, and their number."""
    try:
        tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        return sum(p.memory_info().rss for p in tree) / 2**20, len(tree)
    except psutil.NoSuchProcess:
        return float("nan"), 0


def postgres_memory_mb(pid: int) -> tuple[float, float, int]:
    """Return PostgreSQL's memory (postmaster and backends): PSS, private, and its processes.

    PSS, not RSS: every backend maps the shared buffers, and RSS would count them once per
    backend, so the total would move with the number of connections, not with memory use.
    Private (USS) leaves the shared buffers out: the memory each process has to itself.
    """
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    pss = uss = 0
    for p in processes:
        try:
            info = p.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        pss, uss = pss + info.pss, uss + info.uss
    return pss / 2**20, uss / 2**20, len(processes) - 1


def percentile_ms(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


async def postgres_settings(conn: Any) -> str:
    rows = await conn.fetch(
        "SELECT name, setting FROM pg_settings WHERE name IN"
        " ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections') ORDER BY name"
    )
    return ", ".join(f"{r['name']}={r['setting']}" for r in rows)


# --- a change tried: no reset query when a pooled connection is released ---------------------

_ORIGINAL_CREATE_POOL: Any = None


async def _keep_session(conn: Any) -> None:
    """Skip asyncpg's reset query: the app keeps no session state between acquisitions."""


def patch_pool_reset(enabled: bool) -> None:
    """Make every new asyncpg pool release connections without a round trip (or undo it).

    The change proposed for server/db.py create_pool: `reset=_keep_session`. asyncpg still
    rolls back a transaction left open; what it no longer sends on each release is
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`.
    """
    import asyncpg

    global _ORIGINAL_CREATE_POOL
    if _ORIGINAL_CREATE_POOL is None:
        _ORIGINAL_CREATE_POOL = asyncpg.create_pool
    original = _ORIGINAL_CREATE_POOL

    def create_pool(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("reset", _keep_session)
        return original(*args, **kwargs)

    asyncpg.create_pool = create_pool if enabled else original


# --- the loopback peers ------------------------------------------------------------------------


def peer_addresses(count: int, peer: int, peers: int) -> list[str]:
    """Return the loopback addresses peer number `peer` (of `peers`) listens on.

    Host h (0 <= h < count) is served by peer h % peers; all of 127.0.0.0/8 is loopback on
    Linux, so every host gets an address of its own and the instance sees `count` hosts.
    """
    return [
        f"127.0.{1 + (h // peers) // 250}.{1 + (h // peers) % 250}"
        for h in range(peer, count, peers)
    ]


def host_of(h: int, peers: int, ports: list[int]) -> str:
    """Return the host:port of host number h, as peer_addresses lays them out."""
    address = f"127.0.{1 + (h // peers) // 250}.{1 + (h // peers) % 250}"
    return f"{address}:{ports[h % peers]}"


@dataclass
class PeerCounts:
    posts: int = 0
    duplicates: int = 0
    unsigned: int = 0
    gets: int = 0
    first: float = 0.0  # time.monotonic() of the first POST since the last reset
    last: float = 0.0


class PeerState:
    """What a peer process counts, and the actor documents it serves."""

    def __init__(self, public_key_pem: str | None) -> None:
        self.public_key_pem = public_key_pem
        self.counts = PeerCounts()
        self.seen: set[str] = set()

    def answer(self, method: str, path: str, head: str, host: str) -> bytes:
        if method == "POST":
            now = time.monotonic()
            counts = self.counts
            counts.posts += 1
            counts.first = counts.first or now
            counts.last = now
            # The path alone names the follower; the same path twice is the same delivery twice.
            if path in self.seen:
                counts.duplicates += 1
            self.seen.add(path)
            if "\r\nsignature:" not in head.lower():
                counts.unsigned += 1
            return b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
        if path == "/_stats":
            body = json.dumps({**self.counts.__dict__, "distinct": len(self.seen)}).encode()
            return _ok(body, "application/json")
        if path == "/_reset":
            self.counts = PeerCounts()
            self.seen = set()
            return _ok(b"{}", "application/json")
        if path.startswith("/users/") and self.public_key_pem is not None:
            self.counts.gets += 1
            name = path.removeprefix("/users/")
            return _ok(json.dumps(self.actor(host, name)).encode(), "application/activity+json")
        return b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"

    def actor(self, host: str, name: str) -> dict[str, Any]:
        uri = f"http://{host}/users/{name}"
        return {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
            ],
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "name": f"Bench {name}",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "endpoints": {"sharedInbox": f"http://{host}/inbox"},
            "publicKey": {
                "id": f"{uri}#main-key",
                "owner": uri,
                "publicKeyPem": self.public_key_pem,
            },
        }


def _ok(body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


class PeerProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: what httpx and aiohttp send."""

    def __init__(self, state: PeerState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.host = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        address, port = transport.get_extra_info("sockname")[:2]
        self.host = f"{address}:{port}"

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            method, path, _version = head.split("\r\n", 1)[0].split(" ", 2)
            assert self.transport is not None
            self.transport.write(self.state.answer(method, path, head, self.host))


async def serve_peer(port: int, addresses: list[str], public_key_pem: str | None) -> None:
    """Listen on every address at `port` until SIGTERM."""
    loop = asyncio.get_running_loop()
    state = PeerState(public_key_pem)
    servers = [
        await loop.create_server(lambda: PeerProtocol(state), address, port, backlog=1024)
        for address in addresses
    ]
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print(f"peer ready on {len(servers)} addresses, port {port}", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def peer_main(argv: list[str]) -> int:
    """Entry point of a peer child: `--peer PORT ADDRESSES [PUBLIC_KEY_FILE]`."""
    port, addresses = int(argv[0]), argv[1].split(",")
    pem = Path(argv[2]).read_text() if len(argv) > 2 else None
    asyncio.run(serve_peer(port, addresses, pem))
    return 0


class Peers:
    """Peer child processes on loopback, started with the bench script's own `--peer` mode."""

    def __init__(self, script: str, folder: Path, hosts: int, processes: int, pem: str | None):
        self.script = script
        self.folder = folder
        self.hosts = hosts
        self.count = processes
        self.pem_file: Path | None = None
        if pem is not None:
            self.pem_file = folder / "peer_public_key.pem"
            self.pem_file.write_text(pem)
        self.ports = [free_port() for _ in range(processes)]
        self.processes: list[Any] = []

    def start(self) -> Peers:
        for i, port in enumerate(self.ports):
            addresses = ",".join(peer_addresses(self.hosts, i, self.count))
            command = [sys.executable, self.script, "--peer", str(port), addresses]
            if self.pem_file is not None:
                command.append(str(self.pem_file))
            log = self.folder / f"peer{i}.log"
            process = start_child(command, log)
            self.processes.append(process)
            wait_for_line(log, "peer ready", process)
        return self

    def stop(self) -> None:
        for process in self.processes:
            stop_child(process)

    def host(self, h: int) -> str:
        return host_of(h, self.count, self.ports)

    def control_urls(self, what: str) -> list[str]:
        return [f"http://{self.host(i)}/_{what}" for i in range(min(self.count, self.hosts))]

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]


def child_env() -> dict[str, str]:
    """The environment of a child: the bench's, without any instance setting leaking in."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ENTRAIDE_", "DATABASE_"))}


def report(measure: str, figure: str, aim: str = "—") -> None:
    """Record one row of `make bench`'s table (a JSON line in $BENCH_REPORT, when it is set)."""
    print(f"  [table] {measure}: {figure} (aim {aim})")
    path = os.environ.get("BENCH_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"measure": measure, "figure": figure, "aim": aim}) + "\n")


class KeepAliveConnection:
    """One persistent HTTP/1.1 connection to 127.0.0.1 that keeps cookies, as a browser tab.

    Hand-written because httpx spends more CPU per request (~5 ms with 32 connections) than the
    app does, and on two cores the client's CPU is taken from the server's.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """Send one GET with the cookies received so far; return its status."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        request += f"Cookie: {cookie}\r\n\r\n" if cookie else "\r\n"
        return await self.send(request.encode())

    async def send(self, request: bytes) -> int:
        """Send one prepared request, read the whole answer, return its status."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *lines = head.split("\r\n")
        length = -1
        for line in lines:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if length < 0:
            raise ConnectionError(f"no content-length in the answer to {request[:40]!r}")
        await self.reader.readexactly(length)
        return int(status_line.split(" ", 2)[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- remote activities, as Mastodon sends them ----------------------------------------------------

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


def like_activity(actor: str, object_uri: str, n: int) -> dict[str, Any]:
    """A Like of a post, numbered `n` among the actor's."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor}/likes/{n}",
        "type": "Like",
        "actor": actor,
        "object": object_uri,
    }


def reply_activity(
    actor: str, group_uri: str, in_reply_to: str, n: int, content: str
) -> dict[str, Any]:
    """A reply in a group, as Mastodon sends it: Create of a Note, the group in `cc`."""
    note = f"{actor}/notes/{n}"
    published = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    to, cc = [AS_PUBLIC], [group_uri, f"{actor}/followers"]
    return {
        "@context": AS_CONTEXT,
        "id": f"{note}/activity",
        "type": "Create",
        "actor": actor,
        "published": published,
        "to": to,
        "cc": cc,
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": actor,
            "inReplyTo": in_reply_to,
            "published": published,
            "content": content,
            "to": to,
            "cc": cc,
        },
    }


def signed_inbox_request(port: int, activity: dict[str, Any], private_key_pem: str) -> bytes:
    """Return the bytes of a POST /inbox to 127.0.0.1, signed as Mastodon signs (draft-cavage)."""
    body = json.dumps(activity).encode()
    headers = signatures.sign_request(
        "POST",
        f"http://127.0.0.1:{port}/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        f"{activity['actor']}#main-key",
        private_key_pem,
    )
    head = "POST /inbox HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def copy_remote_actors(
    conn: Any,
    count: int,
    host_of: Callable[[int], str],
    public_key_pem: str,
    *,
    own_shared_inboxes: bool,
) -> None:
    """COPY `count` remote persons f0.. into `actors`, actor i on `host_of(i)`, all with one key.

    With `own_shared_inboxes` each has a shared inbox of its own (one delivery each), otherwise
    the actors of a host share `http://<host>/inbox`, as on Mastodon.
    """
    records = []
    for i in range(count):
        host = host_of(i)
        uri = f"http://{host}/users/f{i}"
        shared = f"http://{host}/inbox/{i}" if own_shared_inboxes else f"http://{host}/inbox"
        records.append(
            ("person", f"f{i}", host, uri, f"f{i}", f"{uri}/inbox", shared,
             f"{uri}#main-key", public_key_pem)
        )  # fmt: skip
    await conn.copy_records_to_table(
        "actors",
        records=records,
        columns=[
            "kind", "name", "domain", "uri", "display_name", "inbox", "shared_inbox",
            "key_id", "public_key_pem",
        ],
    )  # fmt: skip


async def wait_for_web(base_url: str, process: Any, log: Path, seconds: float = 60) -> None:
    """Wait until the served app answers GET / with 200; fail with the end of its log."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
            try:
                if (await client.get("/")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer within {seconds:.0f} s:\n{log.read_text()[-3000:]}"
    )
