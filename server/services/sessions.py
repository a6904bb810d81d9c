"""Web sessions: a random token in the cookie, its SHA-256 in PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from server.db import Pool
from server.models import Account
from server.storage import accounts as account_store
from server.storage import sessions as store

SESSION_LIFETIME = timedelta(days=30)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def open_session(db: Pool, account: Account) -> str:
    """Start a session and return the token for the cookie (always a new one: no fixation)."""
    token = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        await store.insert_session(
            conn, _hash(token), account.id, datetime.now(UTC) + SESSION_LIFETIME
        )
    return token


async def find_session_account(db: Pool, token: str) -> Account | None:
    """Return the active account behind a session token, or None."""
    if not token or len(token) > 100:
        return None
    async with db.acquire() as conn:
        account_id = await store.find_session_account_id(conn, _hash(token))
        if account_id is None:
            return None
        account = await account_store.get_account(conn, account_id)
    if account is None or account.status != "active":
        return None
    return account


async def close_session(db: Pool, token: str) -> None:
    async with db.acquire() as conn:
        await store.delete_session(conn, _hash(token))
