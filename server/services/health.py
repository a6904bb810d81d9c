"""Health of the instance as a container or a proxy checks it."""

from __future__ import annotations

import asyncio

from server.db import Pool
from server.migrate import list_pending


async def check_health(db: Pool) -> dict[str, object]:
    """Return the state of the database and the migrations; raise if the database is down."""
    async with asyncio.timeout(5), db.acquire() as conn:
        await conn.fetchval("SELECT 1")
        pending = await list_pending(conn)
    return {"status": "ok" if not pending else "pending_migrations", "database": "ok"}
