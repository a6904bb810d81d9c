"""Delivery outcomes written in batches: tallies per activity, hosts, and a batch written twice."""

from __future__ import annotations

import asyncio

from federation import delivery
from federation.delivery import SuccessBatch
from server.config import Config
from server.db import Pool
from server.services import deliveries
from server.services.outbox import publish_activity
from tests.factories import make_account

BASE = "http://127.0.0.1:8000"


async def queue(db: Pool, config: Config, name: str, inboxes: list[str]) -> None:
    owner = await make_account(db, config, f"owner{name}")
    await publish_activity(
        db, uri=f"{BASE}/activities/{name}", actor_id=owner.id, type="Create",
        payload={"type": "Create"}, inboxes=inboxes,
    )  # fmt: skip


async def rows(db: Pool) -> dict[int, str]:
    """Return the host of each delivery row left, by id."""
    async with db.acquire() as conn:
        found = await conn.fetch("SELECT id, host FROM deliveries")
    return {r["id"]: r["host"] for r in found}


async def tallies(db: Pool) -> dict[str, int]:
    async with db.acquire() as conn:
        found = await conn.fetch("SELECT uri, delivered FROM outbox_activities")
    return {r["uri"].rsplit("/", 1)[1]: r["delivered"] for r in found}


async def test_a_batch_of_successes_counts_each_delivery_once_per_activity(
    db: Pool, config: Config
) -> None:
    await queue(db, config, "a", [f"http://a.example/inbox/{i}" for i in range(3)])
    await queue(db, config, "b", ["http://b.example/inbox", "http://a.example/inbox/0"])
    queued = await rows(db)
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO hosts (host, failure_days, unavailable) VALUES"
            " ('b.example', ARRAY[current_date], true)"
        )
    assert len(queued) == 5
    batch = list(queued.items())
    await deliveries.record_successes(db, batch)
    # Recorded again (a retried commit, a lease taken back): the tallies do not move.
    await deliveries.record_successes(db, batch)
    assert await rows(db) == {}
    assert await tallies(db) == {"a": 3, "b": 2}
    async with db.acquire() as conn:
        hosts = await conn.fetch("SELECT host, failure_days, unavailable FROM hosts ORDER BY host")
    assert [(h["host"], h["failure_days"], h["unavailable"]) for h in hosts] == [
        ("a.example", [], False),
        ("b.example", [], False),
    ]


async def test_successes_recorded_together_are_written_in_one_batch(
    db: Pool, config: Config
) -> None:
    await queue(db, config, "c", [f"http://c.example/inbox/{i}" for i in range(5)])
    queued = await rows(db)
    writes: list[int] = []
    record = deliveries.record_successes

    async def counting(db: Pool, delivered: list[tuple[int, str]]) -> None:
        writes.append(len(delivered))
        await record(db, delivered)

    batch = SuccessBatch(db)
    deliveries.record_successes = counting  # type: ignore[assignment]
    try:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(batch.record(*row) for row in queued.items()))
        waited = asyncio.get_running_loop().time() - started
    finally:
        deliveries.record_successes = record  # type: ignore[assignment]
    assert writes == [5]
    assert waited < delivery.FLUSH_SECONDS + 1
    assert await rows(db) == {}
    assert await tallies(db) == {"c": 5}
