"""Goals: a member shares one with the group and posts follow-ups; the others encourage with a
like or a short reply. Members-only by default; never federated."""

from __future__ import annotations

from server import validation as v
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Goal, GoalUpdate, Group
from server.sanitize import render_text
from server.services.groups import can_read
from server.storage import goals as store
from server.storage import groups as group_store

MAX_TITLE = 200
MAX_BODY = 5000
MAX_FOLLOWUP = 5000
MAX_ENCOURAGEMENT = 500
VISIBILITIES = ("members", "public")


async def _is_member(conn: Connection, group_id: int, account: Account | None) -> bool:
    if account is None:
        return False
    member = await group_store.get_membership(conn, group_id, account.id)
    return member is not None and member.state == "active"


async def share_goal(
    db: Pool, group: Group, author: Account, *, title: str, body: str, visibility: str = "members"
) -> Goal:
    """Share a goal with the group; only its members may, and it stays among them by default."""
    title = title.strip()
    errors = v.collect(
        title=v.check_text(title, max_length=MAX_TITLE, required=True),
        body=v.check_text(body, max_length=MAX_BODY),
        visibility=v.check_choice(visibility, VISIBILITIES),
    )
    if errors:
        raise Invalid(errors)
    if group.visibility != "public":
        visibility = "members"  # a members-only group has no public goal
    async with db.acquire() as conn, conn.transaction():
        if not await _is_member(conn, group.id, author):
            raise Forbidden("Only the group's members can do this.")
        goal_id = await store.insert_goal(
            conn, group_id=group.id, author_id=author.id, title=title, body=body,
            body_html=render_text(body), visibility=visibility,
        )  # fmt: skip
        goal = await store.get_goal(conn, goal_id)
    assert goal is not None
    return goal


async def list_goals(db: Pool, group: Group, viewer: Account | None) -> list[Goal]:
    """Return the goals the viewer may read: all for members, the public ones otherwise."""
    async with db.acquire() as conn:
        member = await _is_member(conn, group.id, viewer)
        membership = await group_store.get_membership(conn, group.id, viewer.id) if viewer else None
        if not can_read(group, membership):
            raise Forbidden("This group shares its posts with members only.")
        return await store.list_goals(conn, group.id, members_only_too=member)


async def get_goal(db: Pool, goal_id: int, viewer: Account | None) -> Goal:
    async with db.acquire() as conn:
        goal = await store.get_goal(conn, goal_id)
        if goal is None:
            raise NotFound("This page does not exist.")
        group = await group_store.get_group(conn, goal.group_id)
        membership = (
            await group_store.get_membership(conn, goal.group_id, viewer.id) if viewer else None
        )
        member = membership is not None and membership.state == "active"
        if group is None or not can_read(group, membership):
            raise Forbidden("This group shares its posts with members only.")
        if goal.visibility == "members" and not member:
            raise Forbidden("This goal is shared with the group's members only.")
    return goal


async def list_timeline(db: Pool, goal: Goal) -> list[GoalUpdate]:
    async with db.acquire() as conn:
        return await store.list_updates(conn, goal.id)


async def add_update(db: Pool, goal: Goal, account: Account, *, content: str) -> None:
    """Add to a goal's timeline: a follow-up from its author, encouragement from others."""
    content = content.strip()
    followup = account.id == goal.author_id
    limit = MAX_FOLLOWUP if followup else MAX_ENCOURAGEMENT
    errors = v.collect(content=v.check_text(content, max_length=limit, required=True))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        if not await _is_member(conn, goal.group_id, account):
            raise Forbidden("Only the group's members can do this.")
        await store.insert_update(
            conn, goal_id=goal.id, author_id=account.id,
            kind="followup" if followup else "encouragement", content_html=render_text(content),
        )  # fmt: skip


async def like(db: Pool, goal: Goal, account: Account, *, liked: bool) -> None:
    """Like (or stop liking) a goal: a sign of encouragement."""
    async with db.acquire() as conn:
        if not await _is_member(conn, goal.group_id, account):
            raise Forbidden("Only the group's members can do this.")
        if liked:
            await store.insert_like(conn, goal.id, account.id)
        else:
            await store.delete_like(conn, goal.id, account.id)


async def has_liked(db: Pool, goal: Goal, account: Account | None) -> bool:
    if account is None:
        return False
    async with db.acquire() as conn:
        return await store.has_liked(conn, goal.id, account.id)
