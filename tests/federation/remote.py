"""Playing a remote server against a live instance: a fake peer, and what the instance stored.

The fake peer is a tiny Starlette app on its own loopback address. It serves the documents a
test gives it (actors with fresh RSA keys, objects, redirects, huge bodies), records every
request it receives and answers 202 to any inbox POST. Tests sign activities as its actors
(federation.signatures.sign_request), POST them to the instance, which fetches the actors back
from here, then compare snapshots of the instance's database.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation.signatures import sign_request
from server.config import load_config
from server.db import create_pool
from tests.factories import make_account, make_group, make_post
from tests.federation.instances import LiveInstance, free_port

ACTIVITY_JSON = "application/activity+json"
Endpoint = Callable[[Request], Response]


class ActivityJSON(JSONResponse):
    media_type = ACTIVITY_JSON


@dataclass(frozen=True)
class Received:
    """One request the peer received, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeActor:
    """A remote actor served by a FakePeer, with the private key to sign as it."""

    uri: str
    key_id: str
    private_key_pem: str
    public_key_pem: str
    document: dict[str, Any] = field(default_factory=dict)

    def sign(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> dict[str, str]:
        """Return the headers of a signed POST of `body` to `url` (draft-cavage, as Mastodon)."""
        base = {"Content-Type": ACTIVITY_JSON, **(headers or {})}
        return sign_request("POST", url, base, body, self.key_id, self.private_key_pem)


def generate_rsa_pem(*, pkcs1: bool = False) -> tuple[str, str]:
    """Return a fresh (private PEM, public PEM); PKCS#1 public PEM as Mobilizon publishes it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.PKCS1
            if pkcs1
            else serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    return private, public


def person_document(uri: str, name: str, public_key_pem: str) -> dict[str, Any]:
    """Return a minimal Mastodon-like Person document for `uri`."""
    parts = urlsplit(uri)
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Person",
        "preferredUsername": name,
        "name": name.title(),
        "summary": "",
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "endpoints": {"sharedInbox": f"{parts.scheme}://{parts.netloc}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_key_pem},
    }


class FakePeer:
    """A remote server on `host`: GET serves registered documents, POST to an inbox records."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = free_port(host)
        self.base = f"http://{host}:{self.port}"
        self.domain = f"{host}:{self.port}"
        self.received: list[Received] = []
        self._routes: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- what the peer serves -------------------------------------------------------------

    def serve(self, path: str, endpoint: Endpoint) -> None:
        """Answer GET `path` with whatever `endpoint` returns."""
        self._routes[path] = endpoint

    def serve_json(self, path: str, document: dict[str, Any], status: int = 200) -> None:
        frozen = copy.deepcopy(document)
        self.serve(path, lambda _request: ActivityJSON(frozen, status_code=status))

    def add_actor(
        self,
        path: str,
        name: str,
        *,
        document: dict[str, Any] | None = None,
        pkcs1: bool = False,
    ) -> FakeActor:
        """Create an actor at `path` with a fresh key; `document` overrides the default shape.

        A given document keeps its own fields; only its `publicKey.publicKeyPem` is filled in.
        """
        private, public = generate_rsa_pem(pkcs1=pkcs1)
        uri = self.base + path
        doc = copy.deepcopy(document) if document is not None else person_document(uri, name, "")
        key = doc.setdefault("publicKey", {"id": f"{uri}#main-key", "owner": uri})
        key["publicKeyPem"] = public
        actor = FakeActor(uri, str(key["id"]), private, public, doc)
        self.serve_json(path, doc)
        return actor

    # --- what the peer received -----------------------------------------------------------

    def requests_to(self, path: str, method: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if r.path == path and (method is None or r.method == method)
            ]

    def hits(self, path: str) -> int:
        return len(self.requests_to(path))

    # --- the server -----------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        record = Received(request.method, request.url.path, dict(request.headers), body)
        with self._lock:
            self.received.append(record)
        if request.method == "POST":
            # Every inbox of the peer accepts everything: the test reads what arrived.
            return Response(status_code=202 if request.url.path.endswith("inbox") else 405)
        endpoint = self._routes.get(request.url.path)
        if endpoint is None:
            return JSONResponse({"error": "Not found"}, status_code=404)
        return endpoint(request)

    def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_level="critical",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake peer on {self.domain} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None


@contextmanager
def fake_peers(*hosts: str) -> Iterator[list[FakePeer]]:
    """Run one FakePeer per loopback address, stopped on exit."""
    peers: list[FakePeer] = []
    try:
        for host in hosts:
            peer = FakePeer(host)
            peers.append(peer)
            peer.start()
        yield peers
    finally:
        for peer in peers:
            peer.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


# --- the instance's database ----------------------------------------------------------------


@dataclass(frozen=True)
class LocalGroup:
    """A public open group on the instance, with one post by its owner."""

    id: int
    slug: str
    uri: str
    post_id: int
    post_url: str


def seed_group(
    instance: LiveInstance, slug: str, content: str, *, owner: str = "owner"
) -> LocalGroup:
    """Create an account, its group and a first post in the instance's database, by the services."""

    async def run() -> tuple[int, int]:
        pool = await create_pool(instance.database_url, min_size=1, max_size=2)
        try:
            config = load_config(instance.env)
            account = await make_account(pool, config, owner)
            group = await make_group(pool, config, account, slug)
            post = await make_post(pool, config, group, account, content)
            return group.id, post.id
        finally:
            await pool.close()

    group_id, post_id = asyncio.run(run())
    return LocalGroup(
        group_id,
        slug,
        f"{instance.base_url}/groups/{slug}",
        post_id,
        f"{instance.base_url}/posts/{post_id}",
    )


# Whole rows of the tables an activity could change, minus the timestamps a refetch renews.
SNAPSHOT = {
    "actors": """
        SELECT id, kind, name, domain, uri, display_name, summary_html, avatar, url, inbox,
               shared_inbox, outbox, followers_uri, key_id, public_key_pem, manually_approves
        FROM actors ORDER BY id
    """,
    "posts": """
        SELECT id, uri, url, group_id, author_id, in_reply_to_id, via_actor_id, content,
               content_html, content_warning, updated_at, deleted_at
        FROM posts ORDER BY id
    """,
    "follows": "SELECT follower_id, target_id, uri, state FROM follows ORDER BY 1, 2",
    "likes": "SELECT actor_id, post_id, uri FROM likes ORDER BY 1, 2",
    "inbox_activities": "SELECT id, activity_id, type, outcome FROM inbox_activities ORDER BY id",
    "jobs": "SELECT id, kind, payload::text AS payload FROM jobs ORDER BY id",
    "events": """
        SELECT id, uri, group_id, organizer_id, title, description_html, starts_at, ends_at,
               status, capacity, remote_participant_count, sequence, deleted_at
        FROM events ORDER BY id
    """,
    "event_participants": "SELECT * FROM event_participants ORDER BY id",
}


def query(database_url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one query on the instance's database (assertions only)."""

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(database_url)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def snapshot(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of every table an incoming activity could write to."""

    async def run() -> dict[str, list[dict[str, Any]]]:
        conn = await asyncpg.connect(database_url)
        try:
            return {
                name: [dict(r) for r in await conn.fetch(sql)] for name, sql in SNAPSHOT.items()
            }
        finally:
            await conn.close()

    return asyncio.run(run())


def wait_quiet(database_url: str) -> None:
    """Wait until no job or delivery is due or running (failed ones waiting to retry are fine)."""
    wait_for(
        lambda: (
            not query(
                database_url,
                "SELECT 1 FROM jobs WHERE last_error IS NULL"
                " UNION ALL SELECT 1 FROM deliveries WHERE last_error IS NULL",
            )
        )
    )


def wait_processed(database_url: str, activity_id: str) -> str:
    """Wait for the worker to process a stored activity; return its outcome."""
    rows = wait_for(
        lambda: query(
            database_url,
            "SELECT outcome FROM inbox_activities"
            " WHERE activity_id = $1 AND processed_at IS NOT NULL",
            activity_id,
        )
    )
    outcome: str = rows[0]["outcome"]
    return outcome
