"""The inbox's memory of key owners (federation/known.py): rotation and changes.

One live instance and one fake peer; the instance remembers who owns a key for a minute, and
must still follow a key that changed (fetched again on a failed signature) or an actor's Update.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation import known
from federation.known import KnownActors
from server.models import Actor
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    fake_peers,
    generate_rsa_pem,
    seed_group,
    wait_processed,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def peer() -> Iterator[FakePeer]:
    with fake_peers("127.0.0.33") as (fake,):
        yield fake


@pytest.fixture(scope="module")
def instance(
    pg_server: Any, peer: FakePeer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveInstance]:
    with live_instances(tmp_path_factory.mktemp("keys"), count=1) as (instance,):
        yield instance


@pytest.fixture(scope="module")
def url(instance: LiveInstance) -> str:
    """A local post the actors like."""
    return seed_group(instance, "drills", "Who has a drill?").post_url


def like(actor: FakeActor, url: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/likes/{secrets.token_hex(8)}",
        "type": "Like",
        "actor": actor.uri,
        "object": url,
    }


def send(instance: LiveInstance, actor: FakeActor, activity: dict[str, Any]) -> int:
    body = json.dumps(activity).encode()
    url = f"{instance.base_url}/inbox"
    return httpx.post(url, content=body, headers=actor.sign(url, body), timeout=15).status_code


def test_inbox_follows_a_key_rotated_after_it_was_remembered(
    instance: LiveInstance, peer: FakePeer, url: str
) -> None:
    old = peer.add_actor("/users/rotating", "rotating")
    assert send(instance, old, like(old, url)) == 202  # fetched, then remembered
    new = peer.add_actor("/users/rotating", "rotating")  # same actor, a new key served
    fetched = peer.hits("/users/rotating")
    assert send(instance, new, like(new, url)) == 202
    assert peer.hits("/users/rotating") == fetched + 1  # the failed signature refetched it
    # The old key is no longer the actor's: what it signs now is refused.
    assert send(instance, old, like(old, url)) == 401


def test_inbox_forgets_an_actor_once_its_update_is_processed(
    instance: LiveInstance, peer: FakePeer, url: str
) -> None:
    old = peer.add_actor("/users/updating", "updating")
    assert send(instance, old, like(old, url)) == 202
    # The actor announces a new key in an Update signed with the old one; its served document
    # keeps the old key, so only the processed Update can teach the instance the new one.
    new = FakeActor(old.uri, old.key_id, *generate_rsa_pem())
    document = json.loads(json.dumps(old.document))
    document["publicKey"]["publicKeyPem"] = new.public_key_pem
    update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{old.uri}#updates/{secrets.token_hex(4)}",
        "type": "Update",
        "actor": old.uri,
        "object": document,
    }
    assert send(instance, old, update) == 202
    assert wait_processed(instance.database_url, update["id"]) == "actor refreshed"
    fetched = peer.hits("/users/updating")
    assert send(instance, new, like(new, url)) == 202
    assert peer.hits("/users/updating") == fetched  # read from the database, not remembered


def actor(actor_id: int) -> Actor:
    return Actor(
        id=actor_id,
        uri=f"https://peer.example/users/a{actor_id}",
        kind="person",
        name=f"a{actor_id}",
        domain="peer.example",
        display_name="A",
        summary_html="",
        avatar=None,
        url=None,
        inbox="https://peer.example/inbox",
        shared_inbox=None,
        outbox=None,
        followers_uri=None,
        key_id=f"https://peer.example/users/a{actor_id}#main-key",
        public_key_pem="",
        private_key_pem=None,
        manually_approves=False,
        created_at=EPOCH,
        updated_at=EPOCH,
    )


def test_key_owners_are_forgotten_after_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(known.time, "monotonic", lambda: now[0])
    owners = KnownActors()
    owners.put("k1", actor(1))
    now[0] += known.KEY_OWNER_SECONDS - 1
    assert owners.get("k1") == actor(1)
    now[0] += 2
    assert owners.get("k1") is None


def test_key_owners_keep_the_newest_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known, "KEY_OWNERS_MAX", 3)
    owners = KnownActors()
    for i in range(5):
        owners.put(f"k{i}", actor(i))
    assert [owners.get(f"k{i}") is not None for i in range(5)] == [False, False, True, True, True]
    owners.put_actor(actor(3))
    assert owners.get_actor(str(actor(3).uri)) == actor(3)
    owners.forget(actor(3))  # an Update or Delete of the actor was processed
    assert owners.get("k3") is None
    assert owners.get_actor(str(actor(3).uri)) is None
    assert owners.get("k4") == actor(4)
