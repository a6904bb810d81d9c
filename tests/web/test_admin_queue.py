"""The administrator's queue page: waiting deliveries, failing servers, retry and give up."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account
from tests.web.conftest import OpenVisitor

ACTOR_COLUMNS = "(kind, name, domain, uri, inbox)"


async def _failing_delivery(db: Pool, host: str) -> None:
    async with db.acquire() as conn:
        actor_id = await conn.fetchval("SELECT id FROM actors WHERE domain IS NULL LIMIT 1")
        activity = await conn.fetchval(
            "INSERT INTO outbox_activities (uri, actor_id, type, payload)"
            " VALUES ('https://x.example/a', $1, 'Announce', '{}') RETURNING id",
            actor_id,
        )
        await conn.execute(
            "INSERT INTO deliveries (activity_id, inbox, host, run_at, attempts, last_error)"
            " VALUES ($1, $2, $3, now() + interval '1 day', 3, 'HTTP 503')",
            activity,
            f"https://{host}/inbox",
            host,
        )
        await conn.execute(
            "INSERT INTO hosts (host, failure_days, unavailable, last_failure_at)"
            " VALUES ($1, ARRAY[current_date], true, now())",
            host,
        )


async def test_admin_sees_failing_servers_and_retries_one_now(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "root_admin", is_admin=True)
    await _failing_delivery(db, "down.example")
    admin = visitors()
    await admin.log_in("root_admin")
    page = await admin.page("/admin/queue")
    assert "down.example" in page.text and "HTTP 503" in page.text
    assert "ENTRAIDE_URL" in page.text and "x" * 40 not in page.text  # no secret shown

    response = await admin.post("/admin/queue/hosts", {"host": "down.example", "action": "retry"})
    assert response.status_code == 303
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT unavailable FROM hosts") is False
        assert await conn.fetchval("SELECT run_at <= now() FROM deliveries") is True


async def test_admin_gives_up_on_a_server_and_its_deliveries_count_as_failed(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "root_admin", is_admin=True)
    await _failing_delivery(db, "gone.example")
    admin = visitors()
    await admin.log_in("root_admin")
    response = await admin.post("/admin/queue/hosts", {"host": "gone.example", "action": "give_up"})
    assert response.status_code == 303
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM deliveries") == 0
        assert await conn.fetchval("SELECT failed FROM outbox_activities") == 1


async def test_queue_page_and_actions_refuse_people_who_are_not_admins(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "someone")
    await make_account(db, web_config, "root_admin", is_admin=True)
    await _failing_delivery(db, "down.example")
    person = visitors()
    await person.log_in("someone")
    assert (await person.get("/admin/queue")).status_code == 403
    response = await person.post(
        "/admin/queue/hosts", {"host": "down.example", "action": "give_up"}
    )
    assert response.status_code == 403
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM deliveries") == 1
