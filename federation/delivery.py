"""The delivery worker: claims delivery rows, signs as the activity's actor, POSTs, records.

Any number of workers share the table (FOR UPDATE SKIP LOCKED with a lease that ends with its
worker, server/leases.py); each caps its concurrent requests per host so one slow peer cannot
hold up the others. Successes are written in batches (one transaction every FLUSH_SECONDS or
FLUSH_ROWS). Delivery is at least once: a worker killed between a peer's 2xx and the record of it
(at most a batch's wait and write) leaves a row another worker sends again (peers deduplicate by
activity id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from federation.context import Federation
from federation.fetch import FetchError, Signer
from federation.signatures import digest_header
from server.db import Pool, retry_while_unreachable
from server.leases import WorkerLease
from server.services import deliveries
from server.services.deliveries import LEASE_SECONDS
from server.worker import MAX_ATTEMPTS, retry_delay

log = logging.getLogger(__name__)

PER_HOST = 8
BATCH = 400
CLAIM_MIN = 50  # free slots before claiming again
# One write per batch of successes rather than per delivery: PostgreSQL's CPU for 10,000
# deliveries went from 7.1 s to 0.9 s (bench/fanout.py). The wait bounds what a kill resends.
FLUSH_SECONDS = 0.05
FLUSH_ROWS = 200


def _unsalvageable(status: int) -> bool:
    # Mastodon (json_ld_helper.rb, response_error_unsalvageable?): 4xx but 401, 408 and 429,
    # and 501, will never succeed; everything else may.
    return (400 <= status < 500 and status not in (401, 408, 429)) or status == 501


class SuccessBatch:
    """Successes waiting to be written together; each caller returns once its own is written."""

    def __init__(self, db: Pool) -> None:
        self.db = db
        self.pending: list[tuple[int, str, asyncio.Future[None]]] = []
        self.full = asyncio.Event()
        self.writer: asyncio.Task[None] | None = None

    async def record(self, delivery_id: int, host: str) -> None:
        """Record a success with the next batch; never raises (a lost record means a resend)."""
        future = asyncio.get_running_loop().create_future()
        self.pending.append((delivery_id, host, future))
        if len(self.pending) >= FLUSH_ROWS:
            self.full.set()
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        try:
            while self.pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.full.wait(), FLUSH_SECONDS)
                self.full.clear()
                batch, self.pending = self.pending[:FLUSH_ROWS], self.pending[FLUSH_ROWS:]
                if len(self.pending) >= FLUSH_ROWS:
                    self.full.set()
                rows = [(delivery_id, host) for delivery_id, host, _ in batch]
                try:
                    # PostgreSQL restarting: hold the batch until it is back, while the leases
                    # last; lost, its rows would wait out their lease and be sent twice.
                    await retry_while_unreachable(
                        partial(deliveries.record_successes, self.db, rows), seconds=LEASE_SECONDS
                    )
                except Exception:
                    log.exception("%d delivery successes not recorded", len(rows))
                for *_, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self.writer = None


class DeliveryWorker:
    def __init__(self, fed: Federation, lease: WorkerLease | None = None) -> None:
        """Use `lease` (shared with the job runner of the process), or take one of its own."""
        self.fed = fed
        self.lease = lease or WorkerLease(fed.db)
        self.own_lease = lease is None
        self.successes = SuccessBatch(fed.db)
        self.due = asyncio.Event()
        # One body per activity, posted to every inbox: encoded and digested once.
        self.bodies: dict[int, tuple[str, bytes, str]] = {}
        self.host_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(PER_HOST)
        )

    def _signer(self, row: dict[str, Any]) -> Signer:
        prefix = {"group": "groups", "person": "users"}.get(row["kind"])
        uri = (
            f"{self.fed.urls.base}/{prefix}/{row['name']}"
            if prefix
            else f"{self.fed.urls.base}/actor"
        )
        return Signer(uri + "#main-key", row["private_key_pem"])

    def _body(self, activity_row_id: int, payload: str) -> tuple[bytes, str]:
        """Return the activity's body and its Digest (the payload may have been updated)."""
        found = self.bodies.get(activity_row_id)
        if found is None or found[0] != payload:
            if len(self.bodies) >= 64:
                self.bodies.clear()
            body = payload.encode()
            found = self.bodies[activity_row_id] = (payload, body, digest_header(body))
        return found[1], found[2]

    async def deliver(self, row: dict[str, Any]) -> None:
        """Deliver one row and record the outcome; never raises."""
        db, host = self.fed.db, row["host"]
        ids = (row["id"], row["activity_id"])
        body, digest = self._body(row["activity_id"], row["payload"])
        record: Callable[[], Awaitable[None]]
        async with self.host_slots[host]:
            try:
                status = await self.fed.http.post_activity(
                    row["inbox"], body, self._signer(row), digest=digest
                )
                error = f"HTTP {status}"
            except FetchError as exc:
                status, error = 0, exc.message
                if not exc.retryable:
                    record = partial(deliveries.record_permanent_failure, db, *ids)
                    await self._record(row, record)
                    return
        if 200 <= status < 300:
            await self.successes.record(row["id"], host)
            return
        if status == 410:
            record = partial(deliveries.record_permanent_failure, db, *ids, gone_inbox=row["inbox"])
        elif (status and _unsalvageable(status)) or row["attempts"] >= MAX_ATTEMPTS:
            record = partial(deliveries.record_permanent_failure, db, *ids)
        else:
            delay = retry_delay(row["attempts"])
            record = partial(
                deliveries.record_retry, db, row["id"], host, delay_seconds=delay, error=error
            )
        await self._record(row, record)

    async def _record(self, row: dict[str, Any], write: Callable[[], Awaitable[None]]) -> None:
        try:
            # PostgreSQL restarting: hold the outcome until it is back, while the lease lasts;
            # lost, the row would wait out its lease and the peer would get the activity twice.
            await retry_while_unreachable(write, seconds=LEASE_SECONDS)
        except Exception:
            log.exception("delivery %s to %s: outcome not recorded", row["id"], row["inbox"])

    def wake(self) -> None:
        """Claim now rather than at the next poll: deliveries were just queued."""
        self.due.set()

    async def run(self, stop: asyncio.Event, *, idle_seconds: float = 0.5) -> None:
        """Deliver until `stop` is set."""
        try:
            await self._run(stop, idle_seconds)
        finally:
            if self.own_lease:
                await self.lease.close()

    async def _run(self, stop: asyncio.Event, idle_seconds: float) -> None:
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            free = BATCH - len(running)
            if running and free < CLAIM_MIN:
                # Claim in batches: each claim also takes back dead workers' rows, so one
                # claim per finished delivery would cost PostgreSQL more than the deliveries.
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            rows = await self._claim(free)
            for row in rows:
                task = asyncio.create_task(self.deliver(row))
                running.add(task)
                task.add_done_callback(running.discard)
            if not rows:
                # Nothing due: new deliveries and retries coming due are found by polling, or
                # at once when a job of this process queued some (federation/jobs.py).
                await self._idle(stop, idle_seconds)
        if running:
            await asyncio.wait(running, timeout=15)

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        if not self.due.is_set():
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.due.wait())]
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            for wait in waits:
                wait.cancel()
        self.due.clear()

    async def _claim(self, limit: int) -> list[dict[str, Any]]:
        try:
            return await deliveries.claim_deliveries(self.fed.db, limit, lease=self.lease)
        except Exception as exc:  # PostgreSQL restarting: try again shortly
            if type(exc).__module__.startswith("asyncpg") or isinstance(exc, OSError):
                log.warning("claiming deliveries failed: %s", exc)
                await asyncio.sleep(1)
                return []
            raise
