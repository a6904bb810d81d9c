"""Hostile peers against the real inbox, over real HTTP: each attack is answered, nothing stored.

One live instance (127.0.0.2) and one fake remote server (127.0.0.31) serving Alice, Mallory and
a few booby-trapped documents. Each case compares a snapshot of the instance's database (row
counts and contents of inbox_activities, jobs, actors, posts, follows, likes) before and after.
Cases that pass the inbox (202) are then processed by the instance's own worker, and must end
refused, failed or ignored without changing anything but their own inbox row.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from federation.context import Federation, open_federation
from federation.fetch import FetchError
from federation.outgoing import post_tags
from federation.remote_actors import get_actor, get_key_owner
from federation.signatures import CavageSignature, cavage_signing_string, digest_header
from server.config import Config
from server.db import Pool
from tests.factories import snapshot as snapshot_db
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    LocalGroup,
    fake_peers,
    person_document,
    seed_group,
    snapshot,
    wait_processed,
    wait_quiet,
)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
TEN_MB = 10 * 1024 * 1024
REFUSALS = ("refused", "failed", "ignored")


@dataclass
class World:
    instance: LiveInstance
    peer: FakePeer
    client: httpx.Client
    group: LocalGroup
    alice: FakeActor
    mallory: FakeActor
    alice_note: str = ""  # a reply by Alice, kept in the group's thread

    @property
    def inbox(self) -> str:
        return f"{self.instance.base_url}/inbox"

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        wait_quiet(self.instance.database_url)
        return snapshot(self.instance.database_url)

    def post_raw(
        self, body: bytes, headers: dict[str, str], url: str | None = None
    ) -> httpx.Response:
        return self.client.post(url or self.inbox, content=body, headers=headers)

    def send(
        self,
        actor: FakeActor,
        activity: dict[str, Any],
        *,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST an activity signed by `actor`, as Mastodon signs it."""
        body = json.dumps(activity).encode()
        url = url or self.inbox
        return self.post_raw(body, actor.sign(url, body, headers), url)


def new_activity(actor: FakeActor, type: str, obj: Any, **extra: Any) -> dict[str, Any]:
    """Return an activity by `actor` with a fresh id on the actor's host."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/activities/{secrets.token_hex(8)}",
        "type": type,
        "actor": actor.uri,
        "object": obj,
        **extra,
    }


def note(actor: FakeActor, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{actor.uri}/statuses/{secrets.token_hex(6)}",
        "type": "Note",
        "attributedTo": actor.uri,
        "content": content,
        "to": [PUBLIC],
        **extra,
    }


def serve_traps(peer: FakePeer) -> None:
    """Serve the documents that hostile cases point the instance at."""
    loop = f"{peer.base}/users/loop"

    def redirect_to_itself(_request: Request) -> Response:
        return Response(status_code=302, headers={"Location": loop})

    def huge(_request: Request) -> Response:
        body = b'{"id": "' + peer.base.encode() + b'/users/huge", "pad": "'
        return Response(body + b"a" * TEN_MB + b'"}', media_type="application/activity+json")

    def huge_streamed(_request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"id": "' + peer.base.encode() + b'/users/endless", "pad": "'
            for _ in range(TEN_MB // 65536):
                yield b"a" * 65536
            yield b'"}'

        # No Content-Length: the instance must stop reading by itself.
        return StreamingResponse(chunks(), media_type="application/activity+json")

    peer.serve("/users/loop", redirect_to_itself)
    peer.serve("/users/huge", huge)
    peer.serve("/users/endless", huge_streamed)


@pytest.fixture(scope="module")
def peer() -> Iterator[FakePeer]:
    with fake_peers("127.0.0.31") as (fake,):
        serve_traps(fake)
        yield fake


@pytest.fixture(scope="module")
def world(
    pg_server: Any, peer: FakePeer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with (
        live_instances(tmp_path_factory.mktemp("hostile"), count=1) as (instance,),
        httpx.Client(timeout=15) as client,
    ):
        group = seed_group(instance, "voisins", "Who can lend a ladder on Saturday?")
        alice = peer.add_actor("/users/alice", "alice")
        mallory = peer.add_actor("/users/mallory", "mallory")
        world = World(instance, peer, client, group, alice, mallory)
        # Both are known to the instance before the attacks: a legitimate reply by Alice and a
        # like by Mallory, so that a later key lookup needs no first fetch.
        reply = note(alice, "<p>I can!</p>", inReplyTo=group.post_url, cc=[group.uri])
        create = new_activity(alice, "Create", reply, to=[PUBLIC], cc=[group.uri])
        like = new_activity(mallory, "Like", group.post_url)
        for actor, activity in ((alice, create), (mallory, like)):
            assert world.send(actor, activity).status_code == 202
            assert not wait_processed(instance.database_url, activity["id"]).startswith(REFUSALS)
        assert instance.sql("SELECT 1 FROM posts WHERE uri = $1", reply["id"])
        world.alice_note = reply["id"]
        yield world


def assert_only_inbox_row_added(
    before: dict[str, list[dict[str, Any]]],
    after: dict[str, list[dict[str, Any]]],
    activity_id: str,
) -> None:
    """Everything is as before, but for the one stored activity (kept with its outcome)."""
    added = after["inbox_activities"][len(before["inbox_activities"]) :]
    assert [row["activity_id"] for row in added] == [activity_id]
    assert (
        after["inbox_activities"][: len(before["inbox_activities"])] == before["inbox_activities"]
    )
    for table in ("jobs", "actors", "posts", "follows", "likes"):
        assert after[table] == before[table], table


def refused_in_processing(world: World, actor: FakeActor, activity: dict[str, Any]) -> str:
    """Send an activity that passes the inbox; return the worker's outcome, nothing changed."""
    before = world.snapshot()
    response = world.send(actor, activity)
    assert response.status_code == 202, response.text
    outcome = wait_processed(world.instance.database_url, activity["id"])
    assert outcome.startswith(REFUSALS), outcome
    assert_only_inbox_row_added(before, world.snapshot(), activity["id"])
    return outcome


def refused_at_the_door(
    world: World, response: httpx.Response, status: int, before: Any, reason: str
) -> None:
    """The inbox answered `status` for `reason` (its message to the peer), and stored nothing."""
    assert response.status_code == status, response.text
    assert reason in response.json()["error"], response.text
    assert snapshot(world.instance.database_url) == before


def sign_raw(
    actor: FakeActor,
    url: str,
    headers: dict[str, str],
    covered: list[str],
    *,
    algorithm: str = "rsa-sha256",
) -> dict[str, str]:
    """Sign exactly the `covered` headers (sign_request always covers digest: attacks don't)."""
    parts = urlsplit(url)
    signed = {"Host": parts.netloc, "Date": format_datetime(datetime.now(UTC), usegmt=True)}
    signed.update(headers)
    template = CavageSignature(actor.key_id, algorithm, covered, b"")
    text = cavage_signing_string("POST", parts.path, signed, template)
    key = serialization.load_pem_private_key(actor.private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    value = base64.b64encode(key.sign(text, padding.PKCS1v15(), hashes.SHA256())).decode()
    signed["Signature"] = (
        f'keyId="{actor.key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{value}"'
    )
    return signed


# --- refused at the door: signatures ------------------------------------------------------


def test_unsigned_post_is_refused(world: World) -> None:
    before = world.snapshot()
    body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    response = world.post_raw(body, {"Content-Type": "application/activity+json"})
    refused_at_the_door(world, response, 401, before, "not signed")


def test_unsigned_post_to_a_group_inbox_is_refused(world: World) -> None:
    before = world.snapshot()
    body = json.dumps(new_activity(world.alice, "Follow", world.group.uri)).encode()
    url = f"{world.group.uri}/inbox"
    response = world.post_raw(body, {"Content-Type": "application/activity+json"}, url)
    refused_at_the_door(world, response, 401, before, "not signed")


def test_activity_signed_by_another_actor_is_refused(world: World) -> None:
    before = world.snapshot()
    # Mallory's valid signature over an activity claiming to be Alice's.
    forged = new_activity(world.alice, "Like", world.group.post_url)
    response = world.send(world.mallory, forged)
    refused_at_the_door(world, response, 401, before, "owner is not the activity's actor")


def unserved_actor(world: World, name: str) -> FakeActor:
    """An actor holding Mallory's key, whose document the peer does not serve (404)."""
    uri = f"{world.peer.base}/users/{name}"
    return FakeActor(
        uri, f"{uri}#main-key", world.mallory.private_key_pem, world.mallory.public_key_pem
    )


def test_unknown_key_id_is_refused(world: World) -> None:
    before = world.snapshot()
    ghost = unserved_actor(world, "ghost")
    response = world.send(ghost, new_activity(ghost, "Follow", world.group.uri))
    refused_at_the_door(world, response, 401, before, "Peer answered 404")
    assert world.peer.hits("/users/ghost") >= 1  # it was looked up, and is 404 at its origin


def test_digest_that_does_not_match_the_body_is_refused(world: World) -> None:
    before = world.snapshot()
    body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    headers = world.alice.sign(world.inbox, body, {"Digest": digest_header(b"something else")})
    refused_at_the_door(world, world.post_raw(body, headers), 401, before, "does not match")


def test_signature_that_leaves_out_the_digest_is_refused(world: World) -> None:
    before = world.snapshot()
    signed_body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    headers = sign_raw(
        world.alice,
        world.inbox,
        {"Content-Type": "application/activity+json", "Digest": digest_header(signed_body)},
        ["(request-target)", "host", "date"],
    )
    # The signature does not pin the body: a man in the middle swaps it, Digest and all.
    swapped = json.dumps(new_activity(world.alice, "Delete", world.alice_note)).encode()
    headers["Digest"] = digest_header(swapped)
    response = world.post_raw(swapped, headers)
    refused_at_the_door(world, response, 401, before, "must cover digest")


@pytest.mark.parametrize("host", ["evil.example", "{netloc}.evil.example", "{hostname}:1"])
def test_signature_made_for_another_host_is_refused(world: World, host: str) -> None:
    before = world.snapshot()
    parts = urlsplit(world.inbox)
    host = host.format(netloc=parts.netloc, hostname=parts.hostname)
    # Alice's valid signature, made for a request to another server, replayed here.
    activity = new_activity(world.alice, "Like", world.group.post_url)
    response = world.send(world.alice, activity, headers={"Host": host})
    refused_at_the_door(world, response, 421, before, "addressed to another host")


def test_forwarded_host_of_a_trusted_proxy_decides_which_host_was_addressed(world: World) -> None:
    # The test client is on loopback, which ENTRAIDE_TRUSTED_PROXIES trusts by default: it
    # plays a proxy that rewrites Host and keeps the client's in X-Forwarded-Host.
    own = urlsplit(world.inbox).netloc
    before = world.snapshot()
    activity = new_activity(world.alice, "Like", world.group.post_url)
    body = json.dumps(activity).encode()
    headers = world.alice.sign(world.inbox, body, {"Host": "evil.example"})
    headers["X-Forwarded-Host"] = own
    headers["Host"] = "entraide-upstream:8000"
    # Signed for evil.example, forwarded as addressed to us: the signature does not cover it.
    refused_at_the_door(world, world.post_raw(body, headers), 401, before, "")
    headers = world.alice.sign(world.inbox, body, {"Host": own})
    headers.update({"Host": "entraide-upstream:8000", "X-Forwarded-Host": own})
    assert world.post_raw(body, headers).status_code == 202
    assert wait_processed(world.instance.database_url, activity["id"]) == "liked"
    liked = world.snapshot()
    headers = world.alice.sign(world.inbox, body, {"Host": own})
    headers["X-Forwarded-Host"] = "evil.example"
    refused_at_the_door(world, world.post_raw(body, headers), 421, liked, "another host")


def test_request_for_another_host_is_refused_before_its_key_is_fetched(world: World) -> None:
    before = world.snapshot()
    stranger = unserved_actor(world, "stranger")
    activity = new_activity(stranger, "Follow", world.group.uri)
    response = world.send(stranger, activity, headers={"Host": "evil.example"})
    refused_at_the_door(world, response, 421, before, "addressed to another host")
    assert world.peer.hits("/users/stranger") == 0


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=2)], ids=["old", "future"])
def test_date_two_hours_away_is_refused(world: World, offset: timedelta) -> None:
    before = world.snapshot()
    date = format_datetime(datetime.now(UTC) + offset, usegmt=True)
    activity = new_activity(world.alice, "Like", world.group.post_url)
    response = world.send(world.alice, activity, headers={"Date": date})
    refused_at_the_door(world, response, 401, before, "outside acceptable time window")


def test_hs2019_signature_of_garbage_is_refused(world: World) -> None:
    before = world.snapshot()
    body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    headers = world.alice.sign(world.inbox, body)
    garbage = base64.b64encode(secrets.token_bytes(256)).decode()
    headers["Signature"] = (
        f'keyId="{world.alice.key_id}",algorithm="hs2019",'
        f'headers="(request-target) host date digest",signature="{garbage}"'
    )
    refused_at_the_door(world, world.post_raw(body, headers), 401, before, "does not verify")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("garbage", "Malformed"),
        ('keyId="{key}",signature', "Malformed"),
        (
            'keyId="{key}",keyId="{key}",headers="(request-target) host date digest",'
            'signature="AA=="',
            "Duplicate keyId",
        ),
        (
            'keyId="{key}",headers="(request-target) host date digest",signature="not base64!"',
            "not valid base64",
        ),
        (
            'keyId="{key}",algorithm="hmac-sha256",headers="(request-target) host date digest",'
            'signature="AA=="',
            "Unsupported algorithm",
        ),
    ],
    ids=["garbage", "unfinished", "duplicate-keyid", "bad-base64", "unknown-algorithm"],
)
def test_malformed_signature_header_is_refused(world: World, value: str, reason: str) -> None:
    before = world.snapshot()
    body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    headers = world.alice.sign(world.inbox, body)
    headers["Signature"] = value.replace("{key}", world.alice.key_id)
    refused_at_the_door(world, world.post_raw(body, headers), 401, before, reason)


def test_key_document_owned_by_another_actor_is_refused(world: World) -> None:
    # A bare key document that says its owner is Alice, holding Mallory's public key.
    key_uri = f"{world.peer.base}/keys/mallory-as-alice"
    world.peer.serve_json(
        "/keys/mallory-as-alice",
        {
            "@context": "https://w3id.org/security/v1",
            "id": key_uri,
            "type": "Key",
            "owner": world.alice.uri,
            "publicKeyPem": world.mallory.public_key_pem,
        },
    )
    forger = FakeActor(world.alice.uri, key_uri, world.mallory.private_key_pem, "")
    before = world.snapshot()
    response = world.send(forger, new_activity(world.alice, "Delete", world.alice_note))
    refused_at_the_door(world, response, 401, before, "Not an actor document")


def test_actor_whose_key_names_another_owner_is_refused(world: World) -> None:
    # An actor document whose only key claims to belong to Alice.
    impostor = world.peer.add_actor("/users/impostor", "impostor")
    impostor.document["publicKey"]["owner"] = world.alice.uri
    world.peer.serve_json("/users/impostor", impostor.document)
    before = world.snapshot()
    response = world.send(impostor, new_activity(world.alice, "Delete", world.alice_note))
    refused_at_the_door(world, response, 401, before, "no usable publicKey")
    response = world.send(impostor, new_activity(impostor, "Follow", world.group.uri))
    refused_at_the_door(world, response, 401, before, "no usable publicKey")


# --- refused at the door: the actor's document cannot be had -------------------------------


def test_actor_url_redirecting_to_itself_is_refused(world: World) -> None:
    loop = FakeActor(
        f"{world.peer.base}/users/loop",
        f"{world.peer.base}/users/loop#main-key",
        world.mallory.private_key_pem,
        "",
    )
    before = world.snapshot()
    response = world.send(loop, new_activity(loop, "Follow", world.group.uri))
    refused_at_the_door(world, response, 401, before, "Too many redirects")
    assert 1 <= world.peer.hits("/users/loop") <= 5  # the redirects are bounded


@pytest.mark.parametrize("path", ["/users/huge", "/users/endless"], ids=["sized", "streamed"])
def test_ten_megabyte_actor_document_is_refused(world: World, path: str) -> None:
    actor = FakeActor(
        world.peer.base + path,
        f"{world.peer.base}{path}#main-key",
        world.mallory.private_key_pem,
        "",
    )
    before = world.snapshot()
    response = world.send(actor, new_activity(actor, "Follow", world.group.uri))
    refused_at_the_door(world, response, 401, before, "too large")


async def test_actor_on_a_private_address_is_not_fetched(
    db: Pool, config: Config, peer: FakePeer
) -> None:
    """With private addresses refused (the default), no fetch leaves for them."""
    assert config.allow_private_addresses is False
    fed: Federation = await open_federation(db, config)
    try:
        before = await snapshot_db(db)
        hits = len(peer.received)
        for url in (
            f"{peer.base}/users/alice",  # the peer itself, on plain http
            f"https://{peer.domain}/users/alice",
            "https://127.0.0.1/users/alice",
            "https://localhost/users/alice",
            "https://10.1.2.3/users/alice",
            "https://192.168.0.1/users/alice",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/users/alice",
            "https://[::ffff:127.0.0.1]/users/alice",
            "https://2130706433/users/alice",  # 127.0.0.1 as one decimal number
            "https://0x7f.1/users/alice",
            "file:///etc/passwd",
            "https://user:secret@127.0.0.1/users/alice",
        ):
            with pytest.raises(FetchError):
                await get_actor(fed, url)
            with pytest.raises(FetchError):
                await get_key_owner(fed, f"{url}#main-key")
        assert await snapshot_db(db) == before
        assert len(peer.received) == hits
    finally:
        await fed.close()


async def test_a_mention_of_a_handle_on_a_private_address_is_not_looked_up(
    db: Pool, config: Config, peer: FakePeer
) -> None:
    """A post naming @alice@<private host> gets no Mention tag and sends nothing there."""
    assert config.allow_private_addresses is False
    fed: Federation = await open_federation(db, config)
    try:
        before = await snapshot_db(db)
        hits = len(peer.received)
        content = (
            f"Bonjour @alice@{peer.domain}, @bob@127.0.0.1, @eve@169.254.169.254 "
            "et @mallory@10.1.2.3:8080"
        )
        tags, inboxes, mentioned = await post_tags(fed, content, resolve=True)
        assert (tags, inboxes, mentioned) == ([], [], [])
        assert await snapshot_db(db) == before
        assert len(peer.received) == hits
    finally:
        await fed.close()


# --- refused at the door: the body -----------------------------------------------------------


def test_body_over_one_megabyte_is_refused(world: World) -> None:
    activity = note(world.alice, "<p>" + "a" * (1024 * 1024) + "</p>")
    before = world.snapshot()
    response = world.send(world.alice, new_activity(world.alice, "Create", activity))
    refused_at_the_door(world, response, 413, before, "larger than 1 MB")


def test_body_over_one_megabyte_without_length_is_refused(world: World) -> None:
    body = json.dumps(new_activity(world.alice, "Create", note(world.alice, "a" * 1100_000)))
    headers = world.alice.sign(world.inbox, body.encode())

    def chunks() -> Iterator[bytes]:
        data = body.encode()
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    before = world.snapshot()
    try:
        response = world.client.post(world.inbox, content=chunks(), headers=headers)
    except httpx.WriteError:  # the instance answered and closed before the upload ended
        status = 413
    else:
        status = response.status_code
        assert "content-length" not in {k.lower() for k in response.request.headers}
    assert status == 413
    assert snapshot(world.instance.database_url) == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not JSON", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (b'["Like"]', "not a JSON object"),
        (b'"Like"', "not a JSON object"),
        (b"{" * 3 + b"}", "not JSON"),
    ],
    ids=["text", "not-utf8", "array", "string", "unbalanced"],
)
def test_body_that_is_not_a_json_object_is_refused(world: World, body: bytes, reason: str) -> None:
    before = world.snapshot()
    response = world.post_raw(body, world.alice.sign(world.inbox, body))
    refused_at_the_door(world, response, 400, before, reason)


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deeply_nested_json_is_refused_without_crashing(world: World, depth: int) -> None:
    before = world.snapshot()
    activity = new_activity(world.alice, "Like", world.group.post_url)
    for nested in (
        json.dumps(activity)[:-1] + ', "tag": ' + "[" * depth + "]" * depth + "}",
        json.dumps(activity)[:-1] + ', "tag": ' + '{"a":' * depth + "1" + "}" * depth + "}",
    ):
        body = nested.encode()
        response = world.post_raw(body, world.alice.sign(world.inbox, body))
        refused_at_the_door(world, response, 400, before, "nested too deeply")
    # Still serving, still the same process.
    assert world.instance.process is not None and world.instance.process.poll() is None
    assert world.client.get(f"{world.instance.base_url}/nodeinfo/2.0").status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html", ""]
)
def test_wrong_content_type_is_refused(world: World, content_type: str) -> None:
    body = json.dumps(new_activity(world.alice, "Like", world.group.post_url)).encode()
    headers = world.alice.sign(world.inbox, body, {"Content-Type": content_type})
    before = world.snapshot()
    refused_at_the_door(world, world.post_raw(body, headers), 415, before, "Content-Type")


def test_activity_without_actor_is_refused(world: World) -> None:
    activity = new_activity(world.alice, "Like", world.group.post_url)
    del activity["actor"]
    before = world.snapshot()
    response = world.send(world.alice, activity)
    refused_at_the_door(world, response, 400, before, "needs id, type and actor")


def test_activity_id_on_another_host_than_its_actor_is_refused(world: World) -> None:
    activity = new_activity(world.alice, "Like", world.group.post_url)
    activity["id"] = "http://127.0.0.99:4000/activities/borrowed"
    before = world.snapshot()
    response = world.send(world.alice, activity)
    refused_at_the_door(world, response, 400, before, "not on the actor's host")


# --- replays -------------------------------------------------------------------------------


def test_replayed_activity_is_stored_once(world: World) -> None:
    activity = new_activity(world.alice, "Like", world.group.post_url)
    assert world.send(world.alice, activity).status_code == 202
    assert wait_processed(world.instance.database_url, activity["id"]) == "liked"
    before = world.snapshot()
    # The same activity again, freshly signed (a peer retrying, or someone replaying it).
    assert world.send(world.alice, activity).status_code == 202
    assert world.snapshot() == before
    rows = world.instance.sql(
        "SELECT count(*) AS n FROM inbox_activities WHERE activity_id = $1", activity["id"]
    )
    assert rows[0]["n"] == 1


# --- passed the door, refused in processing -------------------------------------------------


def alice_replies(world: World, content: str) -> str:
    """Have Alice answer the group's post; return the URI of her reply, now kept here."""
    reply = note(world.alice, content, inReplyTo=world.group.post_url, cc=[world.group.uri])
    create = new_activity(world.alice, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    assert world.send(world.alice, create).status_code == 202
    assert wait_processed(world.instance.database_url, create["id"]).startswith("stored post")
    return str(reply["id"])


def test_delete_of_someone_elses_post_is_refused(world: World) -> None:
    target = alice_replies(world, "<p>Saturday works for me.</p>")
    activity = new_activity(world.mallory, "Delete", {"id": target, "type": "Tombstone"})
    outcome = refused_in_processing(world, world.mallory, activity)
    assert outcome.startswith("refused")
    rows = world.instance.sql("SELECT deleted_at, content_html FROM posts WHERE uri = $1", target)
    assert rows[0]["deleted_at"] is None and "Saturday works" in rows[0]["content_html"]


def test_delete_of_a_local_post_is_refused(world: World) -> None:
    activity = new_activity(world.mallory, "Delete", world.group.post_url)
    refused_in_processing(world, world.mallory, activity)
    rows = world.instance.sql("SELECT deleted_at FROM posts WHERE id = $1", world.group.post_id)
    assert rows[0]["deleted_at"] is None


def test_delete_of_another_actor_is_refused(world: World) -> None:
    activity = new_activity(world.mallory, "Delete", world.alice.uri)
    refused_in_processing(world, world.mallory, activity)
    assert world.instance.sql("SELECT 1 FROM actors WHERE uri = $1", world.alice.uri)


def test_update_of_someone_elses_post_is_refused(world: World) -> None:
    target = alice_replies(world, "<p>I have a ladder too.</p>")
    edited = note(world.alice, "<p>Mallory was here</p>", inReplyTo=world.group.post_url)
    edited["id"] = target
    outcome = refused_in_processing(
        world, world.mallory, new_activity(world.mallory, "Update", edited)
    )
    assert outcome.startswith("refused")
    rows = world.instance.sql("SELECT content_html FROM posts WHERE uri = $1", target)
    assert "ladder too" in rows[0]["content_html"]


def test_update_of_a_local_post_is_refused(world: World) -> None:
    edited = {"id": world.group.post_url, "type": "Note", "content": "<p>defaced</p>"}
    refused_in_processing(world, world.mallory, new_activity(world.mallory, "Update", edited))


def test_update_of_another_actor_is_ignored(world: World) -> None:
    profile = dict(world.alice.document)
    profile["name"] = "Alice (hacked)"
    profile["publicKey"] = {**profile["publicKey"], "publicKeyPem": world.mallory.public_key_pem}
    refused_in_processing(world, world.mallory, new_activity(world.mallory, "Update", profile))


def alice_replies_and_serves(world: World, content: str) -> dict[str, Any]:
    """Have Alice answer the group's post, her server serving the reply; return the reply."""
    reply = note(world.alice, content, inReplyTo=world.group.post_url, cc=[world.group.uri])
    create = new_activity(world.alice, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    world.peer.serve_json(urlsplit(reply["id"]).path, reply)
    assert world.send(world.alice, create).status_code == 202
    assert wait_processed(world.instance.database_url, create["id"]).startswith("stored post")
    return reply


def test_announce_of_someone_elses_delete_of_a_served_post_changes_nothing(world: World) -> None:
    reply = alice_replies_and_serves(world, "<p>I can bring the soup.</p>")
    # Mallory relays a Delete in Alice's name; Alice's server still serves the reply.
    delete = new_activity(world.alice, "Delete", reply["id"])
    announce = new_activity(world.mallory, "Announce", delete, to=[PUBLIC])
    outcome = refused_in_processing(world, world.mallory, announce)
    assert outcome == "ignored: the origin still serves the post"
    rows = world.instance.sql(
        "SELECT updated_at, deleted_at FROM posts WHERE uri = $1", reply["id"]
    )
    assert rows == [{"updated_at": None, "deleted_at": None}]


@pytest.mark.parametrize("sender", ["alice", "mallory"])
def test_update_that_brings_the_same_text_is_no_edit(world: World, sender: str) -> None:
    reply = alice_replies_and_serves(world, "<p>See you at eight.</p>")
    update = new_activity(world.alice, "Update", dict(reply))
    actor = world.alice
    if sender == "mallory":  # a stranger relays it: the post is fetched again, unchanged
        actor, update = world.mallory, new_activity(world.mallory, "Announce", update)
    before = world.snapshot()
    assert world.send(actor, update).status_code == 202
    outcome = wait_processed(world.instance.database_url, update["id"])
    assert outcome.startswith("unchanged post"), outcome
    assert_only_inbox_row_added(before, world.snapshot(), update["id"])
    rows = world.instance.sql("SELECT updated_at FROM posts WHERE uri = $1", reply["id"])
    assert rows == [{"updated_at": None}]


def test_announce_of_an_object_its_origin_does_not_serve_stores_nothing(world: World) -> None:
    missing = f"{world.peer.base}/users/mallory/statuses/never-written"
    activity = new_activity(world.mallory, "Announce", missing, to=[PUBLIC])
    assert refused_in_processing(world, world.mallory, activity).startswith("failed")
    assert world.peer.hits("/users/mallory/statuses/never-written") >= 1


def test_announce_of_an_embedded_copy_is_not_trusted(world: World) -> None:
    # The embedded object says Alice wrote it; its origin has never heard of it.
    fake = note(world.alice, "<p>Alice never said this</p>", inReplyTo=world.group.post_url)
    activity = new_activity(world.mallory, "Announce", fake, to=[PUBLIC])
    refused_in_processing(world, world.mallory, activity)


def test_follow_of_a_missing_group_stores_no_follow(world: World) -> None:
    missing = f"{world.instance.base_url}/groups/nobody"
    outcome = refused_in_processing(
        world, world.mallory, new_activity(world.mallory, "Follow", missing)
    )
    assert outcome.startswith("refused")


def test_follow_of_a_remote_actor_stores_no_follow(world: World) -> None:
    refused_in_processing(
        world, world.mallory, new_activity(world.mallory, "Follow", world.alice.uri)
    )


@pytest.mark.parametrize(
    "attributed_to",
    ["alice", ["alice"], {"id": "alice", "type": "Person"}],
    ids=["string", "list", "object"],
)
def test_create_of_an_object_attributed_to_someone_else_is_refused(
    world: World, attributed_to: Any
) -> None:
    def alice(value: Any) -> Any:
        if value == "alice":
            return world.alice.uri
        if isinstance(value, list):
            return [alice(v) for v in value]
        if isinstance(value, dict):
            return {k: alice(v) for k, v in value.items()}
        return value

    reply = note(world.mallory, "<p>signed, Alice</p>", inReplyTo=world.group.post_url)
    reply["attributedTo"] = alice(attributed_to)
    activity = new_activity(world.mallory, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    assert refused_in_processing(world, world.mallory, activity).startswith("refused")


def test_create_of_an_object_on_another_host_is_refused(world: World) -> None:
    reply = note(world.mallory, "<p>from elsewhere</p>", inReplyTo=world.group.post_url)
    reply["id"] = "http://127.0.0.99:4000/statuses/1"
    activity = new_activity(world.mallory, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    assert refused_in_processing(world, world.mallory, activity).startswith("refused")


def test_undo_of_someone_elses_like_changes_nothing(world: World) -> None:
    like = new_activity(world.alice, "Like", alice_replies(world, "<p>Mine to like.</p>"))
    assert world.send(world.alice, like).status_code == 202
    assert wait_processed(world.instance.database_url, like["id"]) == "liked"
    undo = new_activity(world.mallory, "Undo", {**like, "actor": world.mallory.uri})
    before = world.snapshot()
    assert world.send(world.mallory, undo).status_code == 202
    outcome = wait_processed(world.instance.database_url, undo["id"])
    assert outcome == "no such like"
    assert_only_inbox_row_added(before, world.snapshot(), undo["id"])


# --- stored, but cleaned ---------------------------------------------------------------------


def test_reply_with_scripts_is_stored_sanitized(world: World) -> None:
    html = (
        '<p>Hello<script>alert("x")</script> <img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(2)">click</a> <a href="https://example.org/" onclick="steal()">'
        'ok</a></p><iframe src="javascript:alert(3)"></iframe>'
        '<p style="background:url(javascript:alert(4))" onmouseover="alert(5)">bye</p>'
    )
    reply = note(world.alice, html, inReplyTo=world.group.post_url, cc=[world.group.uri])
    activity = new_activity(world.alice, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    assert world.send(world.alice, activity).status_code == 202
    assert wait_processed(world.instance.database_url, activity["id"]).startswith("stored post")
    rows = world.instance.sql(
        "SELECT content_html, group_id, in_reply_to_id FROM posts WHERE uri = $1", reply["id"]
    )
    assert len(rows) == 1
    stored = rows[0]["content_html"].lower()
    for bad in ("<script", "onerror", "javascript:", "onclick", "<iframe", "onmouseover", "style="):
        assert bad not in stored, (bad, stored)
    assert "hello" in stored and "https://example.org/" in stored
    assert rows[0]["group_id"] == world.group.id
    assert rows[0]["in_reply_to_id"] == world.group.post_id


# --- names that would reorder the page ------------------------------------------------------


def test_names_with_direction_overrides_are_stored_clean_and_shown_isolated(world: World) -> None:
    # U+202E reverses what follows; U+2066 opens an isolate; U+200B hides in the handle.
    spoof = "\u202emallory\u2066 \u200badmin\u2069"
    document = person_document(f"{world.peer.base}/users/spoofer", "spoofer", "")
    document["preferredUsername"] = "spoo\u200bfer\u202e"
    document["name"] = spoof
    spoofer = world.peer.add_actor("/users/spoofer", "spoofer", document=document)
    reply = note(spoofer, "<p>\u202eredaolnwod</p>", inReplyTo=world.group.post_url)
    reply["cc"] = [world.group.uri]
    create = new_activity(spoofer, "Create", reply, to=[PUBLIC], cc=[world.group.uri])
    assert world.send(spoofer, create).status_code == 202
    assert wait_processed(world.instance.database_url, create["id"]).startswith("stored post")
    rows = world.instance.sql("SELECT name, display_name FROM actors WHERE uri = $1", spoofer.uri)
    assert rows == [{"name": "spoofer", "display_name": "mallory admin"}]
    post_id = world.instance.sql("SELECT id FROM posts WHERE uri = $1", reply["id"])[0]["id"]
    page = world.client.get(f"{world.instance.base_url}/posts/{post_id}").text
    assert "<bdi>mallory admin</bdi>" in page
    assert f"<bdi>@spoofer@{urlsplit(world.peer.base).netloc}</bdi>" in page
    # A post body keeps what its author wrote, isolated from the page around it.
    assert '<div class="content" dir="auto"><p>\u202eredaolnwod</p></div>' in page
