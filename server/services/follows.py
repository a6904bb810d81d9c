"""Follows across servers: remote people following local groups, and members following out."""

from __future__ import annotations

from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import Account, Actor, Group
from server.sanitize import sanitize_html
from server.services import notifications
from server.storage import actors as actor_store
from server.storage import follows as store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import moderation as moderation_store
from server.storage import muting as muting_store

# Jobs the federation worker turns into activities.
SEND_FOLLOW_RESPONSE = "send_follow_response"  # Accept or Reject of a received Follow
SEND_FOLLOW = "send_follow"  # a local account's Follow or Undo Follow
RESOLVE_AND_FOLLOW = "resolve_and_follow"  # look up @name@host, then follow
SEND_GROUP_RULES = "send_group_rules"  # a members-only group's rules, to who asks to join


async def receive_follow(db: Pool, follower: Actor, target: Actor, follow_uri: str) -> str:
    """Record a remote Follow of a local actor; return 'accepted', 'pending' or 'rejected'.

    Groups that approve members approve followers too (`manuallyApprovesFollowers`); everyone
    else is accepted at once and an Accept is queued. A Follow of a members-only group is a
    request to join it: a pending membership that moderators approve. A person banned from a
    group gets a Reject, whatever they send: a new Follow never undoes a ban.
    """
    if not target.is_local or target.kind == "application":
        raise NotFound("No such actor here.")
    async with db.acquire() as conn, conn.transaction():
        state = "accepted"
        members_only = False
        # A person who blocked (or was blocked by) the follower is not followed by them.
        if target.kind == "person" and await muting_store.is_blocked_either_way(
            conn, follower.id, target.id
        ):
            await job_store.insert_job(
                conn,
                SEND_FOLLOW_RESPONSE,
                {"follower_id": follower.id, "target_id": target.id, "accept": False,
                 "follow_uri": follow_uri},
            )  # fmt: skip
            return "rejected"
        if target.kind == "group":
            if await moderation_store.is_banned(conn, target.id, follower.id):
                await job_store.insert_job(
                    conn,
                    SEND_FOLLOW_RESPONSE,
                    {"follower_id": follower.id, "target_id": target.id, "accept": False,
                     "follow_uri": follow_uri},
                )  # fmt: skip
                return "rejected"
            group = await group_store.get_group(conn, target.id)
            members_only = group is not None and group.visibility != "public"
            # A members-only group never lets a stranger in (followers may post) unasked.
            if group is not None and (group.join_policy != "open" or members_only):
                state = "pending"
        existing = await store.get_follow(conn, follower.id, target.id)
        if existing is not None and existing.state == "accepted":
            state = "accepted"
        if members_only:
            member = await group_store.get_membership(conn, target.id, follower.id)
            state = "accepted" if member is not None and member.state == "active" else "pending"
            if member is None:
                await group_store.insert_membership(
                    conn, target.id, follower.id, role="member", state="pending"
                )
                # The rules reach the person before anyone decides: a Note from the group to
                # them alone, kept with the request so that moderators read what was sent.
                rules = group.rules if group is not None else ""
                await group_store.update_rules_shown(conn, target.id, follower.id, rules)
                await job_store.insert_job(
                    conn,
                    SEND_GROUP_RULES,
                    {"group_id": target.id, "follower_id": follower.id, "follow_uri": follow_uri},
                )
        await store.upsert_follow(conn, follower.id, target.id, follow_uri, state)
        if target.kind == "group" and (existing is None or existing.state != state):
            kind = "follow" if state == "accepted" else "follow_request"
            await notifications.notify_moderators(conn, target.id, kind, actor_id=follower.id)
        if state == "accepted":
            await job_store.insert_job(
                conn,
                SEND_FOLLOW_RESPONSE,
                {"follower_id": follower.id, "target_id": target.id, "accept": True,
                 "follow_uri": follow_uri},
            )  # fmt: skip
    return state


async def receive_undo_follow(db: Pool, follower: Actor, target: Actor) -> bool:
    """Forget a remote follow; in a group, the remote person leaves it (at once)."""
    async with db.acquire() as conn, conn.transaction():
        removed = await store.delete_follow(conn, follower.id, target.id)
        if target.kind == "group" and not follower.is_local:
            member = await group_store.get_membership(conn, target.id, follower.id)
            if member is not None and member.role != "owner":
                await group_store.delete_membership(conn, target.id, follower.id)
                await moderation_store.delete_member_deliveries(conn, target.id, follower.id)
                removed = True
        return removed


async def decide_follow(
    db: Pool, group: Group, moderator: Account, follower_id: int, *, accept: bool
) -> None:
    """Let a moderator accept or reject a pending follow request of the group.

    In a members-only group, accepting the follow makes the person a member (and rejecting
    it withdraws their request to join).
    """
    async with db.acquire() as conn, conn.transaction():
        member = await group_store.get_membership(conn, group.id, moderator.id)
        if member is None or not member.is_moderator:
            raise Forbidden("Only the group's moderators can do this.")
        follow = await store.get_follow(conn, follower_id, group.id)
        if follow is None or follow.state != "pending":
            raise NotFound("There is no such request.")
        if accept:
            await store.update_follow_state(conn, follower_id, group.id, "accepted")
        else:
            await store.delete_follow(conn, follower_id, group.id)
        if group.visibility != "public":
            request = await group_store.get_membership(conn, group.id, follower_id)
            if request is not None and request.state == "pending":
                if accept:
                    await group_store.update_membership(
                        conn, group.id, follower_id, role="member", state="active"
                    )
                else:
                    await group_store.delete_membership(conn, group.id, follower_id)
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id,
            action="accept_follow" if accept else "reject_follow", target=str(follower_id),
        )  # fmt: skip
        await job_store.insert_job(
            conn,
            SEND_FOLLOW_RESPONSE,
            {"follower_id": follower_id, "target_id": group.id, "accept": accept,
             "follow_uri": follow.uri},
        )  # fmt: skip


async def receive_follow_response(
    db: Pool, target: Actor, follower_id: int, *, accepted: bool
) -> None:
    """Apply a remote Accept or Reject of a local account's follow; an Accept is told."""
    async with db.acquire() as conn, conn.transaction():
        if accepted:
            before = await store.get_follow(conn, follower_id, target.id)
            await store.update_follow_state(conn, follower_id, target.id, "accepted")
            if before is not None and before.state == "pending":
                await notifications.notify(
                    conn, [follower_id], "follow_accepted", actor_id=target.id
                )
        else:
            await store.delete_follow(conn, follower_id, target.id)
            # Removed from a remote members-only group: its posts kept here stop being theirs.
            if target.kind == "group":
                await group_store.delete_membership(conn, target.id, follower_id)


async def request_follow(db: Pool, account: Account, handle: str) -> None:
    """Queue a follow of a remote person or group given as @name@host or a URL."""
    handle = handle.strip()
    if handle.startswith("https://") or handle.startswith("http://"):
        ok = len(handle) < 500 and " " not in handle
    else:
        parts = handle.lstrip("@").split("@")
        ok = len(parts) == 2 and all(parts) and len(handle) < 300 and " " not in handle
    if not ok:
        raise Invalid({"handle": "Type a handle such as @name@example.org or a profile URL."})
    async with db.acquire() as conn, conn.transaction():
        # A new attempt: the failures shown so far are the past.
        await store.delete_failed_lookups(conn, account.id)
        await job_store.insert_job(
            conn, RESOLVE_AND_FOLLOW, {"account_id": account.id, "handle": handle}
        )


# Why a follow could not be made, as the person is told (web/templates/following.html).
LOOKUP_FAILURES = ("unreachable", "not_found", "refused")


async def record_failed_lookup(db: Pool, account_id: int, handle: str, reason: str) -> None:
    """Keep, for the person who asked, why a follow of `handle` could not be made."""
    assert reason in LOOKUP_FAILURES, reason
    async with db.acquire() as conn, conn.transaction():
        await store.insert_failed_lookup(conn, account_id, handle, reason)
        kind = notifications.FOLLOW_FAILURE_KINDS[reason]
        await notifications.notify(conn, [account_id], kind, subject=handle)


async def list_failed_lookups(db: Pool, account: Account) -> list[tuple[str, str]]:
    async with db.acquire() as conn:
        return await store.list_failed_lookups(conn, account.id)


async def follow_actor(db: Pool, follower_id: int, target: Actor, follow_uri: str) -> None:
    """Record a local account's follow of a remote actor (pending) and queue the Follow."""
    if target.is_local:
        raise Conflict("Follow local groups by joining them.")
    async with db.acquire() as conn, conn.transaction():
        await store.upsert_follow(conn, follower_id, target.id, follow_uri, "pending")
        await job_store.insert_job(
            conn,
            SEND_FOLLOW,
            {"follower_id": follower_id, "target_id": target.id, "undo": False,
             "follow_uri": follow_uri},
        )  # fmt: skip


async def unfollow(db: Pool, account: Account, target_id: int) -> None:
    """Stop following a remote actor; an Undo is queued."""
    async with db.acquire() as conn, conn.transaction():
        follow = await store.get_follow(conn, account.id, target_id)
        if follow is None:
            raise NotFound("You do not follow this account.")
        await store.delete_follow(conn, account.id, target_id)
        # Leaving a remote members-only group: what it sent here is no longer shown to them.
        await group_store.delete_membership(conn, target_id, account.id)
        await job_store.insert_job(
            conn,
            SEND_FOLLOW,
            {"follower_id": account.id, "target_id": target_id, "undo": True,
             "follow_uri": follow.uri},
        )  # fmt: skip


async def get_rules_shown(db: Pool, group_id: int, actor_id: int) -> str | None:
    """Return the rules kept with a pending request to join; None once it was decided."""
    async with db.acquire() as conn:
        member = await group_store.get_membership(conn, group_id, actor_id)
    if member is None or member.state != "pending":
        return None
    return member.rules_shown or ""


async def receive_group_rules(db: Pool, group: Actor, follow_uri: str, rules_html: str) -> str:
    """Keep the rules a remote group sent in answer to a local person's request to join it.

    Only the group followed by that very Follow may send them; the person is told.
    """
    async with db.acquire() as conn, conn.transaction():
        follow = await store.find_follow_by_uri(conn, follow_uri)
        follower = await actor_store.get_actor(conn, follow.follower_id) if follow else None
        if follow is None or follower is None or not follower.is_local:
            raise NotFound("There is no such request.")
        if follow.target_id != group.id or group.kind != "group" or group.is_local:
            raise Forbidden("Only the group asked may answer this request.")
        await store.update_rules_received(
            conn, follow.follower_id, group.id, sanitize_html(rules_html)
        )
        await notifications.notify(conn, [follow.follower_id], "group_rules", actor_id=group.id)
    return "rules received"


async def list_rules_received(db: Pool, account: Account) -> dict[int, str]:
    """Return the rules each remote group the account asked to join sent them (sanitized)."""
    async with db.acquire() as conn:
        return await store.list_rules_received(conn, account.id)


async def list_following(db: Pool, account: Account) -> list[tuple[Actor, str]]:
    async with db.acquire() as conn:
        return await store.list_following(conn, account.id)


async def count_followers(db: Pool, actor_id: int) -> int:
    async with db.acquire() as conn:
        return await store.count_followers(conn, actor_id)


async def list_follow_requests(db: Pool, group: Group, moderator: Account) -> list[Actor]:
    async with db.acquire() as conn:
        member = await group_store.get_membership(conn, group.id, moderator.id)
        if member is None or not member.is_moderator:
            raise Forbidden("Only the group's moderators can do this.")
        return await store.list_followers(conn, group.id, state="pending")


async def get_actor(db: Pool, actor_id: int) -> Actor:
    async with db.acquire() as conn:
        actor = await actor_store.get_actor(conn, actor_id)
    if actor is None:
        raise NotFound("No such actor here.")
    return actor
