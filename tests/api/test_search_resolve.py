"""Search with `resolve=true` from an app: addresses on private networks are never fetched."""

from __future__ import annotations

import httpx

from server.config import Config
from server.db import Pool
from tests.api.conftest import bearer, service_token
from tests.factories import make_account, snapshot


async def test_resolve_never_fetches_private_network_addresses(
    client: httpx.AsyncClient, db: Pool, web_config: Config
) -> None:
    assert not web_config.allow_private_addresses
    token = await service_token(db, await make_account(db, web_config, "ada"))
    before = await snapshot(db)

    answers = [
        await client.get(
            "/api/v2/search", params={"q": q, "resolve": "true"}, headers=bearer(token)
        )
        for q in (
            "https://10.0.0.1/users/someone",
            "https://[::1]/posts/1",
            "http://127.0.0.1:9/users/someone",
            "@someone@192.168.1.1",
        )
    ]

    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json()["accounts"] == a.json()["statuses"] == [] for a in answers)
    assert await snapshot(db) == before
