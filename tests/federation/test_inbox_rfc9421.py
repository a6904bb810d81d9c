"""RFC 9421 signatures at the inbox, as Mastodon 4.7 and Fedify send them (double knock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.signatures import sign_request_rfc9421
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import FakeActor, FakePeer, fake_peers, seed_group, wait_processed


@pytest.fixture(scope="module")
def world(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, FakePeer, FakeActor]]:
    tmp: Path = tmp_path_factory.mktemp("rfc9421")
    with live_instances(tmp, count=1) as (instance,), fake_peers("127.0.0.51") as (peer,):
        actor = peer.add_actor("/users/lea", "lea")
        yield instance, peer, actor


def _post(url: str, activity: dict[str, Any], actor: FakeActor, key: str | None = None) -> int:
    body = json.dumps(activity).encode()
    headers = sign_request_rfc9421(
        "POST",
        url,
        {"Content-Type": "application/activity+json"},
        body,
        actor.key_id,
        key or actor.private_key_pem,
    )
    return httpx.post(url, content=body, headers=headers, timeout=10).status_code


def test_follow_signed_with_rfc9421_is_verified_and_processed(
    world: tuple[LiveInstance, FakePeer, FakeActor],
) -> None:
    instance, _peer, actor = world
    group = seed_group(instance, "rfc", "Bienvenue")
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}#follows/1",
        "type": "Follow",
        "actor": actor.uri,
        "object": group.uri,
    }
    assert _post(f"{instance.base_url}/groups/rfc/inbox", follow, actor) == 202
    assert wait_processed(instance.database_url, follow["id"]) == "accepted"


def test_rfc9421_signature_by_another_key_is_refused_and_nothing_stored(
    world: tuple[LiveInstance, FakePeer, FakeActor],
) -> None:
    from tests.federation.remote import generate_rsa_pem

    instance, _peer, actor = world
    other_private, _ = generate_rsa_pem()
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}#likes/forged",
        "type": "Like",
        "actor": actor.uri,
        "object": f"{instance.base_url}/posts/1",
    }
    # 401 tells a double-knocking peer to try again with draft-cavage.
    assert _post(f"{instance.base_url}/inbox", like, actor, key=other_private) == 401
    stored = instance.sql("SELECT 1 FROM inbox_activities WHERE activity_id = $1", like["id"])
    assert stored == []


@pytest.mark.parametrize(
    "components",
    [
        ["@method", "@target-uri", "content-digest"],
        ["@method", "@authority", "@path", "content-digest"],
    ],
    ids=["target-uri", "authority"],
)
def test_rfc9421_signature_for_another_authority_is_refused_and_nothing_stored(
    world: tuple[LiveInstance, FakePeer, FakeActor], components: list[str]
) -> None:
    instance, _peer, actor = world
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}#likes/elsewhere-{components[1][1:]}",
        "type": "Like",
        "actor": actor.uri,
        "object": f"{instance.base_url}/posts/1",
    }
    body = json.dumps(like).encode()
    # A valid signature whose @target-uri and @authority name another server, replayed here.
    headers = sign_request_rfc9421(
        "POST",
        "http://evil.example/inbox",
        {"Content-Type": "application/activity+json", "Host": "evil.example"},
        body,
        actor.key_id,
        actor.private_key_pem,
        components=components,
    )
    response = httpx.post(f"{instance.base_url}/inbox", content=body, headers=headers, timeout=10)
    assert response.status_code == 421
    assert "another host" in response.json()["error"]
    stored = instance.sql("SELECT 1 FROM inbox_activities WHERE activity_id = $1", like["id"])
    assert stored == []
