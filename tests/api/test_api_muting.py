"""The client API's mutes and blocks, in Mastodon's shapes: what they hide, and the lists."""

from __future__ import annotations

import httpx

from server.config import Config
from server.db import Pool
from tests.api.conftest import bearer, service_token
from tests.factories import make_account, make_group, make_member, make_post, snapshot


async def test_mute_and_block_hide_from_timelines_and_notifications_and_are_listed(
    client: httpx.AsyncClient, db: Pool, web_config: Config
) -> None:
    ada = await make_account(db, web_config, "ada")
    bea = await make_account(db, web_config, "bea")
    cyd = await make_account(db, web_config, "cyd")
    circle = await make_group(db, web_config, ada, "circle", name="The Circle")
    await make_member(db, circle, bea)
    await make_member(db, circle, cyd)
    first = await make_post(db, web_config, circle, ada, "Thanks all")
    await make_post(db, web_config, circle, bea, "From bea", in_reply_to_id=first.id)
    await make_post(db, web_config, circle, cyd, "From cyd")
    headers = bearer(await service_token(db, ada))

    async def home() -> list[str]:
        found = (await client.get("/api/v1/timelines/home", headers=headers)).json()
        return sorted(s["content"] for s in found)

    async def notified() -> list[str]:
        found = (await client.get("/api/v1/notifications", headers=headers)).json()
        return [n["account"]["username"] for n in found]

    assert len(await home()) == 3 and await notified() == ["bea"]

    muted = await client.post(f"/api/v1/accounts/{bea.id}/mute", headers=headers)
    blocked = await client.post(f"/api/v1/accounts/{cyd.id}/block", headers=headers)

    assert muted.status_code == 200 and muted.json()["muting"] is True
    assert blocked.json()["blocking"] is True and blocked.json()["muting"] is False
    assert await home() == ["<p>Thanks all</p>"]
    assert await notified() == []
    context = (await client.get(f"/api/v1/statuses/{first.id}/context", headers=headers)).json()
    assert context["descendants"] == []
    mutes = (await client.get("/api/v1/mutes", headers=headers)).json()
    blocks = (await client.get("/api/v1/blocks", headers=headers)).json()
    assert [a["username"] for a in mutes] == ["bea"]
    assert [a["username"] for a in blocks] == ["cyd"]
    theirs = bearer(await service_token(db, cyd))
    seen = await client.get(
        "/api/v1/accounts/relationships", params={"id[]": str(ada.id)}, headers=theirs
    )
    assert seen.json()[0]["blocked_by"] is True
    # The blocked person's like is refused
    liked = await client.post(f"/api/v1/statuses/{first.id}/favourite", headers=theirs)
    assert liked.status_code in (403, 404)

    await client.post(f"/api/v1/accounts/{bea.id}/unmute", headers=headers)
    unblocked = await client.post(f"/api/v1/accounts/{cyd.id}/unblock", headers=headers)
    assert unblocked.json()["blocking"] is False
    assert len(await home()) == 3
    assert (await client.get("/api/v1/mutes", headers=headers)).json() == []


async def test_muting_oneself_or_nobody_changes_nothing(
    client: httpx.AsyncClient, db: Pool, web_config: Config
) -> None:
    ada = await make_account(db, web_config, "ada")
    headers = bearer(await service_token(db, ada))
    before = await snapshot(db)

    themself = await client.post(f"/api/v1/accounts/{ada.id}/mute", headers=headers)
    nobody = await client.post("/api/v1/accounts/99999999/block", headers=headers)
    garbage = await client.post("/api/v1/accounts/abc/block", headers=headers)
    anonymous = await client.post(f"/api/v1/accounts/{ada.id}/block")

    assert themself.status_code == 422
    assert nobody.status_code == 404 and garbage.status_code == 404
    assert anonymous.status_code == 401
    assert await snapshot(db) == before
