"""Accounts: sign-up per the registration mode, login with rate limits, passwords, profiles."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta

from server import validation as v
from server.config import LANGUAGES, Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from server.keys import generate_key_pair
from server.models import Account
from server.names import clean_display_name
from server.passwords import hash_password, verify_password
from server.sanitize import render_text
from server.services import notifications
from server.services.mail import SEND_ACCOUNT_EMAIL
from server.storage import accounts as store
from server.storage import jobs as job_store
from server.storage import oauth as oauth_store
from server.storage import sessions as session_store

# Failed logins tolerated within the window, per account and per client address. A browser that
# once logged in to the account (a "device cookie", as OWASP describes) escapes the account's
# limit: strangers guessing a password from many addresses lock the account for themselves and
# for new browsers, never for its owner's known ones. Every client stays under its address's limit.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Compared against when the username is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = hash_password("entraide-timing-equaliser")


async def register_account(
    db: Pool,
    config: Config,
    *,
    username: str,
    email: str,
    password: str,
    is_admin: bool = False,
    by_operator: bool = False,
    timezone: str = "",
) -> Account:
    """Create an account; the registration mode applies unless an operator creates it.

    `timezone` is the one the browser reported; the instance's zone when absent or unknown.
    """
    if not by_operator and config.registrations == "closed":
        raise Forbidden("Registrations are closed on this instance.")
    username = username.strip().lower()
    email = email.strip()
    timezone = timezone if v.check_timezone(timezone) is None else config.timezone
    errors = v.collect(
        username=v.check_name(username),
        email=v.check_email(email),
        password=v.check_password(password),
    )
    # Every error at once: a name already taken is told with a too-short password.
    async with db.acquire() as conn:
        if "username" not in errors and await store.name_taken(conn, username):
            errors["username"] = "This name is already taken."
        if "email" not in errors and await store.email_taken(conn, email):
            errors["email"] = "This e-mail address is already used."
    if errors:
        # In the order of the form: the first one gets the focus.
        order = ("username", "email", "password")
        raise Invalid({name: errors[name] for name in order if name in errors})
    status = "pending" if config.registrations == "approval" and not by_operator else "active"
    if config.confirm_email and not by_operator:
        status = "unconfirmed"  # then pending or active, once the address is confirmed
    # Hashing and key generation are CPU-bound: keep them off the event loop.
    password_hash = await asyncio.to_thread(hash_password, password)
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    async with db.acquire() as conn, conn.transaction():
        # Checked again: another sign-up may have taken the name while we hashed.
        if await store.name_taken(conn, username):
            raise Invalid({"username": "This name is already taken."})
        if await store.email_taken(conn, email):
            raise Invalid({"email": "This e-mail address is already used."})
        account_id = await store.insert_account(
            conn,
            username=username,
            email=email,
            password_hash=password_hash,
            is_admin=is_admin,
            status=status,
            timezone=timezone,
            private_key_pem=private_pem,
            public_key_pem=public_pem,
        )
        if account_id is None:
            raise Invalid({"username": "This name is already taken."})
        if status == "pending":
            await notifications.notify_admins(conn, "account_pending", actor_id=account_id)
        if status == "unconfirmed":
            await job_store.insert_job(
                conn, SEND_ACCOUNT_EMAIL, {"account_id": account_id, "purpose": "confirm_email"}
            )
        account = await store.get_account(conn, account_id)
    assert account is not None
    return account


def _address_key(address: str) -> str:
    """Return what failures are counted against: the address, or its /64 for IPv6.

    One IPv6 subscriber holds a whole /64 (2⁶⁴ addresses), so per-address limits count the
    network, as Mastodon's Rack::Attack rules do.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


async def authenticate(
    db: Pool, *, username: str, password: str, address: str, known_device: bool = False
) -> Account:
    """Return the account if the password is right; count and limit failures.

    `known_device`: the browser proved an earlier login to this account, so the account's
    limit does not apply to it (its address's limit does).
    """
    username = username.strip().lower()[:64]
    address = _address_key(address)
    since = datetime.now(UTC) - LOGIN_WINDOW
    async with db.acquire() as conn:
        by_name, by_address = await session_store.count_recent_login_attempts(
            conn, username=username, address=address, since=since
        )
        locked = by_name >= MAX_FAILURES_PER_ACCOUNT and not known_device
        if locked or by_address >= MAX_FAILURES_PER_ADDRESS:
            raise RateLimited("Too many failed attempts. Try again in 15 minutes.")
        account = await store.find_account_by_username(conn, username)
        stored = await store.get_password_hash(conn, account.id) if account else None
    ok = await asyncio.to_thread(verify_password, password, stored or _DUMMY_HASH)
    if account is None or not ok:
        async with db.acquire() as conn:
            await session_store.insert_login_attempt(conn, username, address)
        raise Invalid({"password": "Wrong username or password."})
    if account.status == "pending":
        raise Forbidden("Your account is waiting for approval by an administrator.")
    if account.status == "unconfirmed":
        raise Forbidden("Confirm your e-mail address first: follow the link sent to it.")
    if account.status == "disabled":
        raise Forbidden("This account is disabled.")
    if account.status == "deleted":
        raise Forbidden("This account was deleted.")
    async with db.acquire() as conn:
        await session_store.delete_login_attempts(conn, username)
    return account


async def change_password(db: Pool, account: Account, *, current: str, new: str) -> None:
    """Change one's own password; every session is closed (the web opens a fresh one)."""
    async with db.acquire() as conn:
        stored = await store.get_password_hash(conn, account.id)
    if stored is None or not await asyncio.to_thread(verify_password, current, stored):
        raise Invalid({"current_password": "Wrong password."})
    error = v.check_password(new)
    if error:
        raise Invalid({"new_password": error})
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.acquire() as conn, conn.transaction():
        await store.update_password_hash(conn, account.id, new_hash)
        await session_store.delete_account_sessions(conn, account.id)


async def reset_password(db: Pool, admin: Account, *, username: str, new: str) -> None:
    """Let an admin set a new password for someone; their sessions are closed."""
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    error = v.check_password(new)
    if error:
        raise Invalid({"new_password": error})
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.acquire() as conn, conn.transaction():
        account = await store.find_account_by_username(conn, username)
        if account is None:
            raise NotFound("No such account.")
        await store.update_password_hash(conn, account.id, new_hash)
        await session_store.delete_account_sessions(conn, account.id)


async def approve_account(db: Pool, admin: Account, account_id: int) -> None:
    """Let an admin approve a pending registration."""
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    async with db.acquire() as conn:
        account = await store.get_account(conn, account_id)
        if account is None:
            raise NotFound("No such account.")
        if account.status != "pending":
            raise Conflict("This account is not waiting for approval.")
        await store.update_status(conn, account_id, "active")


async def reject_account(db: Pool, admin: Account, account_id: int) -> None:
    """Let an admin turn down a pending registration; the account is disabled."""
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    async with db.acquire() as conn:
        account = await store.get_account(conn, account_id)
        if account is None or account.status != "pending":
            raise NotFound("No such account.")
        await store.update_status(conn, account_id, "disabled")
        # The apps it let in lose their access with it (token lookups also require 'active').
        await oauth_store.delete_account_tokens(conn, account_id)


async def list_pending_accounts(db: Pool, admin: Account) -> list[Account]:
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    async with db.acquire() as conn:
        return await store.list_accounts_by_status(conn, "pending")


async def update_profile(
    db: Pool,
    account: Account,
    *,
    display_name: str,
    summary: str,
    language: str,
    timezone: str,
) -> Account:
    """Change one's display name, bio, language and time zone."""
    display_name = clean_display_name(display_name)
    errors = v.collect(
        display_name=v.check_text(display_name, max_length=v.MAX_DISPLAY_NAME),
        summary=v.check_text(summary, max_length=v.MAX_SUMMARY),
        language=None if language in ("", *LANGUAGES) else "Choose one of the options.",
        timezone=v.check_timezone(timezone),
    )
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn:
        await store.update_profile(
            conn,
            account.id,
            display_name=display_name or account.username,
            summary=summary,
            summary_html=render_text(summary),
            language=language or None,
            timezone=timezone,
        )
        updated = await store.get_account(conn, account.id)
    assert updated is not None
    return updated


async def has_admin(db: Pool) -> bool:
    """Tell whether the instance has an active administrator (the start banner asks)."""
    async with db.acquire() as conn:
        return await store.count_active_admins(conn) > 0


async def get_account_by_username(db: Pool, username: str) -> Account:
    if "\x00" in username:  # no name holds NUL, and PostgreSQL refuses to compare with it
        raise NotFound("This page does not exist.")
    async with db.acquire() as conn:
        account = await store.find_account_by_username(conn, username)
    if account is None or account.status != "active":
        raise NotFound("This page does not exist.")
    return account


# The job that tells peers an account is gone (Delete of the actor).
SEND_ACCOUNT_DELETE = "send_account_delete"


async def delete_account(db: Pool, account: Account, *, password: str) -> None:
    """Delete one's own account: posts become tombstones, peers are told, the name stays taken.

    The last owner of a group must hand the group over first, so no group is left ownerless.
    """
    async with db.acquire() as conn:
        stored = await store.get_password_hash(conn, account.id)
    if stored is None or not await asyncio.to_thread(verify_password, password, stored):
        raise Invalid({"password": "Wrong password."})
    async with db.acquire() as conn, conn.transaction():
        owned = await conn.fetch(
            """
            SELECT m.group_id FROM memberships m WHERE m.actor_id = $1 AND m.role = 'owner'
            AND (SELECT count(*) FROM memberships o WHERE o.group_id = m.group_id
                 AND o.role = 'owner' AND o.state = 'active') = 1
            AND (SELECT count(*) FROM memberships o WHERE o.group_id = m.group_id
                 AND o.state = 'active') > 1
            """,
            account.id,
        )
        if owned:
            raise Conflict("You are the last owner of a group: make someone else owner first.")
        # Who must hear of it is computed before the follows are erased.
        inboxes = await store.list_known_inboxes(conn, account.id)
        await store.erase_account(conn, account.id)
        await oauth_store.delete_account_tokens(conn, account.id)
        await job_store.insert_job(
            conn, SEND_ACCOUNT_DELETE, {"actor_id": account.id, "inboxes": inboxes}
        )
