"""Following from an app: an app's "follow" joins a local group, or follows a remote actor.

Apps know accounts only; Entraide's local people meet in groups and do not follow each other.
"""

from __future__ import annotations

import contextlib

from server.db import Pool
from server.errors import Conflict, Invalid, NotFound
from server.models import Account, Profile
from server.services import follows, groups
from server.storage import actors as actor_store
from server.storage import groups as group_store


async def follow_profile(db: Pool, account: Account, profile: Profile) -> None:
    """Join the group (or ask to), or follow the remote actor; again is no error."""
    if profile.kind == "group" and profile.domain is None:
        async with db.acquire() as conn:
            group = await group_store.get_group(conn, profile.id)
        if group is None:
            raise NotFound("Record not found")
        with contextlib.suppress(Conflict):  # already a member, or already asked
            await groups.join_group(db, group, account)
        return
    if profile.domain is None:
        raise Invalid({"id": "People here are met in their groups: follow a group instead."})
    async with db.acquire() as conn:
        actor = await actor_store.get_actor(conn, profile.id)
    if actor is None or actor.uri is None:
        raise NotFound("Record not found")
    # The same path as the web's follow form: the worker resolves the actor and sends Follow.
    await follows.request_follow(db, account, actor.uri)


async def unfollow_profile(db: Pool, account: Account, profile: Profile) -> None:
    """Leave the group, or stop following the remote actor; not following is no error."""
    with contextlib.suppress(NotFound):
        if profile.kind == "group" and profile.domain is None:
            async with db.acquire() as conn:
                group = await group_store.get_group(conn, profile.id)
            if group is not None:
                await groups.leave_group(db, group, account)
        else:
            await follows.unfollow(db, account, profile.id)
