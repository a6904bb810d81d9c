"""Data for the fault tests: a public group with thousands of remote followers, in bulk.

The owner and the group come from the services (their keys sign the deliveries); the followers
are rows written with COPY, as bench/fanout.py does: one actor per follower, each with a shared
inbox of its own, so that every follower is one delivery and one path at the sinks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from server.config import Config, load_config
from server.db import create_pool
from server.models import Account, Group
from tests.factories import make_account, make_group, make_post
from tests.reliability.processes import SECRET


def fault_config(database_url: str, base_url: str, data_dir: Path) -> Config:
    return load_config(
        {
            "DATABASE_URL": database_url,
            "ENTRAIDE_URL": base_url,
            "ENTRAIDE_DATA_DIR": str(data_dir),
            "ENTRAIDE_SECRET_KEY": SECRET,
            "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": "true",
        }
    )


@dataclass(frozen=True)
class Fanout:
    owner: Account
    group: Group
    inboxes: list[str]  # the followers' inbox paths at the sinks, one each


async def seed_fanout(config: Config, hosts: list[str], followers: int) -> Fanout:
    """Create an owner, a public group and `followers` remote followers spread over `hosts`."""
    assert config.database_url is not None
    pool = await create_pool(config.database_url, min_size=1, max_size=2)
    try:
        owner = await make_account(pool, config, "owner")
        group = await make_group(pool, config, owner, "fanout")
        async with pool.acquire() as conn, conn.transaction():
            pem = await conn.fetchval("SELECT public_key_pem FROM actors WHERE id = $1", owner.id)
            records = []
            for i in range(followers):
                host = hosts[i % len(hosts)]
                uri = f"http://{host}/users/f{i}"
                records.append(
                    ("person", f"f{i}", host, uri, f"{uri}/inbox", f"http://{host}/inbox/{i}",
                     f"{uri}#main-key", pem)
                )  # fmt: skip
            await conn.copy_records_to_table(
                "actors",
                records=records,
                columns=[
                    "kind", "name", "domain", "uri", "inbox", "shared_inbox", "key_id",
                    "public_key_pem",
                ],
            )  # fmt: skip
            await conn.execute(
                """
                INSERT INTO follows (follower_id, target_id, uri, state)
                SELECT id, $1::bigint, uri || '/follows/1', 'accepted'
                FROM actors WHERE domain IS NOT NULL AND name LIKE 'f%'
                """,
                group.id,
            )
        return Fanout(owner, group, [f"/inbox/{i}" for i in range(followers)])
    finally:
        await pool.close()


async def post_in_group(config: Config, fanout: Fanout, content: str) -> int:
    """Publish a post by the owner: the worker's federate_post job queues the deliveries."""
    assert config.database_url is not None
    pool = await create_pool(config.database_url, min_size=1, max_size=2)
    try:
        post = await make_post(pool, config, fanout.group, fanout.owner, content)
        return post.id
    finally:
        await pool.close()


def sql(database_url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Run one statement on the database (seeding and assertions)."""

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(database_url)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())
