"""Mobilizations across three live instances: group A (instance 1) allied with B (instance 2),
B allied with C (instance 3). A's mobilization reaches B's and C's followers (a Mastodon-like
fake peer) through relays, once each, without looping; strangers make nobody relay anything."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.federation.instances import LiveInstance, Member, live_instances, wait_until
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    fake_peers,
    person_document,
    wait_processed,
    wait_quiet,
)
from tests.federation.test_live import browser

MOBILIZATION = {
    "what": "Rassemblement contre l'expulsion",
    "place": "12 rue des Lilas",
    "starts_at": "2099-06-01T08:00",
    "why": "Expulsion prévue à 9 h.",
    "how_to_help": "Venez nombreux.",
    "urgency": "critical",
}


@dataclass
class World:
    one: LiveInstance
    two: LiveInstance
    three: LiveInstance
    peer: FakePeer
    bob: FakeActor  # follows B and C from "Mastodon"
    mallory: FakeActor
    intruder: FakeActor  # a group no one here allied with
    client: httpx.Client
    organizers: dict[str, Member]

    def send(self, actor: FakeActor, activity: dict[str, Any], inbox: str) -> httpx.Response:
        body = json.dumps(activity).encode()
        return self.client.post(inbox, content=body, headers=actor.sign(inbox, body))


def group_uri(instance: LiveInstance, slug: str) -> str:
    return instance.actor_uri(slug, "groups")


def alliance_state(instance: LiveInstance, slug: str, ally_uri: str) -> str | None:
    rows = instance.sql(
        """
        SELECT al.state FROM alliances al JOIN actors g ON g.id = al.group_id
        JOIN actors a ON a.id = al.ally_id WHERE g.name = $1 AND a.uri = $2
        """,
        slug,
        ally_uri,
    )
    return str(rows[0]["state"]) if rows else None


def offer(world: World, frm: tuple[LiveInstance, str], to: tuple[LiveInstance, str]) -> None:
    """The organizers of `frm` offer an alliance to `to`, from their alliances page."""
    page = f"/groups/{frm[1]}/alliances"
    member = world.organizers[frm[1]]
    response = member.post_form(page, {"handle": f"@{to[1]}@{to[0].domain}"}, page=page)
    assert response.status_code == 303, response.text
    wait_until(lambda: alliance_state(to[0], to[1], group_uri(frm[0], frm[1])) == "requested")


def accept(world: World, frm: tuple[LiveInstance, str], to: tuple[LiveInstance, str]) -> None:
    """The organizers of `to` accept the alliance `frm` offered."""
    [ally] = to[0].sql("SELECT id FROM actors WHERE uri = $1", group_uri(frm[0], frm[1]))
    page = f"/groups/{to[1]}/alliances"
    response = world.organizers[to[1]].post_form(f"{page}/{ally['id']}/accept", {}, page=page)
    assert response.status_code == 303, response.text
    wait_until(lambda: alliance_state(frm[0], frm[1], group_uri(to[0], to[1])) == "accepted")


def follow(world: World, instance: LiveInstance, slug: str) -> None:
    target = group_uri(instance, slug)
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{world.bob.uri}#follows/{secrets.token_hex(4)}",
        "type": "Follow",
        "actor": world.bob.uri,
        "object": target,
    }
    assert world.send(world.bob, activity, f"{target}/inbox").status_code == 202
    wait_until(lambda: instance.sql("SELECT 1 FROM follows WHERE uri = $1", activity["id"]))


@pytest.fixture(scope="module")
def world(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        fake_peers("127.0.0.42") as (peer,),
        live_instances(tmp_path_factory.mktemp("mobilize"), 3) as (one, two, three),
        httpx.Client(timeout=15) as client,
    ):
        bob = peer.add_actor("/users/bob", "bob")
        mallory = peer.add_actor("/users/mallory", "mallory")
        intruder_doc = person_document(f"{peer.base}/groups/intrus", "intrus", "")
        intruder_doc["type"] = "Group"
        intruder = peer.add_actor("/groups/intrus", "intrus", document=intruder_doc)
        organizers = {}
        for instance, slug in ((one, "soutien"), (two, "voisins"), (three, "paroisse")):
            instance.create_user(f"orga_{slug}")
            instance.create_group(slug, f"orga_{slug}")
            organizers[slug] = browser(instance, f"orga_{slug}")
        yield World(one, two, three, peer, bob, mallory, intruder, client, organizers)


def test_alliance_accept_from_someone_not_of_that_group_changes_nothing(world: World) -> None:
    a, b = (world.one, "soutien"), (world.two, "voisins")
    offer(world, a, b)
    [row] = world.one.sql("SELECT uri FROM alliances WHERE state = 'offered'")
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{world.mallory.uri}#accepts/{secrets.token_hex(4)}",
        "type": "Accept",
        "actor": world.mallory.uri,
        "object": {"id": row["uri"], "type": "Offer"},
    }
    assert world.send(world.mallory, forged, f"{world.one.base_url}/inbox").status_code == 202
    outcome = wait_processed(world.one.database_url, forged["id"])
    assert outcome == "refused: Only the group offered this alliance can accept it."
    assert alliance_state(world.one, "soutien", group_uri(world.two, "voisins")) == "offered"


def test_mobilization_reaches_followers_of_allies_through_relays_once_without_loop(
    world: World,
) -> None:
    a, b, c = (world.one, "soutien"), (world.two, "voisins"), (world.three, "paroisse")
    if alliance_state(world.one, "soutien", group_uri(*b)) != "offered":
        offer(world, a, b)
    accept(world, a, b)  # A and B allied both ways
    offer(world, b, c)
    accept(world, b, c)  # B and C allied; C is no ally of A
    follow(world, world.two, "voisins")
    follow(world, world.three, "paroisse")

    page = "/groups/soutien/mobilizations/new"
    response = world.organizers["soutien"].post_form(
        "/groups/soutien/mobilizations", MOBILIZATION, page=page
    )
    assert response.status_code == 303, response.text
    uri = f"{world.one.base_url}{response.headers['location']}"

    def announces() -> list[dict[str, Any]]:
        bodies = [json.loads(r.body) for r in world.peer.requests_to("/inbox", "POST")]
        return [x for x in bodies if x["type"] == "Announce" and x["object"] == uri]

    wait_until(lambda: {x["actor"] for x in announces()} == {group_uri(*b), group_uri(*c)})
    for instance in (world.one, world.two, world.three):
        wait_quiet(instance.database_url)
    # Once each, with their hops: B relayed A's (1), C relayed B's relay (2).
    relays = sorted((x["actor"], x["hops"]) for x in announces())
    assert relays == sorted([(group_uri(*b), 1), (group_uri(*c), 2)])
    # No loop: A never announced its own call; B announced it once though it heard it twice.
    for instance, slug, expected in ((world.one, "soutien", 0), (world.two, "voisins", 1)):
        rows = instance.sql(
            """
            SELECT count(*) AS n FROM outbox_activities o JOIN actors g ON g.id = o.actor_id
            WHERE o.type = 'Announce' AND g.name = $1 AND g.domain IS NULL
              AND o.payload->>'object' = $2
            """,
            slug,
            uri,
        )
        assert rows[0]["n"] == expected, slug
    # A's organizers see that B relayed it.
    reach = world.organizers["soutien"].get(response.headers["location"]).text
    assert f"voisins@{world.two.domain}" in reach


def test_an_unallied_group_cannot_make_a_group_relay_anything(world: World) -> None:
    intruder = world.intruder
    note = {
        "id": f"{intruder.uri}/mobilizations/{secrets.token_hex(4)}",
        "type": ["Note", "Mobilization"],
        "attributedTo": intruder.uri,
        "content": "<p>Venez tous</p>",
        "name": "Venez tous",
        "startTime": "2099-01-01T10:00:00Z",
        "location": {"type": "Place", "name": "Ailleurs"},
        "urgency": "critical",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": intruder.uri,
        "object": note,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group_uri(world.two, "voisins")],
    }
    wait_quiet(world.two.database_url)

    assert (
        world.send(intruder, create, f"{group_uri(world.two, 'voisins')}/inbox").status_code == 202
    )

    assert wait_processed(world.two.database_url, create["id"]) == "not for us"
    assert not world.two.sql("SELECT 1 FROM mobilizations WHERE uri = $1", note["id"])
    assert not world.two.sql("SELECT 1 FROM jobs WHERE kind = 'relay_mobilization'")
