"""Posts in groups: write, edit, delete, read a page of them; each change queues federation."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from server import validation as v
from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Attachment, Group, Post
from server.sanitize import MentionResolver, render_text
from server.services import media, notifications, pictures
from server.services.groups import can_read
from server.services.muting import refuse_if_blocked
from server.storage import events as event_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import moderation as moderation_store
from server.storage import posts as store

PAGE_SIZE = 20
# The job the federation worker turns into activities for the group's followers.
FEDERATE_POST = "federate_post"


@dataclass(frozen=True)
class PostPage:
    posts: list[Post]
    next_before: int | None  # pass as `before` to get the next (older) page


def mention_resolver(config: Config) -> MentionResolver:
    """Link @name to the local profile and @name@host to the usual profile URL on that host."""

    def resolve(name: str, host: str | None) -> str | None:
        if host is None or host.lower() == config.host.lower():
            return f"{config.base_url}/@{name.lower()}"
        return f"https://{host.lower()}/@{name}"

    return resolve


def tag_url(config: Config) -> Callable[[str], str]:
    """Link #tag to the instance's page of that tag."""
    return lambda tag: f"{config.base_url}/tags/{tag}"


def post_errors(content: str, content_warning: str) -> dict[str, str]:
    """Return what is wrong with a post's text and content warning (empty: nothing)."""
    return _errors(content, content_warning)


def _errors(content: str, content_warning: str) -> dict[str, str]:
    return v.collect(
        content=v.check_text(content, max_length=v.MAX_POST, required=True),
        content_warning=v.check_text(content_warning, max_length=v.MAX_CONTENT_WARNING),
    )


def _check(content: str, content_warning: str) -> None:
    errors = _errors(content, content_warning)
    if errors:
        raise Invalid(errors)


async def create_post(
    db: Pool,
    config: Config,
    group: Group,
    author: Account,
    *,
    content: str,
    content_warning: str = "",
    in_reply_to_id: int | None = None,
    event_id: int | None = None,
    uploads: list[tuple[bytes, str]] | None = None,
    media_ids: list[int] | None = None,
) -> Post:
    """Publish a post (or a reply, or a comment on an event) in a group the author is an
    active member of.

    `uploads` are up to four pictures, each with its description: (data, alt text).
    `media_ids` are pictures the author uploaded before, from an app (server/services/media.py).
    """
    content_warning = content_warning.strip()
    errors = _errors(content, content_warning)
    prepared: list[tuple[pictures.Picture, str]] = []
    if uploads:
        try:
            prepared = await pictures.prepare_post_pictures(uploads)
        except Invalid as exc:
            errors |= exc.fields
    uploaded: list[Attachment] = []
    if media_ids:
        try:
            uploaded = await media.list_attachable(db, author, media_ids)
        except Invalid as exc:
            errors |= exc.fields
    if errors:
        raise Invalid(errors)
    attachments = await pictures.write_post_pictures(config, prepared) + tuple(uploaded)
    async with db.acquire() as conn, conn.transaction():
        member = await group_store.get_membership(conn, group.id, author.id)
        if member is None or member.state != "active":
            raise Forbidden("Only members of the group can post in it.")
        answered: list[int] = []  # the author of the post replied to, told of the reply
        if in_reply_to_id is not None:
            parent = await store.get_post(conn, in_reply_to_id)
            if parent is None or parent.group_id != group.id:
                raise NotFound("This post does not exist.")
            await refuse_if_blocked(conn, author.id, parent.author_id)
            answered = [parent.author_id]
        if event_id is not None:
            event = await event_store.get_event(conn, event_id)
            if event is None or event.group_id != group.id:
                raise NotFound("This event does not exist.")
        post_id = await store.insert_post(
            conn,
            group_id=group.id,
            author_id=author.id,
            content=content,
            content_html=render_text(content, mention_resolver(config), tag_url(config)),
            content_warning=content_warning,
            in_reply_to_id=in_reply_to_id,
            event_id=event_id,
            attachments=attachments,
        )
        if media_ids:
            await media.take_uploads(conn, author, media_ids, post_id)
        await job_store.insert_job(conn, FEDERATE_POST, {"post_id": post_id, "action": "create"})
        await notifications.notify(conn, answered, "reply", actor_id=author.id, post_id=post_id)
        await notifications.notify_mentioned(conn, config, content, author.id, post_id)
        post = await store.get_post(conn, post_id)
    assert post is not None
    return post


async def edit_post(
    db: Pool, config: Config, post: Post, editor: Account, *, content: str, content_warning: str
) -> Post:
    """Change a post's text; only its author may."""
    if post.author_id != editor.id:
        raise Forbidden("Only the author can edit this post.")
    content_warning = content_warning.strip()
    _check(content, content_warning)
    async with db.acquire() as conn, conn.transaction():
        await store.update_post(
            conn,
            post.id,
            content=content,
            content_html=render_text(content, mention_resolver(config), tag_url(config)),
            content_warning=content_warning,
        )
        await job_store.insert_job(conn, FEDERATE_POST, {"post_id": post.id, "action": "update"})
        updated = await store.get_post(conn, post.id)
    assert updated is not None
    return updated


async def delete_post(db: Pool, post: Post, actor: Account) -> None:
    """Delete a post: its author or a moderator of its group may."""
    async with db.acquire() as conn, conn.transaction():
        action = "delete"
        if post.author_id != actor.id:
            member = (
                await group_store.get_membership(conn, post.group_id, actor.id)
                if post.group_id is not None
                else None
            )
            if member is None or not member.is_moderator:
                raise Forbidden("Only the author or a moderator can delete this post.")
            # A moderator's removal: the group deletes it, and the log keeps who did.
            action = "remove"
            await moderation_store.insert_log(
                conn, moderator_id=actor.id, group_id=post.group_id, action="remove_post",
                target=f"post {post.id}",
            )  # fmt: skip
        await store.delete_post(conn, post.id)
        await job_store.insert_job(conn, FEDERATE_POST, {"post_id": post.id, "action": action})


async def get_post(db: Pool, post_id: int, viewer: Account | None) -> tuple[Post, Group]:
    """Return a post and its group if the viewer may read it."""
    async with db.acquire() as conn:
        post = await store.get_post(conn, post_id)
        group = (
            await group_store.get_group(conn, post.group_id)
            if post is not None and post.group_id is not None
            else None
        )
        if post is None or group is None:
            raise NotFound("This post does not exist.")
        membership = await group_store.get_membership(conn, group.id, viewer.id) if viewer else None
    if not can_read(group, membership):
        raise Forbidden("This group shares its posts with members only.")
    return post, group


async def list_event_posts(db: Pool, event_id: int, viewer: Account | None = None) -> list[Post]:
    """Return an event's discussion (its readers were checked with the event)."""
    async with db.acquire() as conn:
        return await store.list_event_posts(conn, event_id, viewer_id=viewer.id if viewer else 0)


@dataclass(frozen=True)
class Thread:
    """A post as its page shows it: the post (a tombstone if deleted), what it answers, replies."""

    post: Post
    group: Group
    parent: Post | None  # a tombstone when the answered post was deleted
    replies: list[Post]


async def get_thread(db: Pool, post_id: int, viewer: Account | None) -> Thread:
    """Return a post with its context, if the viewer may read it.

    A deleted post stays reachable while it has replies, so that they keep their thread.
    """
    async with db.acquire() as conn:
        post = await store.get_post(conn, post_id, include_deleted=True)
        group = (
            await group_store.get_group(conn, post.group_id)
            if post is not None and post.group_id is not None
            else None
        )
        if post is None or group is None:
            raise NotFound("This post does not exist.")
        membership = await group_store.get_membership(conn, group.id, viewer.id) if viewer else None
        if not can_read(group, membership):
            raise Forbidden("This group shares its posts with members only.")
        replies = await store.list_replies(conn, post.id, viewer.id if viewer else 0)
        if post.deleted and not replies:
            raise NotFound("This post does not exist.")
        parent = (
            await store.get_post(conn, post.in_reply_to_id, include_deleted=True)
            if post.in_reply_to_id is not None
            else None
        )
    return Thread(post, group, parent, replies)


async def get_post_to_edit(db: Pool, post_id: int, editor: Account) -> tuple[Post, Group]:
    """Return a post its author may edit; anyone else is refused, even to see the form."""
    post, group = await get_post(db, post_id, editor)
    if post.author_id != editor.id:
        raise Forbidden("Only the author can edit this post.")
    return post, group


async def get_post_to_delete(db: Pool, post_id: int, actor: Account) -> tuple[Post, Group]:
    """Return a post the actor may delete (its author, a moderator of its group)."""
    post, group = await get_post(db, post_id, actor)
    if post.author_id != actor.id:
        async with db.acquire() as conn:
            member = await group_store.get_membership(conn, group.id, actor.id)
        if member is None or not member.is_moderator:
            raise Forbidden("Only the author or a moderator can delete this post.")
    return post, group


async def list_liked(db: Pool, account: Account | None, posts: list[Post]) -> set[int]:
    """Return the ids of these posts the account likes (none for a visitor)."""
    if account is None or not posts:
        return set()
    async with db.acquire() as conn:
        return await store.list_liked_post_ids(conn, account.id, [p.id for p in posts])


async def list_author_posts(db: Pool, author: Account, viewer: Account | None) -> list[Post]:
    """Return a person's recent posts that the viewer may read."""
    async with db.acquire() as conn:
        return await store.list_author_posts(conn, author.id, viewer.id if viewer else None)


async def list_replies(db: Pool, post: Post) -> list[Post]:
    async with db.acquire() as conn:
        return await store.list_replies(conn, post.id)


async def list_group_posts(
    db: Pool, group: Group, viewer: Account | None, *, before: int | None = None
) -> PostPage:
    """Return a page of a group's posts, newest first (keyset pagination on the id)."""
    async with db.acquire() as conn:
        membership = await group_store.get_membership(conn, group.id, viewer.id) if viewer else None
        if not can_read(group, membership):
            raise Forbidden("This group shares its posts with members only.")
        posts = await store.list_group_posts(
            conn,
            group.id,
            before_id=before,
            limit=PAGE_SIZE + 1,
            viewer_id=viewer.id if viewer else 0,
        )
    more = len(posts) > PAGE_SIZE
    posts = posts[:PAGE_SIZE]
    return PostPage(posts, posts[-1].id if more else None)


# A local account's like (or its undo) of a remote post, sent to the post's author.
SEND_LIKE = "send_like"


async def toggle_like(db: Pool, config: Config, post: Post, account: Account) -> bool:
    """Like a post, or take the like back; return whether it is now liked.

    Each like has its own id, so that liking again after an undo is not taken by the post's
    server for a replay of the first like.
    """
    like_uri = f"{config.base_url}/users/{account.username}/likes/{secrets.token_hex(8)}"
    async with db.acquire() as conn, conn.transaction():
        liked = await store.insert_like(conn, account.id, post.id, like_uri)
        if liked:
            await refuse_if_blocked(conn, account.id, post.author_id)  # undone with the insert
            await notifications.notify(
                conn, [post.author_id], "like", actor_id=account.id, post_id=post.id
            )
        else:
            like_uri = await store.find_like_uri(conn, account.id, post.id) or like_uri
            await store.delete_like(conn, account.id, post.id)
        if post.uri is not None:
            await job_store.insert_job(
                conn,
                SEND_LIKE,
                {"actor_id": account.id, "post_id": post.id, "undo": not liked,
                 "like_uri": like_uri},
            )  # fmt: skip
    return liked


async def set_like(db: Pool, config: Config, post: Post, account: Account, *, liked: bool) -> None:
    """Like or unlike a post; asking for the state it is already in changes nothing."""
    async with db.acquire() as conn:
        now = await store.find_like_uri(conn, account.id, post.id) is not None
    if now != liked:
        await toggle_like(db, config, post, account)


async def list_feed(db: Pool, account: Account) -> list[Post]:
    """Return recent posts of the remote people and groups the account follows."""
    async with db.acquire() as conn:
        return await store.list_feed(conn, account.id)


async def get_post_to_like(db: Pool, post_id: int, viewer: Account) -> Post:
    """Return a post the viewer may react to: in a group they may read, or in their feed."""
    async with db.acquire() as conn:
        post = await store.get_post(conn, post_id)
        if post is None:
            raise NotFound("This post does not exist.")
        if post.group_id is None:
            return post  # a public post of a followed remote person
        group = await group_store.get_group(conn, post.group_id)
        membership = await group_store.get_membership(conn, post.group_id, viewer.id)
    if group is None or not can_read(group, membership):
        raise Forbidden("This group shares its posts with members only.")
    return post


async def list_tagged_posts(db: Pool, config: Config, tag: str) -> list[Post]:
    """Return recent public posts carrying a hashtag."""
    tag = tag.lower()
    if not tag or len(tag) > 60 or not tag.replace("_", "").isalnum():
        raise NotFound("This page does not exist.")
    async with db.acquire() as conn:
        return await store.list_tagged_posts(conn, tag_url(config)(tag))
