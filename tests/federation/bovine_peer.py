"""A minimal ActivityPub peer made of bovine's own code, to test interoperability with it.

It runs on its own event loop in a thread: an aiohttp server (bovine's HTTP library) serves its
actor, built with bovine's `Actor`, and the objects it made; its inbox checks HTTP signatures with
bovine's `SignatureChecker`, fetching the signer's key with bovine's signed client, as bovine's
tutorial server (`bovine.testing.server`, which needs Quart) does. Everything it sends goes
through bovine: WebFinger lookup, activity factories, signed GETs and POSTs.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from bovine import BovineActor
from bovine.activitystreams import Actor, OrderedCollection, factories_for_actor_object
from bovine.clients import lookup_uri_with_webfinger
from bovine.crypto import build_validate_http_signature_raw, generate_rsa_public_private_key
from bovine.crypto.types import CryptographicIdentifier
from bovine.utils import webfinger_response_json

from tests.federation.instances import free_port

T = TypeVar("T")
# Every step the test waits on, and every request the peer makes, ends within this bound.
TIMEOUT = 15.0
ACTIVITY_JSON = "application/activity+json"


@dataclass(frozen=True)
class Received:
    """A request the peer got, with the key owner bovine's checker found (None: refused)."""

    method: str
    path: str
    signer: str | None
    activity: dict[str, Any] | None


class BovinePeer:
    """A Person on http://host:port/actor, with an inbox and bovine-signed requests out."""

    def __init__(self, host: str, port: int, name: str = "buttercup") -> None:
        self.host, self.port = host, port
        self.base_url = f"http://{host}:{port}"
        self.domain = f"{host}:{port}"
        self.name = name
        self.actor_id = f"{self.base_url}/actor"
        self.key_id = f"{self.actor_id}#main-key"
        self.public_key, self.private_key = generate_rsa_public_private_key()
        self.profile: dict[str, Any] = Actor(
            id=self.actor_id,
            preferred_username=name,
            name="Buttercup, a bovine peer",
            inbox=f"{self.base_url}/inbox",
            outbox=f"{self.base_url}/outbox",
            public_key=self.public_key,
            public_key_name="main-key",
        ).build()
        self.activity_factory, self.object_factory = factories_for_actor_object(
            self.profile, id_generator=self._new_id
        )
        self.received: list[Received] = []
        self._objects: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._actor: BovineActor | None = None
        self._verify = build_validate_http_signature_raw(self._fetch_public_key)

    # Life cycle: the test thread drives the peer's loop through run().

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    def stop(self) -> None:
        try:
            if self._thread.is_alive():
                self.run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(TIMEOUT)
            self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the peer's loop and return its result (or fail after TIMEOUT)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(TIMEOUT)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._actor = BovineActor(
            actor_id=self.actor_id, public_key_url=self.key_id, secret=self.private_key
        )
        await self._actor.init(session=self._session)
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/actor", self._serve_actor)
        app.router.add_get("/outbox", self._serve_outbox)
        app.router.add_get("/objects/{token}", self._serve_object)
        app.router.add_post("/inbox", self._inbox)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # What the peer serves.

    def _new_id(self) -> str:
        return f"{self.base_url}/objects/{secrets.token_hex(8)}"

    def _json(self, document: dict[str, Any]) -> web.Response:
        return web.json_response(document, content_type=ACTIVITY_JSON)

    async def _webfinger(self, request: web.Request) -> web.Response:
        account = f"acct:{self.name}@{self.domain}"
        if request.query.get("resource") != account:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(webfinger_response_json(account, self.actor_id))

    async def _serve_actor(self, request: web.Request) -> web.Response:
        # The actor stays public, as on bovine's servers; a signed fetch is checked and noted.
        if "signature" in request.headers:
            signer = await self._verify(request.method, str(request.url), request.headers, None)
            self._record(Received("GET", request.path, signer, None))
        return self._json(self.profile)

    async def _serve_outbox(self, request: web.Request) -> web.Response:
        return self._json(OrderedCollection(id=f"{self.base_url}/outbox", count=0).build())

    async def _serve_object(self, request: web.Request) -> web.Response:
        document = self._objects.get(f"{self.base_url}{request.path}")
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        return self._json(document)

    async def _inbox(self, request: web.Request) -> web.Response:
        signer = await self._verify(request.method, str(request.url), request.headers, request.read)
        try:
            activity = json.loads(await request.read())
        except ValueError:
            activity = None
        if not isinstance(activity, dict):
            activity = None
        self._record(Received("POST", request.path, signer, activity))
        # As bovine's servers do: the key's owner must be the activity's actor.
        if signer is None or activity is None or _id_of(activity.get("actor")) != signer:
            return web.Response(status=401, text="invalid signature")
        return web.Response(status=202)

    async def _fetch_public_key(self, key_id: str) -> CryptographicIdentifier:
        # bovine.testing.server's key retriever: a signed GET of the key id, its publicKey.
        assert self._actor is not None
        document = await self._actor.get(key_id)
        return CryptographicIdentifier.from_public_key(document["publicKey"])

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    # What the test asks the peer to do (coroutines for run()) or to tell.

    def publish(self, *documents: dict[str, Any]) -> None:
        """Serve these documents at their ids, as the peer's own objects."""
        for document in documents:
            self._objects[document["id"]] = document

    async def webfinger(self, handle: str, origin: str) -> str | None:
        """Find an actor by handle with bovine's WebFinger lookup, on `origin` (scheme://host)."""
        assert self._session is not None
        # bovine builds https://<domain>/.well-known/webfinger unless the domain has a scheme.
        actor_uri, _ = await lookup_uri_with_webfinger(self._session, f"acct:{handle}", origin)
        return actor_uri

    async def get(self, url: str) -> dict[str, Any]:
        """Fetch a document with bovine's signed GET."""
        assert self._actor is not None
        document: dict[str, Any] = await self._actor.get(url)
        return document

    async def post(
        self, inbox: str, activity: dict[str, Any], *, private_key: str | None = None
    ) -> int:
        """POST an activity signed by bovine (with `private_key` instead of ours when given)."""
        assert self._actor is not None and self._session is not None
        actor = self._actor
        if private_key is not None:
            actor = BovineActor(
                actor_id=self.actor_id, public_key_url=self.key_id, secret=private_key
            )
            await actor.init(session=self._session)
        assert actor.client is not None
        response = await actor.client.post(inbox, json.dumps(activity))
        response.release()
        return int(response.status)

    def arrivals(self, activity_type: str) -> list[Received]:
        """Return the activities of a type that reached the inbox, oldest first."""
        with self._lock:
            return [
                r for r in self.received if r.activity and r.activity.get("type") == activity_type
            ]

    def signed_fetches(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.method == "GET"]


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


@contextmanager
def bovine_peer(host: str = "127.0.0.9") -> Iterator[BovinePeer]:
    """Run a bovine peer on `host` and a free port; stop it and close its clients after."""
    peer = BovinePeer(host, free_port(host))
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()
