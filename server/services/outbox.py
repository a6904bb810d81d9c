"""Publishing: an activity is stored in the outbox with one delivery row per inbox, atomically."""

from __future__ import annotations

from typing import Any

from server.db import Pool
from server.models import Actor, Post
from server.storage import activities as store
from server.storage import actors as actor_store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import moderation as moderation_store
from server.storage import posts as post_store


async def publish_activity(
    db: Pool,
    *,
    uri: str,
    actor_id: int,
    type: str,
    payload: dict[str, Any],
    inboxes: list[str],
    post_id: int | None = None,
    public: bool = True,
) -> int:
    """Store the activity and queue its deliveries; return how many deliveries were queued."""
    async with db.acquire() as conn, conn.transaction():
        row_id = await store.insert_outbox_activity(
            conn,
            uri=uri,
            actor_id=actor_id,
            type=type,
            payload=payload,
            post_id=post_id,
            public=public,
        )
        return await store.insert_deliveries(conn, row_id, sorted(set(inboxes)))


async def follower_inboxes(db: Pool, actor_id: int) -> list[str]:
    """Return the distinct inboxes of an actor's accepted remote followers."""
    async with db.acquire() as conn:
        return await follow_store.list_follower_inboxes(conn, actor_id)


async def get_post_for_federation(db: Pool, post_id: int) -> tuple[Post, Actor, Actor | None]:
    """Return a post (tombstones included), its author and its group actor."""
    async with db.acquire() as conn:
        post = await post_store.get_post(conn, post_id, include_deleted=True)
        if post is None:
            raise LookupError(post_id)
        author = await actor_store.get_actor(conn, post.author_id)
        group = (
            await actor_store.get_actor(conn, post.group_id) if post.group_id is not None else None
        )
    assert author is not None
    return post, author, group


async def is_public_group(db: Pool, group_id: int) -> bool:
    async with db.acquire() as conn:
        group = await group_store.get_group(conn, group_id)
    return group is not None and group.visibility == "public"


async def get_outbox_activity(db: Pool, uri: str) -> dict[str, Any] | None:
    async with db.acquire() as conn:
        return await store.find_outbox_activity(conn, uri)


async def list_outbox(
    db: Pool, actor_id: int, *, before_id: int | None, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    async with db.acquire() as conn:
        return await store.list_outbox(conn, actor_id, before_id=before_id, limit=limit)


async def count_outbox(db: Pool, actor_id: int) -> int:
    async with db.acquire() as conn:
        return await store.count_outbox(conn, actor_id)


async def member_recipients(db: Pool, group_id: int) -> list[tuple[str, str]]:
    """Return (actor id, personal inbox) of a members-only group's members on other instances."""
    async with db.acquire() as conn:
        return await group_store.list_remote_member_inboxes(conn, group_id)


async def may_receive_members_only(db: Pool, group_id: int, fetcher: Actor) -> bool:
    """Tell whether a remote actor may read a members-only group's objects.

    An active member may; so may the instance actor of a server where an active member lives
    (it fetches on their behalf). A blocked actor or domain never may.
    """
    if fetcher.domain is None:
        return False
    async with db.acquire() as conn:
        if await moderation_store.is_blocked(conn, fetcher.domain, fetcher.uri):
            return False
        if fetcher.kind == "application":
            return await group_store.has_active_member_on(conn, group_id, fetcher.domain)
        member = await group_store.get_membership(conn, group_id, fetcher.id)
    return member is not None and member.state == "active"
