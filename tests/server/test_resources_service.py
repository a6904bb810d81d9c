"""The library across instances: a group's items federate and their removal too; a remote
members-only group's items are kept for the members they name alone; another group's items
and hostile addresses change nothing."""

from __future__ import annotations

import json

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid
from server.models import Actor, RemoteResource
from server.services import resources
from tests.factories import make_accounts, make_group, make_member, snapshot
from tests.server.test_goals_service import _remote_goal


async def federation_jobs(db: Pool) -> list[dict[str, object]]:
    async with db.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", resources.FEDERATE_RESOURCE
        )
    return [json.loads(r["payload"]) for r in rows]


async def test_every_groups_item_and_its_removal_federate(db: Pool, config: Config) -> None:
    # The worker sends a public group's to its followers, a members-only group's to its
    # remote members alone (tests/federation/test_live_members_library.py).
    owner, member, other = await make_accounts(db, config, "lb1", "lb2", "lb3")
    group = await make_group(db, config, owner)
    closed = await make_group(db, config, owner, visibility="members")
    await make_member(db, group, member)
    await make_member(db, group, other)
    item = await resources.add_resource(
        db, config, group, member, title="Carte", description="", tags="",
        link="https://example.org/carte",
    )  # fmt: skip
    internal = await resources.add_resource(
        db, config, closed, owner, title="Interne", description="", tags="",
        link="https://example.org/interne",
    )  # fmt: skip
    with pytest.raises(Forbidden):  # neither its author nor an organizer
        await resources.remove_resource(db, config, item, other)

    await resources.remove_resource(db, config, item, member)

    assert await federation_jobs(db) == [
        {"resource_id": item.id, "action": "create"},
        {"resource_id": internal.id, "action": "create"},
        {"resource_id": item.id, "action": "delete", "group_id": group.id},
    ]


def _item(uri: str, link: str) -> RemoteResource:
    return RemoteResource(uri=uri, url=None, title="Carte", description_html="<p>x</p>",
                          link=link, media_type=None, original_name=None, tags=["a"])  # fmt: skip


async def _followed(db: Pool, config: Config, group: Actor) -> None:
    [local] = await make_accounts(db, config, f"lbf{group.id}")
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, target_id, state, uri)"
            " VALUES ($1, $2, 'accepted', $3)",
            local.id, group.id, f"https://x.example/f/{group.id}",
        )  # fmt: skip


async def test_another_groups_change_or_a_hostile_link_changes_nothing(
    db: Pool, config: Config
) -> None:
    _author, group = await _remote_goal(db, "rita2", "jardins", "ailleurs.example")
    _other_author, other = await _remote_goal(db, "rita3", "jardins2", "ailleurs.example")
    await _followed(db, config, group)
    uri = "https://ailleurs.example/library/1"
    assert await resources.receive_resource(db, group, _item(uri, "https://example.org/a"))
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await resources.receive_resource(db, other, _item(uri, "https://example.org/b"))
    with pytest.raises(Forbidden):
        await resources.receive_resource_delete(db, other, uri)
    for link in ("javascript:alert(1)", "http://example.org/a", "data:text/html,x"):
        with pytest.raises(Invalid):
            await resources.receive_resource(db, group, _item(f"{uri}0", link))

    assert await snapshot(db) == before


async def test_a_members_only_item_is_kept_for_the_accepted_members_it_names_alone(
    db: Pool, config: Config
) -> None:
    _author, group = await _remote_goal(db, "rita4", "cercle", "ailleurs.example")
    member, requester, stranger = await make_accounts(db, config, "lbm1", "lbm2", "lbm3")
    async with db.acquire() as conn:
        for person, state in ((member, "accepted"), (requester, "pending")):
            await conn.execute(
                "INSERT INTO follows (follower_id, target_id, state, uri) VALUES ($1, $2, $3, $4)",
                person.id, group.id, state, f"https://x.example/f/{person.id}",
            )  # fmt: skip
    uri = "https://ailleurs.example/library/7"
    item = _item(uri, "https://ailleurs.example/library/7/document")
    before = await snapshot(db)

    # Named people who are not its members (a pending request, a stranger): nothing kept.
    assert not await resources.receive_resource(
        db, group, item, public=False, addressed_person_ids=(requester.id, stranger.id)
    )
    assert await snapshot(db) == before

    kept = await resources.receive_resource(
        db, group, item, public=False, addressed_person_ids=(member.id, stranger.id)
    )
    assert kept
    async with db.acquire() as conn:
        mirror = await conn.fetchval("SELECT visibility FROM groups WHERE actor_id = $1", group.id)
        members = await conn.fetch(
            "SELECT actor_id FROM memberships WHERE group_id = $1 AND state = 'active'", group.id
        )
    assert mirror == "members" and [m["actor_id"] for m in members] == [member.id]
    assert [r.id for r in await resources.list_followed_resources(db, member)] == [kept]
    assert await resources.list_followed_resources(db, stranger) == []
    assert await resources.list_followed_resources(db, requester) == []
