"""Storage of local accounts: an `actors` row of kind person plus its `accounts` row."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Account

_SELECT = """
    SELECT a.id, a.name, a.display_name, a.summary, a.summary_html, a.avatar,
           c.email, c.is_admin, c.status, c.language, c.timezone, c.created_at
    FROM actors a JOIN accounts c ON c.actor_id = a.id
"""


def _account(row: Any) -> Account:
    return Account(
        id=row["id"],
        username=row["name"],
        display_name=row["display_name"],
        summary=row["summary"],
        summary_html=row["summary_html"],
        avatar=row["avatar"],
        email=row["email"],
        is_admin=row["is_admin"],
        status=row["status"],
        language=row["language"],
        timezone=row["timezone"],
        created_at=row["created_at"],
    )


async def name_taken(conn: Connection, name: str) -> bool:
    """Tell whether a local user or group already has this name (one shared namespace)."""
    found = await conn.fetchval(
        "SELECT 1 FROM actors WHERE lower(name) = lower($1) AND domain IS NULL", name
    )
    return found is not None


async def email_taken(conn: Connection, email: str) -> bool:
    found = await conn.fetchval("SELECT 1 FROM accounts WHERE lower(email) = lower($1)", email)
    return found is not None


async def insert_account(
    conn: Connection,
    *,
    username: str,
    email: str,
    password_hash: str,
    is_admin: bool,
    status: str,
    private_key_pem: str,
    public_key_pem: str,
    timezone: str = "UTC",
) -> int | None:
    """Insert the actor and account rows; return the new id, or None if the name or e-mail
    was taken meanwhile (two sign-ups racing past the service's checks)."""
    actor_id: int | None = await conn.fetchval(
        """
        INSERT INTO actors (kind, name, display_name, private_key_pem, public_key_pem)
        VALUES ('person', $1, $1, $2, $3)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        username,
        private_key_pem,
        public_key_pem,
    )
    if actor_id is None:
        return None
    inserted = await conn.fetchval(
        """
        INSERT INTO accounts (actor_id, email, password_hash, is_admin, status, timezone)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT DO NOTHING
        RETURNING actor_id
        """,
        actor_id,
        email,
        password_hash,
        is_admin,
        status,
        timezone,
    )
    return actor_id if inserted is not None else None


async def count_active_admins(conn: Connection) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM accounts WHERE is_admin AND status = 'active'"
    )
    return value


async def get_account(conn: Connection, account_id: int) -> Account | None:
    row = await conn.fetchrow(_SELECT + " WHERE a.id = $1", account_id)
    return _account(row) if row else None


async def find_account_by_username(conn: Connection, username: str) -> Account | None:
    row = await conn.fetchrow(
        _SELECT + " WHERE lower(a.name) = lower($1) AND a.domain IS NULL", username
    )
    return _account(row) if row else None


async def get_password_hash(conn: Connection, account_id: int) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT password_hash FROM accounts WHERE actor_id = $1", account_id
    )
    return value


async def update_password_hash(conn: Connection, account_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE accounts SET password_hash = $2 WHERE actor_id = $1", account_id, password_hash
    )


async def update_status(conn: Connection, account_id: int, status: str) -> None:
    await conn.execute("UPDATE accounts SET status = $2 WHERE actor_id = $1", account_id, status)


async def update_profile(
    conn: Connection,
    account_id: int,
    *,
    display_name: str,
    summary: str,
    summary_html: str,
    language: str | None,
    timezone: str,
) -> None:
    await conn.execute(
        """
        UPDATE actors SET display_name = $2, summary = $3, summary_html = $4, updated_at = now()
        WHERE id = $1
        """,
        account_id,
        display_name,
        summary,
        summary_html,
    )
    await conn.execute(
        "UPDATE accounts SET language = $2, timezone = $3 WHERE actor_id = $1",
        account_id,
        language,
        timezone,
    )


async def update_avatar(conn: Connection, actor_id: int, avatar: str | None) -> None:
    """Set the avatar of a user or a group (both are actors)."""
    await conn.execute(
        "UPDATE actors SET avatar = $2, updated_at = now() WHERE id = $1", actor_id, avatar
    )


async def list_accounts_by_status(conn: Connection, status: str) -> list[Account]:
    rows = await conn.fetch(_SELECT + " WHERE c.status = $1 ORDER BY c.created_at", status)
    return [_account(r) for r in rows]


async def count_accounts(conn: Connection) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM accounts")
    return value


async def erase_account(conn: Connection, account_id: int) -> None:
    """Erase a person's data but keep the actor row (its id answers 410, its key signs)."""
    await conn.execute(
        """
        UPDATE actors SET display_name = '', summary = '', summary_html = '', avatar = NULL,
                          updated_at = now()
        WHERE id = $1
        """,
        account_id,
    )
    await conn.execute(
        "UPDATE accounts SET status = 'deleted', email = 'deleted-' || actor_id || '@invalid'"
        " WHERE actor_id = $1",
        account_id,
    )
    await conn.execute(
        """
        UPDATE posts SET content = '', content_html = '', content_warning = '',
                         attachments = '[]', deleted_at = now()
        WHERE author_id = $1 AND deleted_at IS NULL
        """,
        account_id,
    )
    await conn.execute("DELETE FROM memberships WHERE actor_id = $1", account_id)
    await conn.execute("DELETE FROM follows WHERE follower_id = $1", account_id)
    await conn.execute("DELETE FROM follows WHERE target_id = $1", account_id)
    await conn.execute("DELETE FROM likes WHERE actor_id = $1", account_id)
    await conn.execute("DELETE FROM sessions WHERE account_id = $1", account_id)


async def list_known_inboxes(conn: Connection, account_id: int) -> list[str]:
    """Return the inboxes of every remote actor who may hold something of this account."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox FROM actors a
        WHERE a.domain IS NOT NULL AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL AND (
            a.id IN (SELECT follower_id FROM follows WHERE target_id IN (
                SELECT group_id FROM memberships WHERE actor_id = $1) OR target_id = $1)
            OR a.id IN (SELECT target_id FROM follows WHERE follower_id = $1))
        """,
        account_id,
    )
    return [r["inbox"] for r in rows]


async def is_deleted_account(conn: Connection, actor_id: int) -> bool:
    value = await conn.fetchval("SELECT status FROM accounts WHERE actor_id = $1", actor_id)
    return bool(value == "deleted")
