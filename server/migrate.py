"""Numbered SQL migrations, applied in order, each in its own transaction and recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import migrations
from server.db import Connection

# Beside the code in a checkout, in site-packages once installed: a package either way.
MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A constant key so two processes migrating at once wait for each other.
_LOCK_KEY = 7_335_021


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


def list_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Return the migrations shipped with the code, in order."""
    names = sorted(p.name for p in folder.iterdir() if _NAME.match(p.name))
    return [Migration(n, (folder / n).read_text()) for n in names]


async def _applied(conn: Connection) -> set[str]:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            name TEXT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    rows = await conn.fetch("SELECT name FROM schema_migrations")
    return {r["name"] for r in rows}


async def list_pending(conn: Connection) -> list[str]:
    """Return the names of migrations not yet applied."""
    applied = await _applied(conn)
    return [m.name for m in list_migrations() if m.name not in applied]


async def apply_migrations(conn: Connection) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date)."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        applied = await _applied(conn)
        done: list[str] = []
        for migration in list_migrations():
            if migration.name in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name) VALUES ($1)", migration.name
                )
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
