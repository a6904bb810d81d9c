"""Moderation: bans from groups, removed posts, suspended accounts, instance blocks, reports,
and the log of every action a moderator or an administrator takes."""

from __future__ import annotations

from server import validation as v
from server.db import Connection, Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import Account, Actor, Group, Report
from server.services import notifications
from server.storage import accounts as account_store
from server.storage import actors as actor_store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import moderation as store
from server.storage import posts as post_store
from server.storage import sessions as session_store

MAX_REASON = 1000
# Jobs of the federation worker: a Reject to a banned remote person, a Flag to another server.
SEND_FOLLOW_RESPONSE = "send_follow_response"
SEND_FLAG = "send_flag"


async def _require_moderator(conn: Connection, group: Group, account: Account) -> None:
    member = await group_store.get_membership(conn, group.id, account.id)
    if member is None or not member.is_moderator:
        raise Forbidden("Only the group's moderators can do this.")


def _require_admin(account: Account) -> None:
    if not account.is_admin or account.status != "active":
        raise Forbidden("Only administrators can do this.")


def _handle(actor: Actor) -> str:
    return f"@{actor.name}@{actor.domain}" if actor.domain else f"@{actor.name}"


async def _find_actor(conn: Connection, handle: str) -> Actor:
    """Return a local or known remote actor by @name or @name@host."""
    name, _, domain = handle.strip().lstrip("@").partition("@")
    actor = None
    if name and "\x00" not in handle:
        if domain:
            actor = await actor_store.find_remote_actor_by_handle(conn, name, domain.lower())
        else:
            actor = await actor_store.find_local_actor(conn, name)
    if actor is None or actor.kind != "person":
        raise Invalid({"handle": "No such person is known here."})
    return actor


async def ban_from_group(
    db: Pool, group: Group, moderator: Account, handle: str, reason: str = ""
) -> None:
    """Ban a person from a group: out of it at once, and no Join or Follow lets them back."""
    reason = reason.strip()
    errors = v.collect(reason=v.check_text(reason, max_length=MAX_REASON))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        actor = await _find_actor(conn, handle)
        member = await group_store.get_membership(conn, group.id, actor.id)
        if actor.id == moderator.id or (member is not None and member.role == "owner"):
            raise Conflict("An owner cannot be banned.")
        await store.insert_ban(conn, group.id, actor.id, reason=reason, banned_by=moderator.id)
        await group_store.delete_membership(conn, group.id, actor.id)
        follow = await follow_store.get_follow(conn, actor.id, group.id)
        await follow_store.delete_follow(conn, actor.id, group.id)
        await store.delete_member_deliveries(conn, group.id, actor.id)
        if follow is not None and actor.domain is not None:
            await job_store.insert_job(
                conn,
                SEND_FOLLOW_RESPONSE,
                {"follower_id": actor.id, "target_id": group.id, "accept": False,
                 "follow_uri": follow.uri},
            )  # fmt: skip
        await store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id, action="ban",
            target=_handle(actor), detail=reason,
        )  # fmt: skip


async def lift_ban(db: Pool, group: Group, moderator: Account, actor_id: int) -> None:
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        actor = await actor_store.get_actor(conn, actor_id)
        if actor is None or not await store.delete_ban(conn, group.id, actor_id):
            raise NotFound("This person is not banned.")
        await store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id, action="lift_ban",
            target=_handle(actor),
        )  # fmt: skip


async def list_bans(db: Pool, group: Group, moderator: Account) -> list[tuple[int, str]]:
    async with db.acquire() as conn:
        await _require_moderator(conn, group, moderator)
        return await store.list_banned_names(conn, group.id)


async def is_banned(db: Pool, group_id: int, actor_id: int) -> bool:
    async with db.acquire() as conn:
        return await store.is_banned(conn, group_id, actor_id)


async def suspend_account(db: Pool, admin: Account, username: str, reason: str = "") -> None:
    """Suspend a local account: it can no longer sign in, and its sessions end now."""
    _require_admin(admin)
    async with db.acquire() as conn, conn.transaction():
        account = await account_store.find_account_by_username(conn, username.strip().lower())
        if account is None or account.status not in ("active", "pending"):
            raise Invalid({"username": "No such account on this instance."})
        if account.id == admin.id:
            raise Conflict("You cannot suspend yourself.")
        await account_store.update_status(conn, account.id, "disabled")
        await session_store.delete_account_sessions(conn, account.id)
        await store.insert_log(
            conn, moderator_id=admin.id, group_id=None, action="suspend",
            target=f"@{account.username}", detail=reason.strip()[:MAX_REASON],
        )  # fmt: skip


def normalize_domain(text: str) -> str | None:
    """Return a host name (with its port) as typed, lower case; None if it is not one."""
    domain = text.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
    if not domain or len(domain) > 253 or not set(domain) <= allowed or "." not in domain:
        return None
    return domain


async def block_domain(db: Pool, admin: Account, domain: str, reason: str = "") -> str:
    """Block a server: its activities are refused at the inbox, nothing is delivered to it."""
    _require_admin(admin)
    host = normalize_domain(domain)
    if host is None:
        raise Invalid({"domain": "Type a server name such as example.org."})
    async with db.acquire() as conn, conn.transaction():
        await store.insert_domain_block(conn, host, reason.strip()[:MAX_REASON])
        await store.delete_deliveries_to_hosts_blocked(conn, host)
        await store.insert_log(
            conn, moderator_id=admin.id, group_id=None, action="block_domain", target=host,
            detail=reason.strip()[:MAX_REASON],
        )  # fmt: skip
    return host


async def unblock_domain(db: Pool, admin: Account, domain: str) -> None:
    _require_admin(admin)
    async with db.acquire() as conn, conn.transaction():
        if not await store.delete_domain_block(conn, domain):
            raise NotFound("This server is not blocked.")
        await store.insert_log(
            conn, moderator_id=admin.id, group_id=None, action="unblock_domain", target=domain
        )


async def block_remote_actor(db: Pool, admin: Account, handle: str, reason: str = "") -> None:
    """Block one remote person for the whole instance."""
    _require_admin(admin)
    async with db.acquire() as conn, conn.transaction():
        actor = await _find_actor(conn, handle)
        if actor.domain is None:
            raise Invalid({"handle": "Suspend local accounts instead."})
        await store.insert_actor_block(conn, actor.id, reason.strip()[:MAX_REASON])
        await store.insert_log(
            conn, moderator_id=admin.id, group_id=None, action="block_actor",
            target=_handle(actor), detail=reason.strip()[:MAX_REASON],
        )  # fmt: skip


async def list_domain_blocks(db: Pool, admin: Account) -> list[str]:
    _require_admin(admin)
    async with db.acquire() as conn:
        return await store.list_domain_blocks(conn)


async def is_blocked(db: Pool, domain: str, actor_uri: str | None = None) -> bool:
    """Tell whether a remote server (or one of its actors) is blocked here."""
    async with db.acquire() as conn:
        return await store.is_blocked(conn, domain.lower(), actor_uri)


async def report(
    db: Pool, reporter: Account, *, post_id: int | None, reason: str, forward: bool = False
) -> int:
    """Report a post to its group's moderators and the admins; optionally to its server.

    A forwarded report reaches the origin as a Flag signed by this instance: never the
    reporter's name.
    """
    reason = reason.strip()
    errors = v.collect(reason=v.check_text(reason, max_length=MAX_REASON, required=True))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        post = await post_store.get_post(conn, post_id) if post_id is not None else None
        if post is None:
            raise NotFound("This post does not exist.")
        if post.group_id is not None:
            group = await group_store.get_group(conn, post.group_id)
            member = await group_store.get_membership(conn, post.group_id, reporter.id)
            readable = group is not None and (
                group.visibility == "public" or (member is not None and member.state == "active")
            )
            if not readable:
                raise NotFound("This post does not exist.")
        report_id = await store.insert_report(
            conn, reporter_id=reporter.id, origin_domain=None, flag_uri=None,
            target_actor_id=post.author_id, post_id=post.id, group_id=post.group_id,
            reason=reason,
        )  # fmt: skip
        assert report_id is not None
        target = f"@{post.author_name}" + (f"@{post.author_domain}" if post.author_domain else "")
        await notifications.notify_report(conn, post.group_id, target, reporter_id=reporter.id)
        if forward and post.author_domain is not None:
            await job_store.insert_job(conn, SEND_FLAG, {"report_id": report_id})
            await store.update_report_forwarded(conn, report_id)
    return report_id


async def receive_flag(
    db: Pool, sender: Actor, flag_uri: str, reason: str, actor_ids: list[int], post_ids: list[int]
) -> int | None:
    """Queue a Flag from another server as a report (Mastodon's shape: accounts and statuses)."""
    if sender.domain is None:
        raise Forbidden("Flags come from other servers.")
    async with db.acquire() as conn, conn.transaction():
        post = await post_store.get_post(conn, post_ids[0]) if post_ids else None
        target = actor_ids[0] if actor_ids else (post.author_id if post else None)
        if target is None and post is None:
            return None
        report_id = await store.insert_report(
            conn, reporter_id=None, origin_domain=sender.domain, flag_uri=flag_uri,
            target_actor_id=target, post_id=post.id if post else None,
            group_id=post.group_id if post else None, reason=reason[:MAX_REASON],
        )  # fmt: skip
        if report_id is not None:  # None: this Flag was received already
            reported = await actor_store.get_actor(conn, target) if target is not None else None
            named = _handle(reported) if reported is not None else f"post {post_ids[0]}"
            await notifications.notify_report(conn, post.group_id if post else None, named)
        return report_id


async def list_reports(db: Pool, account: Account, group: Group | None = None) -> list[Report]:
    """Return open reports: an admin sees all; a group's moderators see their group's."""
    async with db.acquire() as conn:
        if group is None:
            _require_admin(account)
            return await store.list_reports(conn, group_ids=None)
        await _require_moderator(conn, group, account)
        return await store.list_reports(conn, group_ids=[group.id])


async def resolve_report(db: Pool, account: Account, report_id: int) -> None:
    async with db.acquire() as conn, conn.transaction():
        found = await store.get_report_group(conn, report_id)
        if found is None:
            raise NotFound("There is no such report.")
        _exists, group_id = found
        if not account.is_admin:
            group = await group_store.get_group(conn, group_id) if group_id else None
            if group is None:
                raise Forbidden("Only administrators can do this.")
            await _require_moderator(conn, group, account)
        await store.update_report_state(conn, report_id, "resolved")
        await store.insert_log(
            conn, moderator_id=account.id, group_id=group_id, action="resolve_report",
            target=f"report {report_id}",
        )  # fmt: skip


async def get_report_for_flag(db: Pool, report_id: int) -> tuple[str, int | None, int | None]:
    """Return (reason, reported actor id, reported post id) of a report to forward."""
    async with db.acquire() as conn:
        found = await store.get_report_for_flag(conn, report_id)
    if found is None:
        raise NotFound("There is no such report.")
    return found


async def list_log(
    db: Pool, account: Account, group: Group | None = None
) -> list[tuple[str, str, str, str, str]]:
    """Return the moderation log: the instance's (admins) or a group's (its moderators)."""
    async with db.acquire() as conn:
        if group is None:
            _require_admin(account)
            return await store.list_log(conn, None)
        await _require_moderator(conn, group, account)
        return await store.list_log(conn, group.id)
