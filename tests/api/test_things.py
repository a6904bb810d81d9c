"""Entraide's own things in apps: events, petitions, mobilizations and needs/offers of a group
read as statuses of the group in timelines and by id, with a text an app shows well and a
card linking to their page; members-only things stay with the members."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api import entities, things
from server.config import Config
from server.db import Pool
from server.models import Account, Group, ThingView, TimelineRange
from server.services import board, mobilizations, petitions, timelines
from tests.api.conftest import bearer, service_token
from tests.factories import make_account, make_event, make_group, make_member, make_post


@pytest.fixture
async def world(db: Pool, web_config: Config) -> dict[str, object]:
    owner = await make_account(db, web_config, "ada")
    member = await make_account(db, web_config, "bea")
    outsider = await make_account(db, web_config, "cyd")
    circle = await make_group(db, web_config, owner, "circle", name="The Circle")
    secret = await make_group(db, web_config, owner, "secret", visibility="members")
    await make_member(db, circle, member)
    return {"owner": owner, "member": member, "outsider": outsider, "circle": circle,
            "secret": secret}  # fmt: skip


async def publish_all(db: Pool, config: Config, group: Group, owner: Account) -> dict[str, int]:
    """Publish one of each thing, a post between each; return their own ids."""
    await make_post(db, config, group, owner, "Before everything")
    event = await make_event(db, group, owner, title="Shared meal", place_name="Town hall")
    await make_post(db, config, group, owner, "Between")
    petition = await petitions.create_petition(
        db, config, group, owner, title="Save the library", body="It matters.",
        addressee="The mayor", goal="500",
    )  # fmt: skip
    mobilization = await mobilizations.publish_mobilization(
        db, config, group, owner, what="Gathering against the eviction",
        place="12 rue des Lilas", starts_at="2099-03-01T08:00", why="A family is threatened.",
    )  # fmt: skip
    need = await board.create_item(
        db, config, group, owner, kind="need", category="transport", title="A ride to hospital",
        details="Tuesday 9:00.", area="Belleville",
        valid_until=(datetime.now(UTC) + timedelta(days=2)).date().isoformat(),
    )  # fmt: skip
    await make_post(db, config, group, owner, "After everything")
    return {"event": event.id, "petition": petition.id, "mobilization": mobilization.id,
            "need": need.id}  # fmt: skip


async def test_things_are_statuses_of_home_public_and_group_timelines_in_order(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    ids = await publish_all(db, web_config, circle, owner)
    token = await service_token(db, world["member"])

    home = (await client.get("/api/v1/timelines/home", headers=bearer(token))).json()
    public = (await client.get("/api/v1/timelines/public")).json()
    group = (await client.get(f"/api/v1/accounts/{circle.id}/statuses")).json()

    base = web_config.base_url
    cards = [s["card"]["url"] if s["card"] else s["content"] for s in home]
    assert cards == [
        "<p>After everything</p>",
        f"{base}/board/{ids['need']}",
        f"{base}/mobilizations/{ids['mobilization']}",
        f"{base}/petitions/{ids['petition']}",
        "<p>Between</p>",
        f"{base}/events/{ids['event']}",
        "<p>Before everything</p>",
    ]
    assert [s["id"] for s in public] == [s["id"] for s in home]
    assert [s["id"] for s in group] == [s["id"] for s in home]
    assert [int(s["id"]) for s in home] == sorted((int(s["id"]) for s in home), reverse=True)
    things = [s for s in home if s["card"]]
    assert all(s["account"]["acct"] == "circle" and s["account"]["group"] for s in things)
    assert all(s["card"]["type"] == "link" and s["visibility"] == "public" for s in things)


async def test_thing_pages_with_posts_by_id_as_mastodon_does(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    await publish_all(db, web_config, circle, owner)
    token = await service_token(db, world["member"])
    everything = (await client.get("/api/v1/timelines/home", headers=bearer(token))).json()

    first = await client.get("/api/v1/timelines/home", headers=bearer(token), params={"limit": 3})
    older = await client.get(
        "/api/v1/timelines/home", headers=bearer(token),
        params={"limit": 3, "max_id": first.json()[-1]["id"]},
    )  # fmt: skip
    newer = await client.get(
        "/api/v1/timelines/home", headers=bearer(token),
        params={"limit": 2, "min_id": everything[-1]["id"]},
    )  # fmt: skip

    ids = [s["id"] for s in everything]
    assert [s["id"] for s in first.json()] == ids[:3]
    assert [s["id"] for s in older.json()] == ids[3:6]
    assert [s["id"] for s in newer.json()] == ids[-3:-1]


async def test_each_thing_by_id_reads_well_with_its_card(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    ids = await publish_all(db, web_config, circle, owner)
    home = (await client.get("/api/v1/timelines/public")).json()
    by_page = {s["card"]["url"].rsplit("/", 2)[-2]: s["id"] for s in home if s["card"]}

    shown = {
        kind: (await client.get(f"/api/v1/statuses/{status_id}")).json()
        for kind, status_id in by_page.items()
    }
    context = await client.get(f"/api/v1/statuses/{by_page['events']}/context")

    event = shown["events"]
    assert "Shared meal" in event["content"] and "When: " in event["content"]
    assert "Where: Town hall" in event["content"] and "(Europe/Paris)" in event["content"]
    assert event["card"]["title"] == "Shared meal"
    assert event["url"] == f"{web_config.base_url}/events/{ids['event']}"
    petition = shown["petitions"]["content"]
    assert "Save the library" in petition and "To: The mayor" in petition
    assert "Signatures: 0 of 500" in petition and "Status: Open" in petition
    mobilization = shown["mobilizations"]["content"]
    assert "Gathering against the eviction" in mobilization
    assert "Where: 12 rue des Lilas" in mobilization and "When: " in mobilization
    need = shown["board"]["content"]
    assert "Need · Transport: A ride to hospital" in need and "Valid until: " in need
    assert "Status: Open" in need and "Area: Belleville" in need
    assert context.status_code == 200 and context.json() == {"ancestors": [], "descendants": []}


async def test_things_escape_what_people_typed(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    await petitions.create_petition(
        db, web_config, circle, owner, title="<script>alert(1)</script>", body="x",
        addressee='<img src=x onerror="alert(1)">', goal="10",
    )  # fmt: skip

    (status,) = (await client.get("/api/v1/timelines/public")).json()

    assert "<script" not in status["content"] and "<img" not in status["content"]
    assert "&lt;script&gt;" in status["content"]


async def test_members_only_things_stay_with_the_members(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    secret, circle, owner = world["secret"], world["circle"], world["owner"]
    assert isinstance(secret, Group) and isinstance(circle, Group)
    assert isinstance(owner, Account)
    await publish_all(db, web_config, secret, owner)
    # In a public group, an event for members only stays with the members too.
    await make_event(db, circle, owner, title="Members' evening", visibility="members")
    owner_token = await service_token(db, owner)
    outsider_token = await service_token(db, world["outsider"])

    mine = (await client.get("/api/v1/timelines/home", headers=bearer(owner_token))).json()
    theirs = (await client.get("/api/v1/timelines/home", headers=bearer(outsider_token))).json()
    public = (await client.get("/api/v1/timelines/public")).json()
    group = (await client.get(f"/api/v1/accounts/{secret.id}/statuses")).json()
    circle_statuses = (await client.get(f"/api/v1/accounts/{circle.id}/statuses")).json()
    things = [s for s in mine if s["card"]]
    one = [await client.get(f"/api/v1/statuses/{s['id']}") for s in things]
    as_outsider = [
        await client.get(f"/api/v1/statuses/{s['id']}", headers=bearer(outsider_token))
        for s in things
    ]

    assert len(things) == 5 and all(s["visibility"] == "private" for s in things)
    assert theirs == [] and public == [] and group == [] and circle_statuses == []
    assert [r.status_code for r in one + as_outsider] == [404] * 10


async def test_things_read_in_the_instances_language(
    db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    await publish_all(db, web_config, circle, owner)
    french = dataclasses.replace(web_config, language="fr")

    statuses = await timelines.public_timeline(db, None, TimelineRange(), local_only=False)
    texts = [things.status(french, s)["content"] for s in statuses if isinstance(s, ThingView)]

    need, mobilization, petition, event = texts
    assert "Où\u00a0: Town hall" in event and "(Europe/Paris)" in event
    assert re.search(r"Quand\u00a0: \w+\.? \d+ \w+\.? 20\d\d, 19:00", event), event
    assert "Signatures\u00a0: 0 sur 500" in petition and "État\u00a0: Ouverte" in petition
    assert "Mobilisation (URGENT)\u00a0: Gathering against the eviction" in mobilization
    assert "Besoin · Transport\u00a0: A ride to hospital" in need and "Ouvert" in need


def test_times_are_written_as_mastodon_writes_them() -> None:
    paris = datetime(2026, 12, 5, 21, 4, 5, 678_901, tzinfo=ZoneInfo("Europe/Paris"))

    assert entities.iso(paris) == "2026-12-05T20:04:05.678Z"
    assert entities.iso(paris.replace(microsecond=0)) == "2026-12-05T20:04:05.000Z"
    assert entities.iso(None) is None
