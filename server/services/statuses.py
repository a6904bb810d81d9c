"""Posts written from an app: which group a status goes to, and what it may look like there.

Mastodon's apps have no notion of groups. As Lemmy and Friendica do it, a status goes to the
group it mentions (`@circle Hello`), or to the group of the thread it replies to.
"""

from __future__ import annotations

import re

from server.config import Config
from server.db import Pool
from server.errors import Invalid, NotFound
from server.models import Account, Group, Post
from server.sanitize import find_mentions
from server.services import media, posts
from server.storage import groups as group_store
from server.storage import timelines as timeline_store

# Mastodon's visibilities each kind of group takes: a public group's posts are public; a
# members-only group's are for its members, which apps call "followers only" (private).
VISIBILITIES = {"public": ("public", "unlisted"), "members": ("private",)}


async def _addressed_group(db: Pool, config: Config, author: Account, content: str) -> Group:
    """Return the first mentioned local group the author is an active member of."""
    async with db.acquire() as conn:
        for name, host in find_mentions(content):
            if host is not None and host != config.host.lower():
                continue
            group = await group_store.find_group_by_slug(conn, name)
            if group is None:
                continue
            member = await group_store.get_membership(conn, group.id, author.id)
            if member is not None and member.state == "active":
                return group
    raise Invalid(
        {"status": "Address a group you belong to with @group, or reply in a group's thread."}
    )


def _without_leading_mention(content: str, group: Group) -> str:
    """Drop the `@group` a status opens with: it addressed the post, it is not part of it."""
    pattern = rf"^\s*@{re.escape(group.slug)}(@[\w.:-]+)?\b\s*"
    stripped = re.sub(pattern, "", content, count=1, flags=re.IGNORECASE)
    return stripped if stripped.strip() else content


async def publish_status(
    db: Pool,
    config: Config,
    author: Account,
    *,
    content: str,
    spoiler_text: str,
    in_reply_to_id: int | None,
    visibility: str,
    media_ids: list[int] | None = None,
) -> Post:
    """Publish a status in the group it addresses, as the web's form would."""
    if media_ids:
        media.check_media_ids(media_ids)
    if in_reply_to_id is not None:
        async with db.acquire() as conn:
            parent = await timeline_store.get_post_view(conn, author.id, in_reply_to_id)
            group = (
                await group_store.get_group(conn, parent.post.group_id)
                if parent is not None and parent.post.group_id is not None
                else None
            )
        if parent is None:
            raise NotFound("Record not found")
        if group is None:
            raise Invalid({"in_reply_to_id": "Replies from apps go to posts of groups."})
    else:
        group = await _addressed_group(db, config, author, content)
        content = _without_leading_mention(content, group)
    if visibility and visibility not in VISIBILITIES.get(group.visibility, ()):
        raise Invalid({"visibility": "This group does not allow this visibility."})
    return await posts.create_post(
        db,
        config,
        group,
        author,
        content=content,
        content_warning=spoiler_text,
        in_reply_to_id=in_reply_to_id,
        media_ids=media_ids,
    )
