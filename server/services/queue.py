"""The state of background work, for the admin pages and `entraide doctor`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.db import Pool
from server.errors import Forbidden
from server.models import Account
from server.storage import queue as store
from server.storage import workers as worker_store


@dataclass(frozen=True)
class QueueState:
    jobs: int
    jobs_failing: int
    oldest_job_age: timedelta | None
    deliveries: int
    deliveries_failing: int
    oldest_delivery_age: timedelta | None
    unavailable_hosts: int


def _age(now: datetime, moment: datetime | None) -> timedelta | None:
    return now - moment if moment is not None else None


async def count_live_workers(db: Pool) -> int:
    """Return how many workers hold a live lease (server/leases.py): zero means nothing runs."""
    async with db.acquire() as conn:
        return await worker_store.count_live_workers(conn)


async def get_queue_state(db: Pool) -> QueueState:
    async with db.acquire() as conn:
        row = await store.get_queue_state(conn)
    return QueueState(
        jobs=row["jobs"],
        jobs_failing=row["jobs_failing"],
        oldest_job_age=_age(row["now"], row["oldest_job"]),
        deliveries=row["deliveries"],
        deliveries_failing=row["deliveries_failing"],
        oldest_delivery_age=_age(row["now"], row["oldest_delivery"]),
        unavailable_hosts=row["unavailable_hosts"],
    )


def _require_admin(account: Account) -> None:
    if not account.is_admin:
        raise Forbidden("Only administrators can do this.")


async def list_failing_hosts(db: Pool, admin: Account) -> list[dict[str, Any]]:
    _require_admin(admin)
    async with db.acquire() as conn:
        return await store.list_failing_hosts(conn)


async def retry_host_now(db: Pool, admin: Account, host: str) -> int:
    """Let an admin retry every waiting delivery to a host at once."""
    _require_admin(admin)
    async with db.acquire() as conn, conn.transaction():
        return await store.retry_host_now(conn, host)


async def give_up_host(db: Pool, admin: Account, host: str) -> int:
    """Let an admin drop every waiting delivery to a host."""
    _require_admin(admin)
    async with db.acquire() as conn, conn.transaction():
        return await store.give_up_host(conn, host)


async def get_database_facts(db: Pool) -> tuple[int, datetime]:
    """Return the PostgreSQL version number and its clock."""
    async with db.acquire() as conn:
        return await store.get_server_version(conn), await store.get_database_now(conn)
