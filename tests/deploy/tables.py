"""Every row of every table, to prove a backup, a restore or an upgrade lost nothing."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from tests.conftest import _run

Tables = dict[str, list[dict[str, Any]]]


async def _read(url: str) -> Tables:
    conn = await asyncpg.connect(url)
    try:
        names = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables: Tables = {}
        for (name,) in names:
            rows = await conn.fetch(f'SELECT to_jsonb(t)::text AS row FROM "{name}" t')
            tables[name] = sorted(
                (json.loads(r["row"]) for r in rows),
                key=lambda row: json.dumps(row, sort_keys=True),
            )
        return tables
    finally:
        await conn.close()


def read_every_table(url: str) -> Tables:
    """Return the rows of every table of the database at `url`, in a stable order."""
    result: Tables = _run(_read(url))
    return result


def rows_lost(before: Tables, after: Tables) -> list[str]:
    """Return what `after` lacks of `before`: tables, and rows (on the columns they had)."""
    lost: list[str] = []
    for table, rows in before.items():
        if table not in after:
            lost.append(f"table {table}")
            continue
        kept = [
            json.dumps({k: row.get(k) for k in (rows[0] if rows else {})}, sort_keys=True)
            for row in after[table]
        ]
        for row in rows:
            key = json.dumps(row, sort_keys=True)
            if key in kept:
                kept.remove(key)
            else:
                lost.append(f"{table}: {key[:300]}")
    return lost
