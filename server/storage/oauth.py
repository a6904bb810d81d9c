"""Storage of OAuth apps, authorization codes and access tokens (all secrets as SHA-256)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import AccessToken, Account, OAuthApp, TokenGrant

_APP = "SELECT id, client_id, name, website, redirect_uris, scopes, created_at FROM oauth_apps"


def _app(row: Any) -> OAuthApp:
    return OAuthApp(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        website=row["website"],
        redirect_uris=tuple(row["redirect_uris"]),
        scopes=tuple(row["scopes"]),
        created_at=row["created_at"],
    )


async def insert_app(
    conn: Connection,
    *,
    client_id: str,
    client_secret_hash: bytes,
    name: str,
    website: str | None,
    redirect_uris: list[str],
    scopes: list[str],
) -> OAuthApp:
    row = await conn.fetchrow(
        """
        INSERT INTO oauth_apps (client_id, client_secret_hash, name, website, redirect_uris,
                                scopes)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING id, client_id, name, website, redirect_uris, scopes, created_at
        """,
        client_id,
        client_secret_hash,
        name,
        website,
        redirect_uris,
        scopes,
    )
    return _app(row)


async def find_app(conn: Connection, client_id: str) -> OAuthApp | None:
    row = await conn.fetchrow(_APP + " WHERE client_id = $1", client_id)
    return _app(row) if row else None


async def find_app_secret_hash(conn: Connection, client_id: str) -> bytes | None:
    value: bytes | None = await conn.fetchval(
        "SELECT client_secret_hash FROM oauth_apps WHERE client_id = $1", client_id
    )
    return value


async def insert_code(
    conn: Connection,
    *,
    code_hash: bytes,
    app_id: int,
    account_id: int,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, scopes,
                                 code_challenge, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        code_hash,
        app_id,
        account_id,
        redirect_uri,
        scopes,
        code_challenge,
        expires_at,
    )


async def use_code(conn: Connection, code_hash: bytes) -> tuple[TokenGrant, bool] | None:
    """Mark a code used; return what it grants and whether it had been used before.

    The first UPDATE wins: a second exchange racing with the same code waits for the row lock,
    then finds `used_at` set and is told the code was used.
    """
    columns = "app_id, account_id, redirect_uri, scopes, code_challenge, expires_at"
    row = await conn.fetchrow(
        f"""
        UPDATE oauth_codes SET used_at = now()
        WHERE code_hash = $1 AND used_at IS NULL
        RETURNING {columns}
        """,
        code_hash,
    )
    reused = row is None
    if row is None:
        row = await conn.fetchrow(
            f"SELECT {columns} FROM oauth_codes WHERE code_hash = $1", code_hash
        )
        if row is None:
            return None
    grant = TokenGrant(
        app_id=row["app_id"],
        account_id=row["account_id"],
        redirect_uri=row["redirect_uri"],
        scopes=tuple(row["scopes"]),
        code_challenge=row["code_challenge"],
        expires_at=row["expires_at"],
    )
    return grant, reused


async def insert_token(
    conn: Connection,
    *,
    token_hash: bytes,
    app_id: int,
    account_id: int | None,
    scopes: list[str],
    code_hash: bytes | None,
) -> datetime:
    created: datetime = await conn.fetchval(
        """
        INSERT INTO oauth_tokens (token_hash, app_id, account_id, scopes, code_hash)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING created_at
        """,
        token_hash,
        app_id,
        account_id,
        scopes,
        code_hash,
    )
    return created


async def find_token_and_account(
    conn: Connection, token_hash: bytes
) -> tuple[AccessToken, Account | None] | None:
    """Return a live token with its person (None for an app token), in one round trip: every
    API request asks this first."""
    row = await conn.fetchrow(
        """
        SELECT t.id, t.account_id, t.scopes, t.created_at, ap.client_id, ap.name AS app_name,
               ap.website AS app_website, a.name, a.display_name, a.summary, a.summary_html,
               a.avatar, c.email, c.is_admin, c.status, c.language, c.timezone,
               c.created_at AS account_created_at
        FROM oauth_tokens t
        JOIN oauth_apps ap ON ap.id = t.app_id
        LEFT JOIN accounts c ON c.actor_id = t.account_id
        LEFT JOIN actors a ON a.id = t.account_id
        WHERE t.token_hash = $1 AND (t.account_id IS NULL OR c.status = 'active')
        """,
        token_hash,
    )
    if row is None:
        return None
    account = None
    if row["account_id"] is not None:
        account = Account(
            id=row["account_id"],
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
            created_at=row["account_created_at"],
        )
    return _token(row), account


def _token(row: Any) -> AccessToken:
    return AccessToken(
        id=row["id"],
        account_id=row["account_id"],
        scopes=tuple(row["scopes"]),
        created_at=row["created_at"],
        client_id=row["client_id"],
        app_name=row["app_name"],
        app_website=row["app_website"],
    )


async def list_account_tokens(conn: Connection, account_id: int) -> list[AccessToken]:
    rows = await conn.fetch(
        """
        SELECT t.id, t.account_id, t.scopes, t.created_at, a.client_id, a.name AS app_name,
               a.website AS app_website
        FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id
        WHERE t.account_id = $1
        ORDER BY t.id DESC
        """,
        account_id,
    )
    return [_token(r) for r in rows]


async def delete_token(conn: Connection, token_hash: bytes, app_id: int) -> bool:
    status: str = await conn.execute(
        "DELETE FROM oauth_tokens WHERE token_hash = $1 AND app_id = $2", token_hash, app_id
    )
    return status != "DELETE 0"


async def delete_account_token(conn: Connection, account_id: int, token_id: int) -> bool:
    status: str = await conn.execute(
        "DELETE FROM oauth_tokens WHERE account_id = $1 AND id = $2", account_id, token_id
    )
    return status != "DELETE 0"


async def delete_code_tokens(conn: Connection, code_hash: bytes) -> None:
    await conn.execute("DELETE FROM oauth_tokens WHERE code_hash = $1", code_hash)


async def delete_account_tokens(conn: Connection, account_id: int) -> None:
    await conn.execute("DELETE FROM oauth_tokens WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM oauth_codes WHERE account_id = $1", account_id)
