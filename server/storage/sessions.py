"""Storage of web sessions and of login attempts (for rate limiting)."""

from __future__ import annotations

from datetime import datetime

from server.db import Connection


async def insert_session(
    conn: Connection, token_hash: bytes, account_id: int, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        account_id,
        expires_at,
    )


async def find_session_account_id(conn: Connection, token_hash: bytes) -> int | None:
    """Return the account of a live session, or None if unknown or expired."""
    value: int | None = await conn.fetchval(
        "SELECT account_id FROM sessions WHERE token_hash = $1 AND expires_at > now()",
        token_hash,
    )
    return value


async def delete_session(conn: Connection, token_hash: bytes) -> None:
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)


async def delete_account_sessions(conn: Connection, account_id: int) -> None:
    await conn.execute("DELETE FROM sessions WHERE account_id = $1", account_id)


async def insert_login_attempt(conn: Connection, username: str, address: str) -> None:
    await conn.execute(
        "INSERT INTO login_attempts (username, address) VALUES ($1, $2)", username, address
    )


async def count_recent_login_attempts(
    conn: Connection, *, username: str, address: str, since: datetime
) -> tuple[int, int]:
    """Return failed attempts since a time, (for this username, from this address)."""
    row = await conn.fetchrow(
        """
        SELECT
            count(*) FILTER (WHERE lower(username) = lower($1)) AS by_username,
            count(*) FILTER (WHERE address = $2) AS by_address
        FROM login_attempts
        WHERE attempted_at > $3 AND (lower(username) = lower($1) OR address = $2)
        """,
        username,
        address,
        since,
    )
    assert row is not None
    return int(row["by_username"]), int(row["by_address"])


async def delete_login_attempts(conn: Connection, username: str) -> None:
    await conn.execute("DELETE FROM login_attempts WHERE lower(username) = lower($1)", username)
