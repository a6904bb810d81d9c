"""Applying what peers send: remote actors, posts, edits, deletions and likes.

Federation parses and verifies; these functions decide what is kept and where, and queue the
group's Announce when a local group relays something (FEP-1b12).
"""

from __future__ import annotations

from dataclasses import replace

from server import validation as v
from server.db import Connection, Pool
from server.errors import Forbidden, NotFound
from server.models import Actor, RemoteActorData, RemoteNote
from server.names import clean_display_name, clean_handle
from server.sanitize import sanitize_html
from server.services import notifications
from server.services.posts import FEDERATE_POST
from server.storage import actors as actor_store
from server.storage import events as event_store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import moderation as moderation_store
from server.storage import muting as muting_store
from server.storage import posts as post_store

MAX_REMOTE_HTML = 100_000


async def store_remote_actor(db: Pool, data: RemoteActorData) -> Actor:
    """Insert or refresh a remote actor, its names cleaned of reordering characters; return it."""
    handle = clean_handle(data.name) or "?"
    data = replace(data, name=handle, display_name=clean_display_name(data.display_name) or handle)
    async with db.acquire() as conn:
        actor_id = await actor_store.upsert_remote_actor(conn, data)
        actor = await actor_store.get_actor(conn, actor_id)
    assert actor is not None
    return actor


async def _may_post_in_group(conn: Connection, group_id: int, author: Actor) -> bool:
    group = await group_store.get_group(conn, group_id)
    if group is None:
        return False
    member = await group_store.get_membership(conn, group_id, author.id)
    if member is not None and member.state == "active":
        return True
    follow = await follow_store.get_follow(conn, author.id, group_id)
    return group.followers_can_post and follow is not None and follow.state == "accepted"


async def receive_note(
    db: Pool, author: Actor, note: RemoteNote, *, via: Actor | None = None, resolved: bool = False
) -> int | None:
    """Keep a remote post if it belongs here; return its id, or None if it was not kept.

    A reply to a post in a local group joins that group's thread; a post addressed to a local
    group by a member or an accepted follower joins the group; a post by (or announced by) an
    actor that someone here follows goes to their feed. `resolved`: a person here looked the
    public post up by its address (an app's search), so it is kept for them to read and answer,
    as Mastodon keeps what its search resolves. Anything else is not ours to keep.
    """
    content_html = sanitize_html(note.content_html[:MAX_REMOTE_HTML])
    warning = note.content_warning.strip()[: v.MAX_CONTENT_WARNING]
    async with db.acquire() as conn, conn.transaction():
        group_id: int | None = None
        event_id: int | None = None
        relay = False
        relay_to_members = False
        if note.in_reply_to_id is not None:
            parent = await post_store.get_post(conn, note.in_reply_to_id)
            # A person blocked by the author they answer is not heard (Mastodon drops it too).
            if parent is not None and await muting_store.is_blocked_either_way(
                conn, author.id, parent.author_id
            ):
                return None
            if parent is not None and parent.group_id is not None:
                group_id = parent.group_id
                parent_group = await group_store.get_group(conn, parent.group_id)
                relay = parent_group is not None and parent_group.visibility == "public"
                # Post ids are easy to guess: a members-only thread takes replies only from
                # those who may post in the group, or a stranger could write among its members.
                if not relay and not await _may_post_in_group(conn, group_id, author):
                    return None
                # A member's reply in a local members-only group goes on to the other members
                # on other instances, addressed to them alone (the group relays it).
                group_actor = await actor_store.get_actor(conn, group_id)
                relay_to_members = not relay and group_actor is not None and group_actor.is_local
        if group_id is None and note.in_reply_to_event_id is not None:
            event = await event_store.get_event(conn, note.in_reply_to_event_id)
            group = await group_store.get_group(conn, event.group_id) if event else None
            if event is None or group is None:
                return None
            group_id, event_id = group.id, event.id
            relay = group.visibility == "public" and event.visibility == "public"
            # As for posts: a members-only event takes comments only from those who may post.
            if not relay and not await _may_post_in_group(conn, group_id, author):
                return None
        if group_id is None:
            for candidate in note.addressed_group_ids:
                if await _may_post_in_group(conn, candidate, author):
                    group_id, relay = candidate, True
                    break
        if group_id is None and not note.public:
            # Not public: kept only as a post of a remote members-only group, for the local
            # people it is addressed to who belong to that group; shown to them alone.
            group_id = await _members_only_group(conn, note)
            if group_id is None:
                return None
        mentioned = await _mentioned(conn, author, note)
        if group_id is None and note.public:
            followed = await follow_store.has_local_follower(conn, author.id) or (
                via is not None and await follow_store.has_local_follower(conn, via.id)
            )
            # A public post naming someone here is kept for them, followed or not.
            if not followed and not mentioned and not resolved:
                return None
        post_id = await post_store.insert_remote_post(
            conn,
            uri=note.uri,
            url=note.url,
            group_id=group_id,
            author_id=author.id,
            content_html=content_html,
            content_warning=warning,
            in_reply_to_id=note.in_reply_to_id,
            via_actor_id=via.id if via is not None and group_id is None else None,
            event_id=event_id,
            attachments=note.attachments,
            sensitive=note.sensitive,
        )
        answered: int | None = None
        if post_id is not None and note.in_reply_to_id is not None:
            parent = await post_store.get_post(conn, note.in_reply_to_id)
            if parent is not None and parent.author_id is not None:
                answered = parent.author_id
                await notifications.notify(
                    conn, [parent.author_id], "reply", actor_id=author.id, post_id=post_id
                )
        if post_id is not None:  # the author of the post answered is told once, of the reply
            told = [p for p in mentioned if p != answered]
            await notifications.notify(conn, told, "mention", actor_id=author.id, post_id=post_id)
        if post_id is not None and group_id is not None and relay:
            await job_store.insert_job(
                conn, FEDERATE_POST, {"post_id": post_id, "action": "announce"}
            )
        elif post_id is not None and relay_to_members:
            await job_store.insert_job(
                conn, FEDERATE_POST, {"post_id": post_id, "action": "relay_members"}
            )
    return post_id


async def receive_members_relay(
    db: Pool, group: Actor, author: Actor, note: RemoteNote
) -> int | None:
    """Keep a reply a remote members-only group relays to its members here; None if not ours.

    The group is the authority on what its members say in it: its relay is kept when the
    reply answers a post of that very group held here (so it goes to the local members it
    was sent to, and to no one else); anything else from it is not kept.
    """
    if group.is_local or group.kind != "group" or note.in_reply_to_id is None:
        return None
    async with db.acquire() as conn, conn.transaction():
        parent = await post_store.get_post(conn, note.in_reply_to_id)
        kept = await group_store.get_group(conn, group.id)
        if parent is None or parent.group_id != group.id or kept is None:
            return None
        if kept.visibility == "public":
            return None
        if await muting_store.is_blocked_either_way(conn, author.id, parent.author_id):
            return None
        post_id = await post_store.insert_remote_post(
            conn,
            uri=note.uri,
            url=note.url,
            group_id=group.id,
            author_id=author.id,
            content_html=sanitize_html(note.content_html[:MAX_REMOTE_HTML]),
            content_warning=note.content_warning.strip()[: v.MAX_CONTENT_WARNING],
            in_reply_to_id=parent.id,
            via_actor_id=None,
            attachments=note.attachments,
            sensitive=note.sensitive,
        )
        if post_id is not None:
            await notifications.notify(
                conn, [parent.author_id], "reply", actor_id=author.id, post_id=post_id
            )
    return post_id


async def _mentioned(conn: Connection, author: Actor, note: RemoteNote) -> list[int]:
    """Return the local people a remote post mentions who may be told of it: anyone it names
    when it is public, else only those it is addressed to; nobody when its author or server is
    blocked here (an Announce may bring what the inbox would have refused)."""
    if not note.mentioned_person_ids or author.domain is None:
        return []
    if await moderation_store.is_blocked(conn, author.domain, author.uri):
        return []
    if note.public:
        return list(note.mentioned_person_ids)
    return [p for p in note.mentioned_person_ids if p in note.addressed_person_ids]


async def _members_only_group(conn: Connection, note: RemoteNote) -> int | None:
    """Return the remote group a non-public post is for, its addressees made its members here.

    The group must be remote and followed (accepted) by a local person the post addresses:
    an accepted Follow of a members-only group is a membership. The group is then kept here as
    a members-only group, so every page and timeline shows its posts to those members alone.
    """
    if note.audience_id is None:
        return None
    members = [
        person_id
        for person_id in note.addressed_person_ids
        if (follow := await follow_store.get_follow(conn, person_id, note.audience_id))
        and follow.state == "accepted"
    ]
    if not members:
        return None
    group = await actor_store.get_actor(conn, note.audience_id)
    if group is None or group.is_local or group.kind != "group":
        return None
    await group_store.insert_mirror_group(conn, group.id)
    for person_id in members:
        await group_store.insert_membership(
            conn, group.id, person_id, role="member", state="active"
        )
    return group.id


async def _own_post(conn: Connection, actor: Actor, uri: str) -> int:
    found = await post_store.find_post_id_by_uri(conn, uri)
    if found is None:
        raise NotFound("No such post here.")
    post_id, author_id, deleted = found
    if author_id != actor.id:
        raise Forbidden("Only the author can change this post.")
    if deleted:
        raise NotFound("This post was deleted.")
    return post_id


async def receive_note_update(
    db: Pool, actor: Actor, note: RemoteNote, activity_id: str | None = None
) -> tuple[int, bool]:
    """Apply the author's edit of a remote post, the group relaying it; say if it changed.

    An Update (or a refetch) that brings the text already kept is no edit: the post is not
    marked edited and nothing is relayed.
    """
    async with db.acquire() as conn, conn.transaction():
        post_id = await _own_post(conn, actor, note.uri)
        changed = await post_store.update_remote_post(
            conn,
            post_id,
            content_html=sanitize_html(note.content_html[:MAX_REMOTE_HTML]),
            content_warning=note.content_warning.strip()[: v.MAX_CONTENT_WARNING],
            attachments=note.attachments,
            sensitive=note.sensitive,
        )
        if changed:
            await _relay_if_in_group(conn, post_id, "announce_update", activity_id, "Update")
    return post_id, changed


async def receive_note_delete(
    db: Pool, actor: Actor, uri: str, activity_id: str | None = None
) -> int:
    """Apply the author's deletion of a remote post (a tombstone); the group relays it."""
    async with db.acquire() as conn, conn.transaction():
        post_id = await _own_post(conn, actor, uri)
        await post_store.delete_post(conn, post_id)
        await _relay_if_in_group(conn, post_id, "announce_delete", activity_id, "Delete")
    return post_id


async def receive_group_removal(db: Pool, group: Actor, uri: str) -> int:
    """Apply a remote group's Delete of a post it holds: its moderators removed it.

    Only the group the post was received in (its group, or the group that announced it) may
    remove it; anyone else's Delete of someone else's post changes nothing.
    """
    if group.is_local or group.kind != "group":
        raise Forbidden("Only the author can change this post.")
    async with db.acquire() as conn, conn.transaction():
        found = await post_store.find_post_id_by_uri(conn, uri)
        if found is None:
            raise NotFound("No such post here.")
        post_id, _author_id, deleted = found
        post = await post_store.get_post(conn, post_id, include_deleted=True)
        via = await post_store.get_via_actor_id(conn, post_id)
        if post is None or group.id not in (post.group_id, via):
            raise Forbidden("Only the author or the post's group can remove this post.")
        if not deleted:
            await post_store.delete_post(conn, post_id)
    return post_id


async def _relay_if_in_group(
    conn: Connection, post_id: int, action: str, activity_id: str | None, activity_type: str
) -> None:
    """Queue the group's Announce of a received edit or deletion of a post in the group."""
    group_id = await conn.fetchval("SELECT group_id FROM posts WHERE id = $1", post_id)
    if group_id is not None and activity_id is not None:
        await job_store.insert_job(
            conn,
            FEDERATE_POST,
            {"post_id": post_id, "action": action, "activity_id": activity_id,
             "activity_type": activity_type},
        )  # fmt: skip


async def receive_actor_delete(db: Pool, actor: Actor) -> None:
    """Forget a remote actor who deleted their account, with their posts, follows and likes."""
    if actor.is_local:
        raise Forbidden("Local accounts are not deleted from outside.")
    async with db.acquire() as conn:
        await actor_store.delete_remote_actor(conn, actor.id)


async def receive_like(db: Pool, actor: Actor, post_id: int, like_uri: str | None) -> bool:
    """Count a like of a post we hold; its author is told."""
    async with db.acquire() as conn, conn.transaction():
        if await post_store.is_deleted(conn, post_id) is not False:
            raise NotFound("No such post here.")
        post = await post_store.get_post(conn, post_id)
        if post is not None and await muting_store.is_blocked_either_way(
            conn, actor.id, post.author_id
        ):
            raise Forbidden("The post's author blocked this person.")
        liked = await post_store.insert_like(conn, actor.id, post_id, like_uri)
        post = await post_store.get_post(conn, post_id) if liked else None
        if post is not None and post.author_id is not None:
            await notifications.notify(
                conn, [post.author_id], "like", actor_id=actor.id, post_id=post_id
            )
        return liked


async def receive_undo_like(db: Pool, actor: Actor, like_uri: str) -> bool:
    async with db.acquire() as conn:
        found = await post_store.find_like_by_uri(conn, like_uri)
        if found is None or found[0] != actor.id:
            return False
        return await post_store.delete_like(conn, actor.id, found[1])
