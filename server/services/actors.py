"""Looking up actors for federation: local ones by name, remote ones by URI or key."""

from __future__ import annotations

import asyncio

from server.db import Pool
from server.errors import Gone, NotFound
from server.keys import generate_key_pair
from server.models import Actor, DeliveryStats, Group, Post
from server.storage import activities as activity_store
from server.storage import actors as store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import posts as post_store

INSTANCE_ACTOR = "instance"  # a reserved name: no account or group can take it


async def ensure_instance_actor(db: Pool) -> Actor:
    """Return the instance's Application actor, creating it (and its keys) the first time."""
    async with db.acquire() as conn:
        actor = await store.find_local_actor(conn, INSTANCE_ACTOR)
    if actor is not None:
        return actor
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    async with db.acquire() as conn:
        await store.insert_instance_actor(conn, INSTANCE_ACTOR, private_pem, public_pem)
        actor = await store.find_local_actor(conn, INSTANCE_ACTOR)
    assert actor is not None
    return actor


async def get_local_actor(db: Pool, name: str, kind: str | None = None) -> Actor:
    """Return a local person or group by name (and kind), or raise NotFound."""
    if "\x00" in name:  # no name holds NUL, and PostgreSQL refuses to compare with it
        raise NotFound("No such actor here.")
    async with db.acquire() as conn:
        actor = await store.find_local_actor(conn, name)
        if actor is not None and actor.kind == "person":
            status = await conn.fetchval(
                "SELECT status FROM accounts WHERE actor_id = $1", actor.id
            )
            if status == "deleted":
                raise Gone("This account was deleted.")
            if status != "active":
                actor = None
        elif (
            actor is not None
            and actor.kind == "group"
            and await group_store.get_group(conn, actor.id) is None
        ):
            raise Gone("This group was deleted.")
    if actor is None or (kind is not None and actor.kind != kind):
        raise NotFound("No such actor here.")
    return actor


async def get_actor(db: Pool, actor_id: int) -> Actor:
    async with db.acquire() as conn:
        actor = await store.get_actor(conn, actor_id)
    if actor is None:
        raise NotFound("No such actor here.")
    return actor


async def find_remote_actor(db: Pool, uri: str) -> Actor | None:
    async with db.acquire() as conn:
        return await store.find_remote_actor_by_uri(conn, uri)


async def find_remote_actor_by_key(db: Pool, key_id: str) -> Actor | None:
    async with db.acquire() as conn:
        return await store.find_remote_actor_by_key_id(conn, key_id)


async def find_remote_actor_by_handle(db: Pool, name: str, domain: str) -> Actor | None:
    async with db.acquire() as conn:
        return await store.find_remote_actor_by_handle(conn, name, domain)


async def get_group_for_actor(db: Pool, actor: Actor) -> Group | None:
    async with db.acquire() as conn:
        return await group_store.get_group(conn, actor.id)


async def count_followers(db: Pool, actor_id: int) -> int:
    async with db.acquire() as conn:
        return await follow_store.count_followers(conn, actor_id)


async def list_followers(db: Pool, actor_id: int, *, page: int, size: int) -> list[Actor]:
    async with db.acquire() as conn:
        return await follow_store.list_followers(
            conn, actor_id, limit=size, offset=(page - 1) * size
        )


async def list_following(db: Pool, actor_id: int) -> list[Actor]:
    async with db.acquire() as conn:
        rows = await follow_store.list_following(conn, actor_id)
    return [actor for actor, state in rows if state == "accepted"]


async def get_post_any(db: Pool, post_id: int) -> tuple[Post | None, bool]:
    """Return (post, deleted): a tombstone gives (None, True); unknown gives (None, False)."""
    async with db.acquire() as conn:
        deleted = await post_store.is_deleted(conn, post_id)
        if deleted is None:
            return None, False
        if deleted:
            return None, True
        return await post_store.get_post(conn, post_id), False


async def find_post_by_uri(db: Pool, uri: str) -> int | None:
    async with db.acquire() as conn:
        found = await post_store.find_post_id_by_uri(conn, uri)
    return found[0] if found else None


async def get_post_delivery_stats(db: Pool, post_id: int) -> DeliveryStats:
    async with db.acquire() as conn:
        return await activity_store.get_post_delivery_stats(conn, post_id)


async def usage_counts(db: Pool) -> tuple[int, int, int, int]:
    """Return (users, active last month, active last half year, local posts) for NodeInfo."""
    async with db.acquire() as conn:
        total, month, half_year = await store.count_local_people(conn)
        posts = await post_store.count_local_posts(conn)
    return total, month, half_year, posts
