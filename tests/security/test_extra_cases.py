"""Hostile cases the other suites did not cover, each answered without a crash, nothing stored.

WebFinger resources with odd characters; JSON-LD contexts on private addresses, never fetched
(a peer counts the requests); path traversal in upload names and media addresses; NUL and
non-ASCII digits in addresses and forms, and unstorable text, NaN or over-long ids from a
signed peer (each of these was a 500 before this file); handles on private addresses.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from federation.context import open_federation
from federation.fetch import FetchError
from federation.processing import process_activity
from federation.remote_actors import parse_actor, resolve_handle
from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_post, snapshot
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    LocalGroup,
    fake_peers,
    person_document,
    seed_group,
    wait_processed,
)
from tests.security.stage import LOCAL_POST, MALLORY, Stage, send_as_mallory, stored_row
from tests.web.conftest import OpenVisitor
from tests.web.test_csrf import COMMON_FIELDS, browser_post_routes, build_world, fill
from tests.web.visitor import Visitor

HOST = "127.0.0.1:8000"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, format="PNG")
    return out.getvalue()


# --- WebFinger ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "resource=acct:a%00b@" + HOST,
        "resource=acct:a%2500b@" + HOST,  # NUL once the handler decodes again
        "resource=acct:" + "a" * 5000 + "@" + HOST,
        "resource=acct:../../etc@" + HOST,
        "resource=acct:..%2f..%2fetc%2fpasswd@" + HOST,
        "resource=acct:%C3%A9mile@" + HOST,
        "resource=acct:%D9%A3@" + HOST,
        "resource=acct:@" + HOST,
        "resource=acct:alice@evil.example",
        "resource=acct:alice%0d%0aX-Injected:%201@" + HOST,
        "resource=http://127.0.0.1:8000/users/../admin",
        "resource=javascript:alert(1)",
        "resource=",
        "",
    ],
    ids=[
        "nul", "double-encoded-nul", "very-long", "traversal", "encoded-traversal", "unicode",
        "arabic-digit", "no-name", "other-host", "crlf", "url-traversal", "script-url", "empty",
        "missing",
    ],
)  # fmt: skip
async def test_webfinger_resource_with_odd_characters_is_a_json_404(
    visitor: Visitor, db: Pool, web_config: Config, query: str
) -> None:
    await make_account(db, web_config, "alice")
    found = await visitor.get(f"/.well-known/webfinger?resource=acct:alice@{HOST}")
    assert found.status_code == 200  # the same request, well formed, finds her
    before = await snapshot(db)

    response = await visitor.get(f"/.well-known/webfinger?{query}")

    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "error" in response.json()
    assert "x-injected" not in response.headers
    assert await snapshot(db) == before


# --- JSON-LD contexts: never fetched ------------------------------------------------------------


class ContextWorld:
    """A live instance and a peer serving JSON-LD contexts it counts the requests to."""

    def __init__(self, instance: LiveInstance, peer: FakePeer, group: LocalGroup) -> None:
        self.instance, self.peer, self.group = instance, peer, group
        for path in ("/contexts/activity", "/contexts/actor"):
            peer.serve_json(path, {"@context": {"evil": "https://evil.example/#"}})

    def contexts(self, name: str) -> list[str]:
        # The peer's own (observable) context, and private addresses no test can watch.
        return [
            "https://www.w3.org/ns/activitystreams",
            f"{self.peer.base}/contexts/{name}",
            "http://127.0.0.1:1/evil",
            "http://169.254.169.254/ctx",
        ]

    def send(self, actor: FakeActor, activity: dict[str, Any]) -> httpx.Response:
        body = json.dumps(activity).encode()
        inbox = f"{self.instance.base_url}/inbox"
        return httpx.post(inbox, content=body, headers=actor.sign(inbox, body), timeout=15)

    def reply(self, actor: FakeActor, content: str) -> dict[str, Any]:
        note = {
            "@context": self.contexts("activity"),
            "id": f"{actor.uri}/statuses/{secrets.token_hex(6)}",
            "type": "Note",
            "attributedTo": actor.uri,
            "content": content,
            "inReplyTo": self.group.post_url,
            "to": [PUBLIC],
            "cc": [self.group.uri],
        }
        return {
            "@context": self.contexts("activity"),
            "id": f"{actor.uri}/activities/{secrets.token_hex(6)}",
            "type": "Create",
            "actor": actor.uri,
            "object": note,
            "to": [PUBLIC],
            "cc": [self.group.uri],
        }


@pytest.fixture(scope="module")
def contexts(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContextWorld]:
    with (
        fake_peers("127.0.0.32") as (peer,),
        live_instances(tmp_path_factory.mktemp("contexts"), count=1) as (instance,),
    ):
        group = seed_group(instance, "voisins", "Who has a drill?")
        yield ContextWorld(instance, peer, group)


def test_jsonld_context_of_an_incoming_activity_is_never_fetched(contexts: ContextWorld) -> None:
    alice = contexts.peer.add_actor("/users/alice", "alice")
    activity = contexts.reply(alice, "<p>I have one.</p>")

    assert contexts.send(alice, activity).status_code == 202
    outcome = wait_processed(contexts.instance.database_url, activity["id"])

    assert outcome.startswith("stored post"), outcome
    assert contexts.peer.hits("/users/alice") >= 1  # the peer was reachable, and asked
    assert contexts.peer.hits("/contexts/activity") == 0


def test_jsonld_context_of_a_fetched_actor_document_is_never_fetched(
    contexts: ContextWorld,
) -> None:
    document = person_document(f"{contexts.peer.base}/users/bob", "bob", "")
    document["@context"] = contexts.contexts("actor")
    bob = contexts.peer.add_actor("/users/bob", "bob", document=document)
    activity = contexts.reply(bob, "<p>Me too.</p>")

    assert contexts.send(bob, activity).status_code == 202
    outcome = wait_processed(contexts.instance.database_url, activity["id"])

    assert outcome.startswith("stored post"), outcome
    assert contexts.peer.hits("/users/bob") >= 1  # the actor document was fetched, once known
    assert contexts.instance.sql("SELECT 1 FROM actors WHERE uri = $1", bob.uri)
    assert contexts.peer.hits("/contexts/actor") == 0


# --- uploads: names and paths -------------------------------------------------------------------

AVATAR_NAME = re.compile(r"[0-9a-f]{32}\.png")
PATH_NAMES = ["../../etc/passwd.png", "..\\..\\secret_key.png", "/etc/passwd.png",
              "%2e%2e%2f%2e%2e%2fpasswd.png", "....//....//passwd.png"]  # fmt: skip


@pytest.mark.parametrize("filename", PATH_NAMES)
async def test_avatar_named_with_a_path_is_stored_under_our_own_random_name(
    visitor: Visitor, db: Pool, web_config: Config, filename: str
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "voisins")
    await visitor.log_in("alice")

    for form in ("/settings/avatar", "/groups/voisins/avatar"):
        response = await visitor.post(form, files={"avatar": (filename, png(), "image/png")})
        assert response.status_code == 303, response.text

    stored = sorted(p for p in web_config.data_dir.rglob("*") if p.is_file())
    avatars = [p for p in stored if p.parent == web_config.uploads_dir / "avatars"]
    assert len(avatars) == 2 and all(AVATAR_NAME.fullmatch(p.name) for p in avatars)
    assert not [p for p in stored if "passwd" in p.name or "secret_key.png" in p.name]
    assert not (web_config.data_dir.parent / "etc").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/media/avatars/..%2f..%2fsecret_key",
        "/media/avatars/..%2F..%2Fsecret_key",
        "/media/avatars/%2e%2e%2f%2e%2e%2fsecret_key",
        "/media/avatars/..%5c..%5csecret_key",
        "/media/avatars/%2e%2e/%2e%2e/secret_key",
        "/media/avatars/....%2f%2f....%2f%2fsecret_key",
        "/media/avatars/%00",
        "/static/..%2f..%2fsecurity.py",
        "/static/%2e%2e/security.py",
    ],
)
async def test_media_and_static_paths_out_of_their_folder_are_404(
    visitor: Visitor, web_config: Config, path: str
) -> None:
    # A secret worth stealing, where a traversal out of uploads/avatars/ would find it.
    (web_config.data_dir / "secret_key").write_text("TOPSECRET" * 5)

    response = await visitor.get(path)

    assert response.status_code == 404
    assert "TOPSECRET" not in response.text
    assert "hmac" not in response.text  # nor the source of web/security.py


# --- NUL and non-ASCII digits in addresses (each was a 500) -------------------------------------

ADDRESSES = [
    "/users/a%00b", "/groups/a%00b", "/@a%00b", "/groups/a%00b/members",
    "/users/a%00b/outbox", "/groups/a%00b/followers", "/users/a%00b/following",
    "/posts/%C2%B2", "/posts/%D9%A3", "/groups/voisins?before=%C2%B2", "/posts/%C2%B2/edit",
    "/users/alice/outbox?page=true&max_id=%C2%B2",
    "/users/alice/outbox?page=true&max_id=" + "9" * 40,
    "/users/alice/followers?page=%C2%B2", "/users/alice/followers?page=" + "9" * 40,
    "/groups/voisins/followers?page=99999999999999999",
]  # fmt: skip


@pytest.mark.parametrize("accept", ["text/html", "application/activity+json"])
async def test_nul_and_non_ascii_digits_in_addresses_are_not_server_errors(
    visitor: Visitor, db: Pool, web_config: Config, accept: str
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    await make_post(db, web_config, group, owner, "Who has a drill?")
    before = await snapshot(db)

    answers = {p: (await visitor.get(p, headers={"accept": accept})).status_code for p in ADDRESSES}

    assert {p: s for p, s in answers.items() if s >= 500} == {}
    assert all(s in (200, 302, 303, 404) for s in answers.values()), answers
    assert await snapshot(db) == before


async def test_nul_in_any_form_field_is_refused_with_400_and_nothing_is_written(
    start_app: Any, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    app: Starlette = await start_app()
    world = await build_world(db, web_config, visitors, app)
    fields = {name: "a\x00b" for name in [*COMMON_FIELDS, "username", "next"]}
    before = await snapshot(db)

    answers = {}
    for template, _route in browser_post_routes(app):
        path = fill(template, world.params.get(template, world.params["*"]))
        answers[template] = (await world.admin.post(path, fields)).status_code

    assert {t: s for t, s in answers.items() if s != 400} == {}
    assert await snapshot(db) == before
    assert await world.admin.signed_in_as() == "root_admin"  # logout was refused too


@pytest.mark.parametrize(
    "instance", ["evil.example\n/", "evil.example:\u0663", "evil.example/\r\nX-Injected: 1"]
)
async def test_remote_follow_refuses_a_server_address_with_a_newline_or_foreign_digits(
    visitor: Visitor, db: Pool, web_config: Config, instance: str
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "voisins")

    response = await visitor.post("/groups/voisins/remote-follow", {"instance": instance})

    assert response.status_code == 422
    assert "location" not in response.headers and "x-injected" not in response.headers


# --- a signed peer sending what PostgreSQL cannot keep (each was a 500 after the signature) -----


def mallorys(kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{MALLORY}/activities/{secrets.token_hex(6)}",
        "type": kind,
        "actor": MALLORY,
        "object": obj,
        **extra,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"content": "a\\u0000b"', "NUL"),
        ('"x\\u0000": 1', "NUL"),
        ('"content": "\\ud800"', "lone surrogate"),
        ('"content": "\\udc00\\ud800"', "lone surrogate"),
        ('"rating": NaN', "NaN"),
        ('"rating": Infinity', "Infinity"),
        ('"rating": -Infinity', "Infinity"),
        ('"rating": 1e999', "out of range"),
        ('"rating": ' + "9" * 5000, "not JSON"),
    ],
    ids=["nul", "nul-in-key", "lone-surrogate", "reversed-pair", "nan", "infinity",
         "minus-infinity", "float-overflow", "int-of-5000-digits"],
)  # fmt: skip
async def test_signed_activity_with_unstorable_values_is_refused_before_storage(
    stage: Stage, body: str, message: str
) -> None:
    before = await snapshot(stage.db)
    activity = json.dumps(mallorys("Like", stage.replacements[LOCAL_POST]))
    raw = activity[:-1] + ", " + body + "}"

    reply = await send_as_mallory(stage, raw)

    assert (reply.status, message in reply.message) == (400, True), reply
    assert await snapshot(stage.db) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": f"{MALLORY}/activities/" + "x" * 3000}, "too long"),
        ({"id": f"{MALLORY}/" + "\u00e9" * 1500}, "too long"),  # 1,500 characters, 3,000 bytes
        ({"type": "Like" + "e" * 100}, "too long"),
        ({"type": "Undo", "object": {"type": "Like", "content": "x" * 4000}}, "Undo"),
        ({"type": "Undo", "object": [f"{MALLORY}/likes/1", f"{MALLORY}/likes/2"]}, "Undo"),
        ({"type": "Undo", "object": {"id": f"{MALLORY}/" + "y" * 3000}}, "Undo"),
    ],
    ids=["long-id", "long-id-in-bytes", "long-type", "undo-without-id", "undo-of-a-list",
         "undo-of-a-long-id"],
)  # fmt: skip
async def test_ids_too_long_for_an_index_are_refused_before_storage(
    stage: Stage, change: dict[str, Any], message: str
) -> None:
    before = await snapshot(stage.db)
    activity = mallorys("Like", stage.replacements[LOCAL_POST]) | change

    reply = await send_as_mallory(stage, activity)

    assert reply.status == 400 and message in reply.message, reply
    assert await snapshot(stage.db) == before


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "Note", "content": "<p>no id</p>"},
        {"type": "Note", "id": 42, "content": "<p>a number</p>"},
        {"type": "Note", "id": f"{MALLORY}/statuses/" + "z" * 3000, "content": "<p>long</p>"},
    ],
    ids=["no-id", "numeric-id", "id-too-long"],
)
async def test_update_or_create_of_a_note_without_a_usable_id_changes_nothing(
    stage: Stage, obj: dict[str, Any]
) -> None:
    for kind in ("Update", "Create"):
        before = await snapshot(stage.db)
        activity = mallorys(kind, {**obj, "inReplyTo": stage.replacements[LOCAL_POST]})
        assert (await send_as_mallory(stage, activity)).status == 202
        row_id = await stored_row(stage, activity["id"])
        assert row_id is not None

        outcome = await process_activity(stage.fed, row_id)  # once a KeyError for Update

        assert outcome.startswith(("failed", "refused", "ignored")), outcome
        after = await snapshot(stage.db)
        changed = {table for table in before if before[table] != after[table]}
        assert changed <= {"inbox_activities", "jobs"}, changed


def test_actor_document_whose_ids_do_not_fit_an_index_is_refused() -> None:
    actor = person_document("https://peer.example/users/eve", "eve", "PEM")
    assert parse_actor(actor).inbox == "https://peer.example/users/eve/inbox"
    for change in (
        {"id": "https://peer.example/users/" + "e" * 3000},
        {"inbox": "https://peer.example/inbox/" + "i" * 3000},
        {"publicKey": {**actor["publicKey"], "id": "https://peer.example/k#" + "k" * 3000}},
    ):
        with pytest.raises(FetchError):
            parse_actor(actor | change)
    long_shared = actor | {"endpoints": {"sharedInbox": "https://peer.example/" + "s" * 3000}}
    assert parse_actor(long_shared).shared_inbox is None


# --- handles on private addresses ---------------------------------------------------------------


async def test_handle_on_a_private_address_is_refused_before_any_request(
    db: Pool, config: Config
) -> None:
    assert config.allow_private_addresses is False
    fed = await open_federation(db, config)
    before = await snapshot(db)
    try:
        with fake_peers("127.0.0.33") as (peer,):
            peer.serve_json("/.well-known/webfinger", {"links": []})
            for handle in (
                f"alice@{peer.domain}",
                "@alice@127.0.0.1",
                "alice@169.254.169.254",
                "alice@[::1]",
                "alice@localhost",
                f"{peer.base}/users/alice",
            ):
                with pytest.raises(FetchError):
                    await resolve_handle(fed, handle)
            assert peer.received == []
    finally:
        await fed.close()
    assert await snapshot(db) == before
