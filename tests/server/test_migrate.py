"""Migrations: applied in order, once, recorded; a second run does nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.migrate import apply_migrations, list_migrations, list_pending
from tests.conftest import drop_database, make_database, unique_database_name

# The tables of 0001_initial.sql; later migrations add more.
INITIAL_TABLES = {
    "actors",
    "accounts",
    "groups",
    "memberships",
    "posts",
    "sessions",
    "login_attempts",
    "jobs",
    "schema_migrations",
}


@pytest.fixture
def empty_url(pg_server: Any) -> Iterator[str]:
    name = unique_database_name("empty")
    url = make_database(name, migrated=False)
    try:
        yield url
    finally:
        drop_database(name)


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return {r["table_name"] for r in rows}


def test_list_migrations_returns_numbered_sql_files_in_order(tmp_path: Path) -> None:
    for name in ("0002_more.sql", "0001_first.sql", "README.md", "0003-bad-name.sql", "x.sql"):
        (tmp_path / name).write_text(f"-- {name}")
    found = list_migrations(tmp_path)
    assert [m.name for m in found] == ["0001_first.sql", "0002_more.sql"]
    assert found[0].sql == "-- 0001_first.sql"


def test_shipped_migrations_start_with_0001_initial() -> None:
    names = [m.name for m in list_migrations()]
    assert names[0] == "0001_initial.sql"
    assert names == sorted(names)


async def test_apply_migrations_on_empty_database_creates_schema_and_lists_nothing_pending(
    empty_url: str,
) -> None:
    conn = await asyncpg.connect(empty_url)
    try:
        every = [m.name for m in list_migrations()]
        assert await list_pending(conn) == every
        assert await apply_migrations(conn) == every
        assert await list_pending(conn) == []
        assert await tables(conn) >= INITIAL_TABLES
        recorded = await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        assert [r["name"] for r in recorded] == every
    finally:
        await conn.close()


async def test_apply_migrations_twice_applies_nothing_the_second_time(empty_url: str) -> None:
    conn = await asyncpg.connect(empty_url)
    try:
        assert await apply_migrations(conn) != []
        before = await conn.fetch("SELECT name, applied_at FROM schema_migrations")
        assert await apply_migrations(conn) == []
        after = await conn.fetch("SELECT name, applied_at FROM schema_migrations")
        assert before == after
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_each_migration_once(empty_url: str) -> None:
    first = await asyncpg.connect(empty_url)
    second = await asyncpg.connect(empty_url)
    try:
        results = await asyncio.gather(apply_migrations(first), apply_migrations(second))
        every = [m.name for m in list_migrations()]
        assert sorted(results, key=len) == [[], every]
        count = await first.fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(every)
    finally:
        await first.close()
        await second.close()


async def test_template_database_is_fully_migrated(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        assert await list_pending(conn) == []
        assert await tables(conn) >= INITIAL_TABLES
    finally:
        await conn.close()
