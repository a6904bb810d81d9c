"""An instance in-process, a hostile peer's actor it already knows, and checks on what it keeps.

The inbox is driven in-process (`federation.inbox.receive` on a built Request), the way the
live tests drive it over HTTP but some hundred times faster, so that fuzzing can send hundreds
of activities. The federation's HTTP client is unplugged: every fetch fails, and is recorded.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from federation.context import Federation, open_federation
from federation.fetch import FetchError
from federation.inbox import InboxReply, receive
from federation.jsondoc import fits_id
from federation.signatures import sign_request
from server import keys
from server.config import Config
from server.db import Pool
from server.models import RemoteActorData, RemoteNote
from server.services import inbound
from tests.factories import make_account, make_group, make_post

BASE = "http://127.0.0.1:8000"  # the `config` fixture's public URL
PEER = "https://peer.example"
MALLORY = f"{PEER}/users/mallory"
ALICE = "https://other.example/users/alice"
ALICE_POST = f"{ALICE}/statuses/1"
GROUP = f"{BASE}/groups/voisins"
SECRET_GROUP = f"{BASE}/groups/cercle"
# JSON-LD contexts on private addresses: we never fetch contexts, these least of all.
CONTEXTS = ["http://127.0.0.1:1/evil-context", "http://169.254.169.254/context"]
# Replaced by the ids of the posts the stage creates (they are only known then).
LOCAL_POST, SECRET_POST = "@LOCAL_POST@", "@SECRET_POST@"


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend((tag, name, value or "") for name, value in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def assert_inert(html: str) -> None:
    """Fail if the HTML could run anything: scripts, handlers, styles, script URLs."""
    assert "<script" not in html.lower(), html
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    for tag, name, value in parser.found:
        assert not name.startswith("on"), (tag, name, html)
        assert name != "style", (tag, html)
        if name in ("href", "src", "action", "formaction"):
            # Browsers drop control characters and spaces when they read a URL's scheme.
            scheme = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not scheme.startswith(("javascript:", "data:", "vbscript:")), (value, html)


class NoNetwork:
    """The federation's HTTP client, unplugged: every fetch fails for good, and is counted."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def get_json(self, url: str, signer: object) -> dict[str, Any]:
        self.urls.append(url)
        raise FetchError("no network while fuzzing")

    async def get_jrd(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        raise FetchError("no network while fuzzing")

    async def post_activity(self, inbox: str, body: bytes, signer: object) -> int:
        self.urls.append(inbox)
        raise FetchError("no network while fuzzing")

    async def close(self) -> None:
        pass


def remote_actor(uri: str, name: str, public_key_pem: str) -> RemoteActorData:
    host = urlsplit(uri).netloc
    return RemoteActorData(
        uri=uri,
        kind="person",
        name=name,
        domain=host,
        display_name=name.title(),
        summary_html="",
        avatar=None,
        url=None,
        inbox=f"{uri}/inbox",
        shared_inbox=f"https://{host}/inbox",
        outbox=None,
        followers_uri=None,
        key_id=f"{uri}#main-key",
        public_key_pem=public_key_pem,
        manually_approves=False,
    )


@dataclass
class Stage:
    """An instance with a public and a members-only group, and two remote people it knows."""

    db: Pool
    fed: Federation
    http: NoNetwork
    mallory: RemoteActorData
    private_key_pem: str
    replacements: dict[str, str]
    alice_post_id: int
    local_post_id: int
    secret_post_id: int
    secret_group_id: int
    counter: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    async def fixed_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Return the rows no activity from Mallory may change."""
        seeded = [self.local_post_id, self.secret_post_id, self.alice_post_id]
        async with self.db.acquire() as conn:
            found = {
                "accounts": await conn.fetch("SELECT * FROM accounts ORDER BY actor_id"),
                "groups": await conn.fetch("SELECT * FROM groups ORDER BY actor_id"),
                # A Follow of a members-only group is Mallory's request to join it: a pending
                # membership of hers, which moderators approve or not. Any other change is not.
                "memberships": await conn.fetch(
                    "SELECT * FROM memberships WHERE NOT (state = 'pending' AND actor_id ="
                    " (SELECT id FROM actors WHERE uri = $1)) ORDER BY 1, 2",
                    MALLORY,
                ),
                "others": await conn.fetch(
                    "SELECT id, name, uri, key_id, public_key_pem, inbox FROM actors"
                    " WHERE uri IS DISTINCT FROM $1 ORDER BY id",
                    MALLORY,
                ),
                "seeded posts": await conn.fetch(
                    "SELECT id, uri, group_id, author_id, content_html, deleted_at FROM posts"
                    " WHERE id = ANY($1::bigint[]) ORDER BY id",
                    seeded,
                ),
            }
        return {name: [dict(row) for row in rows] for name, rows in found.items()}

    def resolve(self, value: Any) -> Any:
        """Put the stage's real post URLs in place of their placeholders."""
        if isinstance(value, str):
            return self.replacements.get(value, value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


async def build_stage(db: Pool, config: Config) -> Stage:
    """Seed the instance and unplug its network; the `stage` fixture (conftest.py) calls this."""
    owner = await make_account(db, config, "owner")
    group = await make_group(db, config, owner, "voisins")
    local_post = await make_post(db, config, group, owner, "Who can lend a ladder on Saturday?")
    secret = await make_group(db, config, owner, "cercle", visibility="members")
    secret_post = await make_post(db, config, secret, owner, "For members only")
    fed = await open_federation(db, config)
    await fed.http.close()
    http = NoNetwork()
    fed.http = http  # every fetch fails: nothing leaves the test
    private_key_pem, public_key_pem = keys.generate_key_pair()
    mallory = remote_actor(MALLORY, "mallory", public_key_pem)
    await inbound.store_remote_actor(db, mallory)
    alice = await inbound.store_remote_actor(db, remote_actor(ALICE, "alice", public_key_pem))
    alice_post_id = await inbound.receive_note(
        db,
        alice,
        RemoteNote(
            uri=ALICE_POST,
            url=None,
            content_html="<p>I can!</p>",
            content_warning="",
            in_reply_to_id=local_post.id,
            in_reply_to_uri=fed.urls.post(local_post.id),
            addressed_group_ids=(),
        ),
    )
    assert alice_post_id is not None
    return Stage(
        db=db,
        fed=fed,
        http=http,
        mallory=mallory,
        private_key_pem=private_key_pem,
        replacements={
            LOCAL_POST: fed.urls.post(local_post.id),
            SECRET_POST: fed.urls.post(secret_post.id),
        },
        alice_post_id=alice_post_id,
        local_post_id=local_post.id,
        secret_post_id=secret_post.id,
        secret_group_id=secret.id,
    )


def inbox_request(body: bytes, headers: dict[str, str]) -> Request:
    """Return the Request the instance's inbox would get for this POST."""
    sent = False

    async def receive_body() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("192.0.2.1", 40000),
        "root_path": "",
        "path": "/inbox",
        "raw_path": b"/inbox",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, receive_body)


def encode(document: Any) -> bytes:
    """Serialise as a peer would; NaN and lone surrogates come out as Python writes them."""
    return json.dumps(document).encode()


async def send_as_mallory(stage: Stage, document: dict[str, Any] | str) -> InboxReply:
    """POST a document (or a body written by hand) to the inbox, signed with Mallory's key."""
    body = document.encode() if isinstance(document, str) else encode(document)
    headers = sign_request(
        "POST",
        f"{BASE}/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        stage.mallory.key_id,
        stage.private_key_pem,
    )
    headers["Content-Length"] = str(len(body))
    return await receive(stage.fed, inbox_request(body, headers))


async def stored_row(stage: Stage, activity_id: str) -> int | None:
    """Return the inbox row of a stored activity, or None."""
    async with stage.db.acquire() as conn:
        row_id: int | None = await conn.fetchval(
            "SELECT id FROM inbox_activities WHERE activity_id = $1", activity_id
        )
    return row_id


async def assert_nothing_invalid_stored(stage: Stage, fixed: dict[str, list[Any]]) -> None:
    """Mallory changed nothing of others, and what she got stored is hers, clean and in place."""
    assert await stage.fixed_rows() == fixed
    async with stage.db.acquire() as conn:
        mallory_id = await conn.fetchval("SELECT id FROM actors WHERE uri = $1", MALLORY)
        remote = await conn.fetch("SELECT uri, domain FROM actors WHERE domain IS NOT NULL")
        posts = await conn.fetch(
            "SELECT uri, group_id, content_html, content_warning FROM posts WHERE author_id = $1",
            mallory_id,
        )
        follows = await conn.fetch(
            "SELECT f.follower_id, t.domain FROM follows f JOIN actors t ON t.id = f.target_id"
        )
        likers = await conn.fetch("SELECT DISTINCT actor_id FROM likes")
        received = await conn.fetch("SELECT activity_id, type, actor_uri FROM inbox_activities")
    # Nothing was fetched (the network is unplugged), so nobody new is known.
    assert {r["uri"] for r in remote} <= {MALLORY, ALICE}
    for post in posts:
        assert post["uri"] is not None and urlsplit(post["uri"]).netloc == "peer.example"
        assert fits_id(post["uri"])
        assert post["group_id"] != stage.secret_group_id  # a stranger in a members-only group
        assert_inert(post["content_html"])
    for follow in follows:
        assert follow["follower_id"] == mallory_id and follow["domain"] is None
    assert {r["actor_id"] for r in likers} <= {mallory_id}
    for row in received:
        assert row["actor_uri"] == MALLORY
        assert urlsplit(row["activity_id"]).netloc == "peer.example"
        assert fits_id(row["activity_id"]) and len(row["type"].encode()) <= 64
    # The JSON-LD contexts the documents name were never fetched.
    assert not set(CONTEXTS) & set(stage.http.urls)
