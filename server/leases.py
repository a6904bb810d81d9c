"""Leases that last as long as the worker holding them: a dead worker's rows are taken back at once.

A claim pushes a row's run_at ahead (the lease) and stamps it with the worker's key. The worker
holds a session-level advisory lock on that key, on a connection of its own, for as long as it
lives; PostgreSQL frees the lock when the session ends (kill -9, crash, lost machine), and the
next claim by any worker finds it free and makes the rows due again (server/storage/jobs.py,
server/storage/activities.py). The lease itself still bounds a worker that lives but hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from server.db import Connection, Pool, is_open
from server.storage import workers as store

log = logging.getLogger(__name__)


class LeaseUnavailable(ConnectionError):
    """The worker's lock cannot be taken right now: claim nothing, try again shortly.

    A ConnectionError, so that claim loops treat it as the database being out of reach.
    """


class WorkerLease:
    """A worker's key and the connection holding its lock; claims run on that connection.

    Running the claim on the lock's own session means a row is never stamped with a key whose
    lock is not held: if the session died, the claim fails with it.
    """

    def __init__(self, db: Pool) -> None:
        self.db = db
        self.key: int | None = None
        self._conn: Connection | None = None
        # Claims of the job runner and the delivery worker of a process share the connection.
        self._turn = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """Yield the worker's own connection, its lock held (taken again after a reconnection)."""
        async with self._turn:
            yield await self._locked_connection()

    async def _locked_connection(self) -> Connection:
        if self._conn is not None and is_open(self._conn):
            return self._conn
        if self._conn is not None:
            # PostgreSQL restarted: the session, and the lock with it, are gone.
            log.warning("worker %s lost its database session, taking its lock again", self.key)
            await self._release()
        conn = await self.db.acquire()
        try:
            if self.key is None:
                self.key = await store.get_next_worker_key(conn)
            # The same key as before a reconnection: the rows in flight stay ours. A claim by
            # another worker may hold it for a moment, taking back rows it thought orphaned.
            if not await store.try_lock_worker_key(conn, self.key):
                raise LeaseUnavailable(f"worker lock {self.key} is held elsewhere for now")
        except BaseException:
            await self.db.release(conn)
            raise
        self._conn = conn
        return conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # The pool does not reset released connections (server/db.py): reset this one
            # (pg_advisory_unlock_all among the rest) so that the lock goes with it. A dead one
            # is released too: the pool may not know yet, and would wait for it forever on close.
            with contextlib.suppress(Exception):
                if is_open(conn):
                    await conn.reset()
            with contextlib.suppress(Exception):
                await self.db.release(conn)

    async def close(self) -> None:
        """Give the lock up: the worker is stopping and has recorded what it did."""
        async with self._turn:
            await self._release()


@contextlib.asynccontextmanager
async def claiming(
    db: Pool, lease: WorkerLease | None
) -> AsyncIterator[tuple[Connection, int | None]]:
    """Yield a connection in a transaction to claim rows on, and the key to stamp them with.

    With a lease, its own connection and key (its lock held); without, a pool connection and
    no key (the rows are then only leased for a time).
    """
    if lease is None:
        async with db.acquire() as conn, conn.transaction():
            yield conn, None
    else:
        async with lease.connection() as conn, conn.transaction():
            yield conn, lease.key
