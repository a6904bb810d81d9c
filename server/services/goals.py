"""Goals: a member shares one with the group and posts follow-ups; the others encourage with a
like or a short reply. Members-only by default.

A goal and its author's follow-ups federate (a job queued in their transaction): a
members-only goal to the group's members on other instances alone, a public one to the
group's followers. Goals of other instances are kept for the people here who may read them.
"""

from __future__ import annotations

from server import validation as v
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Actor, Goal, GoalUpdate, Group, RemoteGoal
from server.sanitize import render_text, sanitize_html
from server.services.groups import can_read
from server.storage import follows as follow_store
from server.storage import goals as store
from server.storage import groups as group_store
from server.storage import jobs as job_store

# The job that sends a goal ({"goal_id"}) or a follow-up ({"update_id"}) to who may read it.
FEDERATE_GOAL = "federate_goal"
MAX_REMOTE_HTML = 20_000

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
        await job_store.insert_job(conn, FEDERATE_GOAL, {"goal_id": goal_id})
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
        if group is None and goal.uri is not None and goal.visibility == "public":
            return goal  # a public goal of a public group of another instance
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
        update_id = await store.insert_update(
            conn, goal_id=goal.id, author_id=account.id,
            kind="followup" if followup else "encouragement", content_html=render_text(content),
        )  # fmt: skip
        if followup and goal.is_local:
            await job_store.insert_job(conn, FEDERATE_GOAL, {"update_id": update_id})


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


# From federation: goals of members of other instances' groups, and their follow-ups.


async def receive_goal(db: Pool, author: Actor, group: Actor, data: RemoteGoal) -> int | None:
    """Keep another instance's goal for who may read it here; None when nobody may.

    Its author must live where its group lives. A public goal is kept when someone here
    follows the group; a members-only one when it names people here whose Follow of the
    group was accepted (an accepted Follow of a members-only group is a membership), who
    become the members of the group kept here, as its posts do.
    """
    if author.is_local or group.is_local or group.kind != "group":
        raise Forbidden("Only a member of a group of another instance shares its goals here.")
    if author.domain != group.domain:
        raise Forbidden("The goal's author does not live where its group does.")
    data = RemoteGoal(
        uri=data.uri, url=data.url, title=" ".join(data.title.split())[:MAX_TITLE] or "…",
        body_html=sanitize_html(data.body_html[:MAX_REMOTE_HTML]), public=data.public,
        addressed_person_ids=data.addressed_person_ids,
    )  # fmt: skip
    async with db.acquire() as conn, conn.transaction():
        before = await store.find_goal_by_uri(conn, data.uri)
        if before is not None and (before.author_id != author.id or before.group_id != group.id):
            raise Forbidden("Only its author changes a goal.")
        if data.public:
            if before is None and not await follow_store.has_local_follower(conn, group.id):
                return None
        else:
            members = [
                person_id
                for person_id in data.addressed_person_ids
                if (follow := await follow_store.get_follow(conn, person_id, group.id))
                and follow.state == "accepted"
            ]
            if not members:
                return None
            await group_store.insert_mirror_group(conn, group.id)
            for person_id in members:
                await group_store.insert_membership(
                    conn, group.id, person_id, role="member", state="active"
                )
        return await store.upsert_remote_goal(
            conn, group_id=group.id, author_id=author.id, data=data
        )


async def receive_followup(
    db: Pool, author: Actor, goal_uri: str, *, uri: str, content_html: str
) -> int | None:
    """Add a follow-up by its author to another instance's goal kept here."""
    async with db.acquire() as conn, conn.transaction():
        goal = await store.find_goal_by_uri(conn, goal_uri)
        if goal is None:
            raise NotFound("This goal does not exist.")
        if goal.author_id != author.id:
            raise Forbidden("Only its author follows a goal up.")
        return await store.insert_update(
            conn, goal_id=goal.id, author_id=author.id, kind="followup",
            content_html=sanitize_html(content_html[:MAX_REMOTE_HTML]), uri=uri,
        )  # fmt: skip


async def list_followed_goals(db: Pool, account: Account) -> list[Goal]:
    """Return other instances' goals the account may read."""
    async with db.acquire() as conn:
        return await store.list_followed_goals(conn, account.id)


async def get_goal_any(db: Pool, goal_id: int) -> Goal:
    async with db.acquire() as conn:
        goal = await store.get_goal(conn, goal_id)
    if goal is None:
        raise NotFound("This goal does not exist.")
    return goal


async def get_update_any(db: Pool, update_id: int) -> GoalUpdate:
    async with db.acquire() as conn:
        update = await store.get_update(conn, update_id)
    if update is None:
        raise NotFound("This goal does not exist.")
    return update


async def get_group_visibility(db: Pool, group_id: int) -> str | None:
    """Return a local group's visibility (None when it is not ours)."""
    async with db.acquire() as conn:
        group = await group_store.get_group(conn, group_id)
    return group.visibility if group is not None else None
