"""Storage of what e-mail needs: one-time tokens, delivery failures, digests sent."""

from __future__ import annotations

from datetime import datetime

from server.db import Connection


async def insert_email_token(
    conn: Connection,
    token_hash: bytes,
    account_id: int,
    purpose: str,
    email: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO email_tokens (token_hash, account_id, purpose, email, expires_at)
        VALUES ($1, $2, $3, $4, $5)
        """,
        token_hash,
        account_id,
        purpose,
        email,
        expires_at,
    )


async def update_token_used(
    conn: Connection, token_hash: bytes, purpose: str
) -> tuple[int, str] | None:
    """Spend a token: return its account and address if it was unused and unexpired."""
    row = await conn.fetchrow(
        """
        UPDATE email_tokens SET used_at = now()
        WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING account_id, email
        """,
        token_hash,
        purpose,
    )
    return (row["account_id"], row["email"]) if row is not None else None


async def is_token_usable(conn: Connection, token_hash: bytes, purpose: str) -> bool:
    value: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM email_tokens WHERE token_hash = $1 AND purpose = $2
                       AND used_at IS NULL AND expires_at > now())
        """,
        token_hash,
        purpose,
    )
    return value


async def insert_email_failure(conn: Connection, address: str, reason: str) -> None:
    await conn.execute(
        "INSERT INTO email_failures (address, reason) VALUES ($1, $2)", address, reason[:500]
    )


async def find_active_account_id_by_email(conn: Connection, email: str) -> int | None:
    value: int | None = await conn.fetchval(
        "SELECT actor_id FROM accounts WHERE lower(email) = lower($1) AND status = 'active'",
        email,
    )
    return value


async def update_email(conn: Connection, account_id: int, email: str) -> bool:
    """Set an account's address unless another account holds it; return whether it was set."""
    result: str = await conn.execute(
        """
        UPDATE accounts SET email = $2
        WHERE actor_id = $1
          AND NOT EXISTS (SELECT 1 FROM accounts WHERE lower(email) = lower($2)
                          AND actor_id <> $1)
        """,
        account_id,
        email,
    )
    return result.endswith(" 1")


async def list_digest_account_ids(conn: Connection) -> list[int]:
    """Return the accounts with digest notifications not yet sent, and no digest for a day."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT n.account_id
        FROM notifications n
        JOIN notification_kinds k ON k.kind = n.kind
        LEFT JOIN notification_preferences p ON p.account_id = n.account_id AND p.kind = n.kind
        LEFT JOIN notification_digests d ON d.account_id = n.account_id
        WHERE n.read_at IS NULL AND n.emailed_at IS NULL
          AND coalesce(p.delivery, k.default_delivery) = 'digest'
          AND (d.sent_at IS NULL OR d.sent_at < now() - interval '1 day')
        """
    )
    return [r["account_id"] for r in rows]


async def claim_digest(conn: Connection, account_id: int) -> list[int]:
    """Mark the account's digest sent now and its notifications e-mailed; return their ids.

    Empty when another worker claimed this digest first (the row lock decides).
    """
    claimed = await conn.fetchval(
        """
        INSERT INTO notification_digests AS d (account_id, sent_at) VALUES ($1, now())
        ON CONFLICT (account_id) DO UPDATE SET sent_at = now()
        WHERE d.sent_at < now() - interval '1 day'
        RETURNING true
        """,
        account_id,
    )
    if not claimed:
        return []
    rows = await conn.fetch(
        """
        UPDATE notifications n SET emailed_at = now()
        FROM notification_kinds k
        WHERE k.kind = n.kind AND n.account_id = $1 AND n.read_at IS NULL
          AND n.emailed_at IS NULL
          AND coalesce((SELECT p.delivery FROM notification_preferences p
                        WHERE p.account_id = n.account_id AND p.kind = n.kind),
                       k.default_delivery) = 'digest'
        RETURNING n.id
        """,
        account_id,
    )
    return sorted(r["id"] for r in rows)


async def update_digests_to_app(conn: Connection, account_id: int) -> None:
    """Turn every kind the account receives in a digest into in-the-app only."""
    await conn.execute(
        """
        INSERT INTO notification_preferences (account_id, kind, delivery)
        SELECT $1, k.kind, 'app' FROM notification_kinds k
        LEFT JOIN notification_preferences p ON p.account_id = $1 AND p.kind = k.kind
        WHERE coalesce(p.delivery, k.default_delivery) = 'digest'
        ON CONFLICT (account_id, kind) DO UPDATE SET delivery = 'app'
        """,
        account_id,
    )
