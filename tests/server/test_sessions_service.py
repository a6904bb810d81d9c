"""Web sessions: a random token per login, only its hash stored, closed or expired for good."""

from __future__ import annotations

import hashlib

from server.config import Config
from server.db import Pool
from server.services.sessions import close_session, find_session_account, open_session
from server.storage import accounts as account_store
from tests.factories import count_rows, make_account


async def test_open_session_returns_token_that_finds_the_account(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    assert len(token) >= 40
    assert await find_session_account(db, token) == account


async def test_open_session_stores_only_the_token_hash(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    async with db.acquire() as conn:
        stored = await conn.fetchval("SELECT token_hash FROM sessions")
        expires_in_days = await conn.fetchval(
            "SELECT extract(day FROM expires_at - now()) FROM sessions"
        )
    assert stored == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in stored
    assert 29 <= expires_in_days <= 30


async def test_each_login_gets_a_new_token(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    first = await open_session(db, account)
    second = await open_session(db, account)
    assert first != second
    assert await count_rows(db, "sessions") == 2


async def test_close_session_ends_only_that_session(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    phone = await open_session(db, account)
    laptop = await open_session(db, account)
    await close_session(db, phone)
    assert await find_session_account(db, phone) is None
    assert await find_session_account(db, laptop) == account


async def test_expired_session_finds_nobody(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    async with db.acquire() as conn:
        await conn.execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
    assert await find_session_account(db, token) is None


async def test_unknown_empty_or_oversized_token_finds_nobody(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    assert await find_session_account(db, "") is None
    assert await find_session_account(db, token + "x") is None
    assert await find_session_account(db, "x" * 101) is None
    assert await find_session_account(db, token) == account


async def test_session_of_a_disabled_account_finds_nobody(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    async with db.acquire() as conn:
        await account_store.update_status(conn, account.id, "disabled")
    assert await find_session_account(db, token) is None


async def test_closing_an_unknown_session_changes_nothing(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await open_session(db, account)
    await close_session(db, "not-a-session")
    assert await find_session_account(db, token) == account
