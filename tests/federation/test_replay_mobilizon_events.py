"""Mobilizon's events and participation, replayed through the real inbox of a live instance.

The payloads are tests/data/mobilizon/*.json (each with its `_source`); a fake Mobilizon on
loopback serves the Person @sacha, the Group @repair_cafe and a second person, @mallory, who
organizes nothing. Each test checks what the instance kept, what it answered, and for hostile
variants that nothing changed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import load_config
from server.db import create_pool
from server.services import accounts, events, groups
from tests.factories import make_account, make_event, make_group
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    fake_peers,
    query,
    seed_group,
    snapshot,
    wait_for,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "mobilizon"
MOBILIZON = "https://mobilizon.example"
EVENT = f"{MOBILIZON}/events/5b8c2f0e-7d41-4a39-9e2a-3c6d1f8a0b71"
PAYLOAD_EVENT = "https://entraide.example/events/1"
PAYLOAD_JOIN = "https://entraide.example/users/owner/joins/0123456789abcdef"


@dataclass
class World:
    instance: LiveInstance
    client: httpx.Client
    server: FakePeer
    actors: dict[str, FakeActor]
    rewrites: dict[str, str]
    local_event: int
    other_event: int
    cancelled_event: int

    def payload(self, name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        text = (DATA / f"{name}.json").read_text()
        rewrites = {**self.rewrites, **(extra or {})}
        for old in sorted(rewrites, key=len, reverse=True):
            text = text.replace(old, rewrites[old])
        document: dict[str, Any] = json.loads(text)
        document.pop("_source")
        return document

    def send(self, activity: dict[str, Any], signer: str = "sacha") -> str:
        """Sign and POST an activity as Mobilizon would; return the worker's outcome."""
        actor = self.actors[signer]
        if signer != "sacha":  # the same activity, sent by someone else under their own name
            activity = {**activity, "id": f"{activity['id']}-{signer}", "actor": actor.uri}
        body = json.dumps(activity).encode()
        url = self.instance.base_url + "/inbox"
        response = self.client.post(url, content=body, headers=actor.sign(url, body))
        assert response.status_code == 202, response.text
        rows = wait_for(
            lambda: query(
                self.instance.database_url,
                "SELECT outcome FROM inbox_activities"
                " WHERE (activity_id = $1 OR starts_with(activity_id, $1 || '#'))"
                " AND type = $2 AND processed_at IS NOT NULL ORDER BY id DESC",
                activity["id"],
                activity["type"],
            )
        )
        outcome: str = rows[0]["outcome"]
        return outcome

    def replay(self, name: str, extra: dict[str, str] | None = None, **kw: Any) -> str:
        return self.send(self.payload(name, extra), **kw)

    def sql(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return query(self.instance.database_url, sql, *args)

    def remote_event(self) -> dict[str, Any] | None:
        uri = EVENT.replace(MOBILIZON, self.rewrites[MOBILIZON])
        rows = self.sql("SELECT * FROM events WHERE uri = $1", uri)
        return rows[0] if rows else None

    def participants(self, event_id: int) -> list[tuple[str, str]]:
        rows = self.sql(
            "SELECT a.name, p.state FROM event_participants p JOIN actors a ON a.id = p.actor_id"
            " WHERE p.event_id = $1 ORDER BY p.id",
            event_id,
        )
        return [(r["name"], r["state"]) for r in rows]

    def received(self, type: str) -> list[dict[str, Any]]:
        return [
            json.loads(r.body)
            for r in self.server.received
            if r.method == "POST" and json.loads(r.body).get("type") == type
        ]


def seed_events(instance: LiveInstance) -> tuple[int, int, int]:
    """Events of the local group `voisins` (one cancelled) and of another group, `autre`."""

    async def run() -> tuple[int, int, int]:
        pool = await create_pool(instance.database_url, min_size=1, max_size=2)
        try:
            config = load_config(instance.env)
            owner = await make_account(pool, config, "autre_owner")
            other_group = await make_group(pool, config, owner, "autre")
            voisins = await groups.get_group_by_slug(pool, "voisins")
            voisins_owner = await accounts.get_account_by_username(pool, "owner")
            local = await make_event(pool, voisins, voisins_owner, capacity="1")
            cancelled = await make_event(pool, voisins, voisins_owner)
            await events.cancel_event(pool, cancelled, voisins_owner)
            other = await make_event(pool, other_group, owner)
            return local.id, other.id, cancelled.id
        finally:
            await pool.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def world(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        live_instances(tmp_path_factory.mktemp("mobilizon"), count=1) as (instance,),
        fake_peers("127.0.0.44") as (server,),
        httpx.Client(timeout=15) as client,
    ):
        group = seed_group(instance, "voisins", "Qui répare les vélos ?")
        local, other, cancelled = seed_events(instance)
        rewrites = {
            MOBILIZON: server.base,
            PAYLOAD_EVENT: f"{instance.base_url}/events/{local}",
            "https://entraide.example/groups/voisins": group.uri,
            "https://entraide.example": instance.base_url,
        }
        world = World(instance, client, server, {}, rewrites, local, other, cancelled)
        person = world.payload("person")
        world.actors["sacha"] = server.add_actor("/@sacha", "", document=person, pkcs1=True)
        mallory = json.loads(json.dumps(person).replace("sacha", "mallory"))
        world.actors["mallory"] = server.add_actor("/@mallory", "", document=mallory, pkcs1=True)
        world.actors["group"] = server.add_actor(
            "/@repair_cafe", "", document=world.payload("group"), pkcs1=True
        )
        # The instance's owner follows the Mobilizon group: its events are kept here.
        follow_group(world)
        yield world


def follow_group(world: World) -> None:
    group_uri = world.actors["group"].uri
    world.sql(
        """
        INSERT INTO actors (kind, name, domain, uri, inbox, shared_inbox, key_id, public_key_pem)
        VALUES ('group', 'repair_cafe', $2, $1, $1 || '/inbox', $3, $1 || '#main-key', $4)
        """,
        group_uri,
        group_uri.split("/")[2],
        world.server.base + "/inbox",
        world.actors["group"].public_key_pem,
    )
    world.sql(
        """
        INSERT INTO follows (follower_id, target_id, uri, state)
        SELECT o.id, g.id, $2, 'accepted' FROM actors o, actors g
        WHERE o.name = 'owner' AND o.domain IS NULL AND g.uri = $1
        """,
        group_uri,
        world.instance.base_url + "/users/owner/follows/1",
    )


@pytest.fixture(scope="module")
def stored_event(world: World) -> dict[str, Any]:
    outcome = world.replay("create_event")
    assert outcome.startswith("stored event"), outcome
    event = world.remote_event()
    assert event is not None
    return event


def test_mobilizon_event_is_stored_as_an_event_with_its_dates_and_place(
    world: World, stored_event: dict[str, Any]
) -> None:
    event = stored_event
    assert event["title"] == "Atelier réparation de vélos"
    assert event["timezone"] == "Europe/Paris"
    assert event["starts_at"].isoformat() == "2027-03-14T13:00:00+00:00"
    assert event["ends_at"].isoformat() == "2027-03-14T16:30:00+00:00"
    assert (event["place_name"], event["street_address"], event["locality"]) == (
        "Maison des associations", "12 rue d'Austerlitz", "Lyon",
    )  # fmt: skip
    assert (event["latitude"], event["longitude"]) == (45.7772, 4.8298)
    assert event["online_url"] == "https://visio.example/atelier"
    assert (event["capacity"], event["remote_participant_count"]) == (20, 3)
    assert event["category"] == "COMMUNITY" and event["status"] == "confirmed"
    assert "<script" not in event["description_html"]
    assert world.sql("SELECT count(*) AS n FROM posts WHERE uri = $1", event["uri"])[0]["n"] == 0
    # Shown in the agenda of the person following the group, with its date and place.
    owner = world.instance.browser("owner")
    owner.client.headers["Accept-Language"] = "fr"
    agenda = owner.get("/agenda").text
    assert "Atelier réparation de vélos" in agenda and "Lyon" in agenda
    page = owner.get(f"/events/{event['id']}").text
    assert "dimanche 14 mars 2027" in page and "14:00" in page
    assert "12 rue d&#39;Austerlitz" in page and "openstreetmap.org/?mlat=45.7772" in page


def test_mobilizon_accept_of_a_local_join_makes_it_a_participation(
    world: World, stored_event: dict[str, Any]
) -> None:
    owner = world.instance.browser("owner")
    response = owner.post_form(
        f"/events/{stored_event['id']}/join", {}, page=f"/events/{stored_event['id']}"
    )
    assert response.status_code == 303
    [row] = world.sql(
        "SELECT join_uri, state FROM event_participants WHERE event_id = $1", stored_event["id"]
    )
    assert row["state"] == "pending"
    # The Join went to the group's inbox, as Mobilizon reads it.
    join = wait_for(lambda: world.received("Join"))[0]
    assert join["object"] == stored_event["uri"] and join["id"] == row["join_uri"]
    before = snapshot(world.instance.database_url)

    outcome = world.replay("accept_join", {PAYLOAD_JOIN: row["join_uri"]}, signer="mallory")

    assert outcome.startswith("refused"), outcome  # mallory organizes nothing
    after = snapshot(world.instance.database_url)
    assert after["event_participants"] == before["event_participants"]
    outcome = world.replay("accept_join", {PAYLOAD_JOIN: row["join_uri"]})
    assert outcome == "participation going"


def test_mobilizon_update_cancelling_the_event_applies(
    world: World, stored_event: dict[str, Any]
) -> None:
    outcome = world.replay("update_event_cancelled")

    assert outcome.startswith("updated event"), outcome
    event = world.remote_event()
    assert event is not None
    assert event["status"] == "cancelled" and event["remote_participant_count"] == 4
    assert event["sequence"] > stored_event["sequence"]


def test_mobilizon_join_of_a_local_event_is_accepted_then_left(world: World) -> None:
    outcome = world.replay("join")

    assert outcome == "joined: going", outcome
    assert world.participants(world.local_event) == [("sacha", "going")]
    accept = wait_for(lambda: world.received("Accept"))[0]
    assert accept["object"]["type"] == "Join"
    assert accept["object"]["actor"] == world.actors["sacha"].uri
    assert accept["actor"] == world.rewrites["https://entraide.example/groups/voisins"]
    outcome = world.replay("leave")
    assert outcome.startswith("left event"), outcome
    assert world.participants(world.local_event) == []


@pytest.mark.parametrize(
    ("name", "extra", "expected"),
    [
        ("leave", {}, "refused"),  # a Leave by someone who never joined
        ("join", {PAYLOAD_EVENT: "https://entraide.example/events/OTHER"}, "refused"),
        ("join", {PAYLOAD_EVENT: "https://entraide.example/events/CANCELLED"}, "refused"),
    ],
)
def test_hostile_participation_changes_nothing(
    world: World, name: str, extra: dict[str, str], expected: str
) -> None:
    other = f"{world.instance.base_url}/events/{world.other_event}"
    cancelled = f"{world.instance.base_url}/events/{world.cancelled_event}"
    extra = {
        k: v.replace("https://entraide.example/events/OTHER", other).replace(
            "https://entraide.example/events/CANCELLED", cancelled
        )
        for k, v in extra.items()
    }
    activity = world.payload(name, extra)
    activity["id"] += "-hostile-" + str(len(world.server.received))
    before = snapshot(world.instance.database_url)

    outcome = world.send(activity, signer="mallory" if name == "leave" else "sacha")

    assert outcome.startswith(expected), outcome
    after = snapshot(world.instance.database_url)
    for table in ("events", "event_participants"):
        assert after[table] == before[table], table


@pytest.mark.parametrize("change", ["year 9999", "1 MB description"])
def test_hostile_mobilizon_event_is_refused_and_nothing_kept(world: World, change: str) -> None:
    activity = world.payload("create_event")
    event = activity["object"]
    event["id"] = event["url"] = event["id"] + "-" + change.replace(" ", "")
    activity["id"] = event["id"] + "/activity"
    if change == "year 9999":
        event["startTime"], event["endTime"] = "9999-12-31T20:00:00+01:00", None
    else:
        event["content"] = "<p>" + "x" * 900_000 + "</p>"
    before = snapshot(world.instance.database_url)

    outcome = world.send(activity)

    assert outcome.startswith("refused"), outcome
    after = snapshot(world.instance.database_url)
    assert after["events"] == before["events"]


def test_mobilizon_delete_of_its_event_leaves_a_tombstone(
    world: World, stored_event: dict[str, Any]
) -> None:
    outcome = world.replay("delete_event")

    assert outcome.startswith("deleted event"), outcome
    event = world.remote_event()
    assert event is not None and event["deleted_at"] is not None


def test_reply_to_a_local_event_lands_in_its_discussion(world: World) -> None:
    event_url = f"{world.instance.base_url}/events/{world.local_event}"
    activity = world.payload("create_comment", {"https://entraide.example/posts/1": event_url})

    outcome = world.send(activity)

    assert outcome.startswith("stored post"), outcome
    [post] = world.sql(
        "SELECT event_id, group_id, content_html FROM posts WHERE uri = $1",
        activity["object"]["id"],
    )
    assert post["event_id"] == world.local_event
    assert "échelle" in post["content_html"]
    page = world.client.get(event_url).text
    assert "Je peux aider à porter" in page
