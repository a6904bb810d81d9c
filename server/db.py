"""The connection pool, and the embedded PostgreSQL used when DATABASE_URL is unset.

This is the only place that opens connections; repository modules receive one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import asyncpg

from server.config import Config

log = logging.getLogger(__name__)

# asyncpg ships no type information: its objects are Any to mypy, named here for readers.
Connection: TypeAlias = asyncpg.Connection
Pool: TypeAlias = asyncpg.Pool
T = TypeVar("T")

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


async def _keep_session(conn: Connection) -> None:
    """Release a connection as it is: the app leaves no session state behind."""


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    """Open a pool; connections reconnect by themselves after a PostgreSQL restart.

    asyncpg resets a released connection with a round trip (`SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`): half the statements of an inbox POST (bench/inbox.py).
    Nothing here sets session state, listens or keeps cursors, and the two session-level
    advisory locks are dropped by their holders (server/leases.py, server/migrate.py), so the
    pool skips it; asyncpg still rolls back a transaction left open.
    """
    pool: Pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, command_timeout=30, reset=_keep_session
    )
    return pool


def is_open(conn: Connection) -> bool:
    """Tell whether a connection taken from the pool still has its session.

    When the session ends (PostgreSQL restarted), asyncpg hands the connection back to the
    pool by itself and the proxy we hold answers every call with an InterfaceError.
    """
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


def is_unreachable(exc: BaseException) -> bool:
    """Tell whether an error means PostgreSQL is out of reach for now (restarting, failing over).

    Refused or reset connections are OSError; a session ended by a shutdown is an operator
    intervention (57P01) or a lost connection; a pooled connection found dead is "closed"; one
    lost in the middle of a query can leave asyncpg's protocol in a state it reports as
    InternalClientError ("another operation is in progress").
    """
    return isinstance(
        exc,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError,
    )


async def retry_while_unreachable(write: Callable[[], Awaitable[T]], *, seconds: float) -> T:
    """Run `write` again, once a second, while PostgreSQL is out of reach; at most `seconds`.

    For a worker's record of an outcome: lost, the row would wait for its lease to run out and
    the work (a delivery) would be done twice.
    """
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await write()
        except Exception as exc:
            if not is_unreachable(exc) or asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("database out of reach, will retry: %s", exc)
        await asyncio.sleep(1)
