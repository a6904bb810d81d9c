"""Anonymous posts in groups that allow them: the group actor publishes them.

Who wrote one is kept in `anonymous_posts` alone. Only the group's moderators can learn it,
one post at a time, and each look is written to the moderation log.
"""

from __future__ import annotations

from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Group
from server.sanitize import render_text
from server.services.posts import FEDERATE_POST, mention_resolver, post_errors, tag_url
from server.storage import anonymous as store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import moderation as moderation_store
from server.storage import posts as post_store

SETTINGS = ("off", "on", "approval")


async def _require_moderator(conn: Connection, group: Group, account: Account) -> None:
    member = await group_store.get_membership(conn, group.id, account.id)
    if member is None or not member.is_moderator:
        raise Forbidden("Only the group's moderators can do this.")


async def _publish(
    conn: Connection, config: Config, group: Group, content: str, content_warning: str
) -> int:
    """Write the post as the group's, and queue its federation."""
    post_id = await post_store.insert_post(
        conn,
        group_id=group.id,
        author_id=group.id,
        content=content,
        content_html=render_text(content, mention_resolver(config), tag_url(config)),
        content_warning=content_warning,
    )
    await job_store.insert_job(conn, FEDERATE_POST, {"post_id": post_id, "action": "create"})
    return post_id


async def post_anonymously(
    db: Pool, config: Config, group: Group, author: Account, *, content: str,
    content_warning: str = "",
) -> int | None:  # fmt: skip
    """Post in the group's name; return the post's id, or None while a moderator decides."""
    content_warning = content_warning.strip()
    errors = post_errors(content, content_warning)
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        current = await group_store.get_group(conn, group.id)
        member = await group_store.get_membership(conn, group.id, author.id)
        if member is None or member.state != "active":
            raise Forbidden("Only members of the group can post in it.")
        if current is None or current.anonymous_posts == "off":
            raise Forbidden("This group does not take anonymous posts.")
        post_id = None
        if current.anonymous_posts == "on":
            post_id = await _publish(conn, config, group, content, content_warning)
        await store.insert_anonymous_post(
            conn, group_id=group.id, author_id=author.id, post_id=post_id,
            content="" if post_id else content, content_warning="" if post_id else content_warning,
        )  # fmt: skip
    return post_id


async def list_pending(db: Pool, group: Group, moderator: Account) -> list[tuple[int, str, str]]:
    """Return anonymous posts waiting for approval (their text, never their author)."""
    async with db.acquire() as conn:
        await _require_moderator(conn, group, moderator)
        return await store.list_pending(conn, group.id)


async def decide(
    db: Pool, config: Config, group: Group, moderator: Account, anonymous_id: int, *,
    approve: bool,
) -> int | None:  # fmt: skip
    """Publish or reject an anonymous post waiting for approval."""
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        pending = await store.get_pending(conn, anonymous_id, group.id)
        if pending is None:
            raise NotFound("There is no such request.")
        post_id = await _publish(conn, config, group, *pending) if approve else None
        await store.update_published(conn, anonymous_id, post_id)
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id,
            action="approve_anonymous" if approve else "reject_anonymous",
            target=f"post {post_id}" if post_id else f"anonymous {anonymous_id}",
        )  # fmt: skip
    return post_id


async def reveal_author(db: Pool, group: Group, moderator: Account, post_id: int) -> str:
    """Tell a moderator who wrote an anonymous post of the group; the look is logged."""
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        post = await post_store.get_post(conn, post_id, include_deleted=True)
        handle = await store.find_author(conn, post_id)
        if post is None or post.group_id != group.id or handle is None:
            raise NotFound("This post does not exist.")
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id, action="reveal_author",
            target=f"post {post_id}",
        )  # fmt: skip
    return handle


async def is_anonymous(db: Pool, post_id: int) -> bool:
    async with db.acquire() as conn:
        return await store.find_author(conn, post_id) is not None


async def set_anonymous_posts(db: Pool, group: Group, moderator: Account, value: str) -> None:
    """Let moderators allow anonymous posts (at once, or after approval), or not."""
    if value not in SETTINGS:
        raise Invalid({"anonymous_posts": "Choose one of the options."})
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        await store.update_anonymous_setting(conn, group.id, value)
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id, action="anonymous_posts",
            target=value,
        )  # fmt: skip
