"""Two people (or one double click) racing for the same name get a clear error, not a crash."""

from __future__ import annotations

import asyncio

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Invalid
from server.passwords import verify_password
from server.services import accounts, groups
from tests.factories import make_account


async def test_simultaneous_signups_for_one_name_keep_one_and_refuse_the_other(
    db: Pool, config: Config
) -> None:
    results = await asyncio.gather(
        *(
            accounts.register_account(
                db, config, username="twin", email=f"twin{i}@example.org", password="x" * 12
            )
            for i in range(2)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Account", "Invalid"]
    refused = next(r for r in results if isinstance(r, Invalid))
    assert refused.fields == {"username": "This name is already taken."}
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM actors WHERE name = 'twin'") == 1
        assert await conn.fetchval("SELECT count(*) FROM accounts") == 1


async def test_simultaneous_group_creations_for_one_slug_keep_one(db: Pool, config: Config) -> None:
    owner = await make_account(db, config)
    results = await asyncio.gather(
        *(groups.create_group(db, config, owner, slug="same", name="Same") for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Group", "Invalid"]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM groups") == 1


@pytest.mark.parametrize(
    "stored", ["scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$AAAA", "scrypt$3$8$1$AAAA$AAAA"]
)
def test_corrupted_password_hash_never_matches(stored: str) -> None:
    assert verify_password("anything", stored) is False
