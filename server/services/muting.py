"""Personal mutes and blocks, as Mastodon has them: each person protects their own view.

A mute hides the muted person's posts, replies and notifications from the one who muted, and
tells no one. A block also ends follows both ways, refuses the blocked person's replies and
likes (local ones here, remote ones when their activities arrive), and is sent to a remote
person's server as a `Block` (an unblock as `Undo{Block}`), as Mastodon does; a `Block`
received from a remote person hides the blocker's things from the local person blocked.
"""

from __future__ import annotations

import secrets

from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Actor, Profile
from server.services.follows import SEND_FOLLOW
from server.storage import actors as actor_store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import muting as store
from server.storage import profiles as profile_store

# A local person's Block (or its Undo) of a remote person, sent to that person's server.
SEND_BLOCK = "send_block"


async def _target(conn: Connection, account: Account, target_id: int) -> Actor:
    target = await actor_store.get_actor(conn, target_id)
    if target is None or target.kind != "person":
        raise NotFound("Record not found")
    if target.id == account.id:
        raise Invalid({"id": "You cannot mute or block yourself."})
    return target


async def mute(db: Pool, account: Account, target_id: int) -> None:
    """Hide a person's posts, replies and notifications from the account; again is no error."""
    async with db.acquire() as conn:
        await _target(conn, account, target_id)
        await store.insert_mute(conn, account.id, target_id)


async def unmute(db: Pool, account: Account, target_id: int) -> None:
    async with db.acquire() as conn:
        await store.delete_mute(conn, account.id, target_id)


async def block(db: Pool, config: Config, account: Account, target_id: int) -> None:
    """Block a person: hidden both ways, follows ended, their replies and likes refused.

    A remote person's server is sent a Block, and the account's follow of them is undone.
    """
    block_uri = f"{config.base_url}/users/{account.username}/blocks/{secrets.token_hex(8)}"
    async with db.acquire() as conn, conn.transaction():
        target = await _target(conn, account, target_id)
        if not await store.insert_block(conn, account.id, target.id, block_uri):
            return
        await _end_follows(conn, account.id, target)
        if not target.is_local:
            await job_store.insert_job(
                conn, SEND_BLOCK,
                {"actor_id": account.id, "target_id": target.id, "block_uri": block_uri,
                 "undo": False},
            )  # fmt: skip


async def _end_follows(conn: Connection, local_id: int, other: Actor) -> None:
    """End follows both ways; a follow of a remote person is undone at their server too."""
    mine = await follow_store.get_follow(conn, local_id, other.id)
    if mine is not None:
        await follow_store.delete_follow(conn, local_id, other.id)
        await group_store.delete_membership(conn, other.id, local_id)
        if not other.is_local:
            await job_store.insert_job(
                conn, SEND_FOLLOW,
                {"follower_id": local_id, "target_id": other.id, "undo": True,
                 "follow_uri": mine.uri},
            )  # fmt: skip
    await follow_store.delete_follow(conn, other.id, local_id)


async def unblock(db: Pool, account: Account, target_id: int) -> None:
    """Lift a block; a remote person's server is sent the Undo. Not blocked is no error."""
    async with db.acquire() as conn, conn.transaction():
        target = await actor_store.get_actor(conn, target_id)
        block_uri = await store.delete_block(conn, account.id, target_id)
        if block_uri is not None and target is not None and not target.is_local:
            await job_store.insert_job(
                conn, SEND_BLOCK,
                {"actor_id": account.id, "target_id": target.id, "block_uri": block_uri,
                 "undo": True},
            )  # fmt: skip


async def receive_block(db: Pool, blocker: Actor, target: Actor, block_uri: str) -> str:
    """Apply a remote person's Block of a local person: hidden both ways, follows ended."""
    if blocker.is_local or not target.is_local or target.kind != "person":
        raise NotFound("No such actor here.")
    async with db.acquire() as conn, conn.transaction():
        if not await store.insert_block(conn, blocker.id, target.id, block_uri):
            return "already blocked"
        await _end_follows(conn, target.id, blocker)
    return "blocked"


async def receive_undo_block(db: Pool, blocker: Actor, block_uri: str) -> bool:
    async with db.acquire() as conn:
        return await store.delete_block_by_uri(conn, blocker.id, block_uri)


async def refuse_if_blocked(conn: Connection, actor_id: int, other_id: int) -> None:
    """Refuse an interaction (a reply, a like) between two people when one blocked the other."""
    if await store.is_blocked_either_way(conn, actor_id, other_id):
        raise Forbidden("You cannot interact with this person.")


async def list_muted(db: Pool, account: Account) -> list[Profile]:
    async with db.acquire() as conn:
        ids = await store.list_muted_ids(conn, account.id)
        return await _profiles(conn, ids)


async def list_blocked(db: Pool, account: Account) -> list[Profile]:
    async with db.acquire() as conn:
        ids = await store.list_blocked_ids(conn, account.id)
        return await _profiles(conn, ids)


async def _profiles(conn: Connection, ids: list[int]) -> list[Profile]:
    found = [await profile_store.get_profile(conn, i) for i in ids]
    return [p for p in found if p is not None]


async def silence_by_handle(
    db: Pool, config: Config, account: Account, handle: str, action: str
) -> Profile:
    """Mute or block a person named `name` (here) or `name@host` (known here); return them."""
    if action not in ("mute", "block"):
        raise Invalid({"action": "Choose to mute or to block."})
    name, _, host = handle.strip().lstrip("@").partition("@")
    if not name or len(handle) > 300 or "\x00" in handle:
        raise Invalid({"handle": "Write the person's handle, as name or name@server."})
    domain = None if not host or host.lower() == config.host.lower() else host.lower()
    async with db.acquire() as conn:
        profile = await profile_store.find_profile(conn, name, domain)
    if profile is None or profile.kind != "person":
        raise Invalid({"handle": "No one with this handle is known here."})
    if action == "mute":
        await mute(db, account, profile.id)
    else:
        await block(db, config, account, profile.id)
    return profile
