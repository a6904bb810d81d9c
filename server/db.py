"""The connection pool, and the embedded PostgreSQL used when DATABASE_URL is unset.

This is the only place that opens connections; repository modules receive one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg

from server.config import Config

log = logging.getLogger(__name__)

# asyncpg ships no type information: its objects are Any to mypy, named here for readers.
Connection: TypeAlias = asyncpg.Connection
Pool: TypeAlias = asyncpg.Pool

_embedded: dict[Path, Any] = {}


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in DATA_DIR/postgres and return its URL."""
    import pgserver  # imported here: operators with DATABASE_URL never load it

    pgdata = data_dir / "postgres"
    if pgdata not in _embedded:
        pgdata.mkdir(parents=True, exist_ok=True)
        # 'stop': the server stops when the last process using it exits; a process killed with
        # -9 leaves it running, and the next start joins it (or pg_ctl recovers the stale pid).
        _embedded[pgdata] = pgserver.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode="stop"
        )
    server = _embedded[pgdata]
    server.psql("SELECT 1;")  # raises if the server is gone
    if "entraide" not in server.psql("SELECT datname FROM pg_database;"):
        server.psql("CREATE DATABASE entraide;")
    uri: str = server.get_uri("entraide")
    return uri


def database_url(config: Config) -> str:
    """Return the URL to connect to, starting the embedded server when needed."""
    if config.database_url is not None:
        return config.database_url
    return embedded_database_url(config.data_dir)


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    """Open a pool; connections reconnect by themselves after a PostgreSQL restart."""
    pool: Pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, command_timeout=30
    )
    return pool
