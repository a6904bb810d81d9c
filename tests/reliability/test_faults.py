"""Faults done for real: workers and the web killed with SIGKILL, PostgreSQL restarted under load,
peers that refuse, hang, fail or are gone. Traffic stays on loopback.

Each test prints what it measured (run with -s to see it).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from starlette.responses import Response

from federation.context import open_federation
from federation.delivery import PER_HOST, DeliveryWorker
from server.db import Pool
from server.migrate import apply_migrations
from server.services.outbox import publish_activity
from server.storage.workers import WORKER_LOCK_SPACE
from tests.conftest import drop_database, make_database, unique_database_name
from tests.factories import make_account, make_group
from tests.federation.remote import ActivityJSON, FakeActor, fake_peers
from tests.reliability.processes import (
    EntraideProcess,
    OwnPostgres,
    Web,
    Worker,
    instance_env,
    wait_for,
)
from tests.reliability.seeding import fault_config, post_in_group, seed_fanout, sql
from tests.reliability.sinks import RefusingPort, Sink, free_port

BASE_URL = "http://127.0.0.1:8000"  # the instance's public URL: no web process needed here


@pytest.fixture
def database(pg_server: Any) -> Iterator[str]:
    """Return the URL of a fresh, migrated database on the session's PostgreSQL."""
    name = unique_database_name("faults")
    url = make_database(name)
    try:
        yield url
    finally:
        drop_database(name)


def report(title: str, **figures: Any) -> None:
    print(f"\n[{title}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def test_worker_killed_mid_fanout_leaves_no_inbox_without_the_post(
    database: str, tmp_path: Path
) -> None:
    followers = 1000
    with Sink(10, delay=0.05) as sink:
        config = fault_config(database, BASE_URL, tmp_path)
        fanout = asyncio.run(seed_fanout(config, sink.hosts, followers))
        env = instance_env(database, BASE_URL, tmp_path)
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            worker.wait_ready()
            asyncio.run(post_in_group(config, fanout, "Killed half-way"))
            started = time.monotonic()
            wait_for(lambda: sink.total() >= followers * 0.4, 60, "40% delivered")
            worker.kill()
            killed = time.monotonic()
            # `entraide worker` runs a process per CPU: the others see their parent gone and
            # stop, recording what they delivered. The snapshot is of what no process will record.
            wait_for(lambda: not worker_locks(database), 30, "the other worker processes")
            time.sleep(0.2)  # requests already on the wire reach the sink
            at_kill = sink.counts()
            pending = {
                urlsplit(r["inbox"]).path: r["claimed_by"]
                for r in sql(database, "SELECT inbox, claimed_by FROM deliveries")
            }
            worker.start()
            wait_for(
                lambda: not sql(database, "SELECT 1 FROM deliveries LIMIT 1"),
                60,
                "deliveries after the restart",
            )
            finished = time.monotonic()
        finally:
            worker.stop()
        counts = sink.counts()
        ids = sink.ids()
    (announce,) = {i for received in ids.values() for i in received}
    # Claimed and never recorded: the only deliveries that may have reached their peer
    # without our knowing, so the only ones that may arrive twice.
    in_flight = {path for path, key in pending.items() if key is not None}
    received_unrecorded = {path for path in in_flight if at_kill.get(path)}
    completed_before = set(fanout.inboxes) - set(pending)
    twice = {path for path, n in counts.items() if n > 1}
    report(
        "kill -9 mid fan-out",
        inboxes=followers,
        received_at_kill=sum(at_kill.values()),
        recorded_before_kill=len(completed_before),
        in_flight_at_kill=len(in_flight),
        of_which_received=len(received_unrecorded),
        unclaimed_at_kill=len(pending) - len(in_flight),
        duplicates=len(twice),
        seconds_to_kill=round(killed - started, 1),
        seconds_after_restart=round(finished - killed, 1),
    )
    assert announce.endswith("/announce")
    assert set(counts) == set(fanout.inboxes), "an inbox never got the post"
    assert completed_before and in_flight, "the kill did not land mid-way"
    # At least once, and twice only where the kill fell between the peer's 202 and our record.
    assert received_unrecorded <= twice <= in_flight
    assert all(counts[path] == 1 for path in completed_before)
    assert max(counts.values()) <= 2
    # The dead worker's leases ended with it: no wait for LEASE_SECONDS (120 s).
    assert finished - killed < 30


def worker_locks(database: str) -> list[dict[str, Any]]:
    """Return the worker locks held in the database: one per living worker process."""
    return sql(
        database,
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
        " AND classid = $1 AND database = (SELECT oid FROM pg_database"
        " WHERE datname = current_database())",
        WORKER_LOCK_SPACE,
    )


def test_worker_processes_stop_when_their_parent_is_killed(database: str, tmp_path: Path) -> None:
    config = fault_config(database, BASE_URL, tmp_path)
    asyncio.run(seed_fanout(config, [], 0))
    env = instance_env(database, BASE_URL, tmp_path)
    worker = EntraideProcess(["worker", "--processes", "3"], env, tmp_path / "worker.log")
    worker.launch()
    try:
        wait_for(lambda: len(worker_locks(database)) == 3, 30, "three worker processes")
        worker.kill()
        killed = time.monotonic()
        wait_for(lambda: not worker_locks(database), 20, "the children to stop")
        stopped = time.monotonic()
    finally:
        worker.stop()
    report("parent killed", children_stopped_after=round(stopped - killed, 1))
    assert worker.log().count("worker process started") == 2


def test_four_worker_processes_deliver_each_of_5000_deliveries_exactly_once(
    database: str, tmp_path: Path
) -> None:
    followers = 5000
    with Sink(20) as sink:
        config = fault_config(database, BASE_URL, tmp_path)
        fanout = asyncio.run(seed_fanout(config, sink.hosts, followers))
        env = instance_env(database, BASE_URL, tmp_path)
        workers = [Worker(env, tmp_path / f"worker{n}.log").start() for n in range(4)]
        try:
            for worker in workers:
                worker.wait_ready()
            asyncio.run(post_in_group(config, fanout, "Four workers, one post"))
            started = time.monotonic()
            claimers: set[int] = set()

            def done() -> bool:
                rows = sql(
                    database,
                    "SELECT DISTINCT claimed_by FROM deliveries WHERE claimed_by IS NOT NULL",
                )
                claimers.update(r["claimed_by"] for r in rows)
                return sink.total() >= followers and not sql(
                    database, "SELECT 1 FROM deliveries LIMIT 1"
                )

            wait_for(done, 120, "5,000 deliveries", interval=0.1)
            elapsed = time.monotonic() - started
            time.sleep(0.5)  # anything sent twice would arrive now
            (tally,) = sql(
                database,
                "SELECT sum(delivered) AS delivered, sum(failed) AS failed FROM outbox_activities",
            )
        finally:
            for worker in workers:
                worker.stop()
        counts = sink.counts()
    report(
        "4 workers",
        deliveries=followers,
        posts_received=sum(counts.values()),
        distinct_inboxes=len(counts),
        twice=sum(n > 1 for n in counts.values()),
        workers_seen_claiming=len(claimers),
        seconds=round(elapsed, 1),
        per_second=round(followers / elapsed),
    )
    assert set(counts) == set(fanout.inboxes), "a delivery was left behind"
    assert all(n == 1 for n in counts.values()), "a delivery was made twice"
    # Each `entraide worker` runs a process per CPU, each with its own key.
    assert len(claimers) >= 4, "fewer claimers than workers"
    assert tally == {"delivered": followers, "failed": 0}


async def test_misbehaving_peers_get_backoff_while_a_healthy_one_flows(
    db: Pool, pg_url: str, tmp_path: Path
) -> None:
    hanging = True
    answered: dict[str, int] = {}

    def answer(host: str, path: str) -> int | None:
        if host == hang:
            return None if hanging else 503
        if host == flaky:  # 500 first, then 202
            answered[path] = answered.get(path, 0) + 1
            return 500 if answered[path] == 1 else 202
        return 410 if host == gone else 202

    config = fault_config(pg_url, BASE_URL, tmp_path)
    owner = await make_account(db, config, "owner")
    group = await make_group(db, config, owner, "peers")
    with Sink(4, answer=answer) as sink:
        healthy, hang, flaky, gone = sink.hosts
        refusing = RefusingPort()
        refused = refusing.host
        gone_actor = f"http://{gone}/users/left"
        async with db.acquire() as conn:
            await conn.execute(
                "INSERT INTO actors (kind, name, domain, uri, inbox)"
                " VALUES ('person', 'left', $1, $2, $3)",
                gone, gone_actor, f"{gone_actor}/inbox",
            )  # fmt: skip
        inboxes = {
            # The hung host first: its requests are made first, and hold their slots.
            hang: [f"http://{hang}/inbox/{i}" for i in range(PER_HOST + 1)],
            healthy: [f"http://{healthy}/inbox/{i}" for i in range(20)],
            refused: [f"http://{refused}/inbox"],
            flaky: [f"http://{flaky}/inbox"],
            gone: [f"{gone_actor}/inbox"],
        }
        for host, urls in inboxes.items():
            await publish_activity(
                db, uri=f"{BASE_URL}/activities/{host}", actor_id=group.id, type="Announce",
                payload={"id": f"{BASE_URL}/activities/{host}", "type": "Announce"},
                inboxes=urls,
            )  # fmt: skip

        async def rows(host: str) -> list[dict[str, Any]]:
            async with db.acquire() as conn:
                found = await conn.fetch(
                    "SELECT inbox, attempts, last_error, claimed_by,"
                    " extract(epoch FROM run_at - now()) AS wait FROM deliveries WHERE host = $1",
                    host,
                )
            return [dict(r) for r in found]

        async def host_row(host: str) -> dict[str, Any]:
            async with db.acquire() as conn:
                found = await conn.fetchrow("SELECT * FROM hosts WHERE host = $1", host)
            return dict(found) if found else {}

        async def until(predicate: Any, timeout: float, what: str) -> None:
            async with asyncio.timeout(timeout):
                while not await predicate():
                    await asyncio.sleep(0.02)

        fed = await open_federation(db, config)
        stop = asyncio.Event()
        started = time.monotonic()
        worker = asyncio.create_task(DeliveryWorker(fed).run(stop, idle_seconds=0.05))
        try:
            await until(lambda: _empty(rows(healthy)), 5, "healthy deliveries")
            healthy_seconds = time.monotonic() - started
            await until(lambda: _true(sink.most_waiting[hang] >= PER_HOST), 5, "hung requests")
            await asyncio.sleep(0.2)
            hung_at_once = sink.most_waiting[hang]
            assert hung_at_once == PER_HOST  # the cap: 8 hung, the ninth waits its turn
            assert len(await rows(hang)) == PER_HOST + 1

            # Refused and 500: retried later, per retry_delay(1) = 16 to 26 s; attempts counted.
            await until(lambda: _failed_once(rows(refused)), 5, "refused recorded")
            await until(lambda: _failed_once(rows(flaky)), 5, "500 recorded")
            (refused_row,) = await rows(refused)
            (flaky_row,) = await rows(flaky)
            # httpx-aiohttp names a refused connection ConnectTimeout, httpx ConnectError.
            assert refused_row["last_error"].startswith("Request failed: Connect")
            assert flaky_row["last_error"] == "HTTP 500"
            for row in (refused_row, flaky_row):
                assert row["attempts"] == 1 and row["claimed_by"] is None
                assert 14 < row["wait"] <= 26
            assert len((await host_row(refused))["failure_days"]) == 1

            # 500 then 202: delivered once the retry is due (made due here, not waited for).
            async with db.acquire() as conn:
                await conn.execute("UPDATE deliveries SET run_at = now() WHERE host = $1", flaky)
            await until(lambda: _empty(rows(flaky)), 5, "retry after 500")
            assert answered == {"/inbox": 2}
            assert (await host_row(flaky))["failure_days"] == []

            # 410 from a personal inbox: dropped for good, and the actor behind it removed.
            await until(lambda: _empty(rows(gone)), 5, "410 dropped")
            async with db.acquire() as conn:
                assert (
                    await conn.fetchval("SELECT 1 FROM actors WHERE uri = $1", gone_actor) is None
                )
                tally = await conn.fetchrow(
                    "SELECT delivered, failed FROM outbox_activities WHERE uri = $1",
                    f"{BASE_URL}/activities/{gone}",
                )
            assert dict(tally) == {"delivered": 0, "failed": 1}

            # Failures on 7 distinct days make the host unavailable (6 earlier days, and today).
            async with db.acquire() as conn:
                await conn.execute(
                    "UPDATE hosts SET failure_days = ARRAY(SELECT current_date - d"
                    " FROM generate_series(1, 6) AS d) WHERE host = $1",
                    refused,
                )
                await conn.execute("UPDATE deliveries SET run_at = now() WHERE host = $1", refused)
            await until(lambda: _attempts(rows(refused), 2), 5, "second refusal")
            (refused_row,) = await rows(refused)
            assert 29 < refused_row["wait"] <= 51  # retry_delay(2): 31 to 51 s
            unavailable = await host_row(refused)
            assert unavailable["unavailable"] and len(unavailable["failure_days"]) == 7
            # ... and skipped: due again, it is not claimed (one probe an hour only).
            async with db.acquire() as conn:
                await conn.execute("UPDATE deliveries SET run_at = now() WHERE host = $1", refused)
            await asyncio.sleep(0.5)  # ten claims at idle_seconds=0.05
            assert (await rows(refused))[0]["attempts"] == 2

            # The host answers again; an hour later its probe succeeds: available again.
            sink.listen_on(refusing.release())
            async with db.acquire() as conn:
                await conn.execute(
                    "UPDATE hosts SET last_failure_at = now() - interval '61 minutes'"
                    " WHERE host = $1",
                    refused,
                )
            await until(lambda: _empty(rows(refused)), 5, "probe of the unavailable host")
            back = await host_row(refused)
            assert not back["unavailable"] and back["failure_days"] == []

            # The client's timeout (10 s) frees the hung peer's slots: retried later, and the
            # ninth delivery gets its turn (and hangs in its turn).
            await until(lambda: _attempts(rows(hang), 1, PER_HOST), 12, "hung requests timed out")
            timed_out = time.monotonic() - started
            await until(lambda: _true(sink.by_host[hang] == PER_HOST + 1), 5, "the ninth")
            # The peer hangs up at last: the ninth fails at once, retried later too.
            hanging = False
            sink.hang_up()
            await until(lambda: _attempts(rows(hang), 1, PER_HOST + 1), 5, "hung up")
        finally:
            hanging = False
            sink.hang_up()
            refusing.release()
            stop.set()
            await asyncio.wait_for(worker, 15)
            await fed.close()
    hung = await rows(hang)
    report(
        "misbehaving peers",
        healthy_seconds=round(healthy_seconds, 2),
        hung_at_once=hung_at_once,
        hung_timed_out_after=round(timed_out, 1),
        refused_retry_in=round(refused_row["wait"]),
        hung_errors=sorted({r["last_error"] for r in hung}),
    )
    assert healthy_seconds < 2, "the hung peer slowed the healthy one down"
    assert all(r["claimed_by"] is None and r["wait"] > 4 for r in hung)
    assert Counter(r["last_error"].split(": ")[-1] for r in hung)["ReadTimeout"] == PER_HOST
    assert sink.counts().keys() >= {f"/inbox/{i}" for i in range(20)}


async def _true(value: bool) -> bool:
    return value


async def _empty(rows: Awaitable[list[dict[str, Any]]]) -> bool:
    return not await rows


async def _failed_once(rows: Awaitable[list[dict[str, Any]]]) -> bool:
    return any(r["last_error"] for r in await rows)


async def _attempts(rows: Awaitable[list[dict[str, Any]]], attempts: int, count: int = 1) -> bool:
    """Tell whether `count` rows have made `attempts` attempts and are no longer in flight."""
    found = await rows
    done = [r for r in found if r["attempts"] == attempts and r["claimed_by"] is None]
    return len(done) == count


# --- the web process -------------------------------------------------------------------------


def post_signed(actor: FakeActor, inbox: str, activity: dict[str, Any]) -> httpx.Response:
    """POST an activity to an inbox, signed as `actor` (draft-cavage, as Mastodon)."""
    body = json.dumps(activity).encode()
    return httpx.post(inbox, content=body, headers=actor.sign(inbox, body), timeout=10)


def follow(actor: FakeActor, group_uri: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/follows/{uuid.uuid4().hex}",
        "type": "Follow",
        "actor": actor.uri,
        "object": group_uri,
    }


def create_note(actor: FakeActor, group_uri: str, n: int) -> dict[str, Any]:
    """A Create of a Note addressed to the group (FEP-1b12): kept, then Announced."""
    note = {
        "id": f"{actor.uri}/notes/{n}",
        "type": "Note",
        "attributedTo": actor.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group_uri],
        "content": f"<p>Note {n}</p>",
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/notes/{n}/activity",
        "type": "Create",
        "actor": actor.uri,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def test_web_killed_right_after_202_keeps_the_activity_and_processes_it(
    database: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = fault_config(database, base_url, tmp_path)
    fanout = asyncio.run(seed_fanout(config, [], 0))
    group_uri = f"{base_url}/groups/{fanout.group.slug}"
    env = instance_env(database, base_url, tmp_path)
    with fake_peers("127.0.0.5") as (peer,):
        actor = peer.add_actor("/users/kim", "kim")
        note = create_note(actor, group_uri, 1)["object"]
        fetched = threading.Event()

        def slow_note(request: Any) -> Response:
            # The worker is in the middle of the job while the note is being served.
            if not fetched.is_set():
                fetched.set()
                time.sleep(2)
            return ActivityJSON(note)

        peer.serve("/users/kim/notes/1", slow_note)
        web = Web(env, tmp_path / "web.log", port, worker=True).start()
        try:
            # 1. Killed right after its 202: the activity was stored before the answer.
            activity = follow(actor, group_uri)
            response = post_signed(actor, f"{group_uri}/inbox", activity)
            web.kill()  # at once: the in-process worker polls every 0.5 s
            assert response.status_code == 202
            (at_kill,) = sql(
                database,
                "SELECT processed_at FROM inbox_activities WHERE activity_id = $1",
                activity["id"],
            )
            web.start()
            restarted = time.monotonic()
            wait_for(lambda: processed(database, activity["id"]), 20, "the Follow processed")
            follow_seconds = time.monotonic() - restarted
            wait_for(lambda: peer.hits("/users/kim/inbox"), 20, "the Accept")

            # 2. Killed while its worker runs the activity's job: the job is not lost, and not
            # left for its 300-s lease either: the lease ended with the process.
            create = {**create_note(actor, group_uri, 1), "object": note["id"]}
            assert post_signed(actor, f"{group_uri}/inbox", create).status_code == 202
            wait_for(fetched.is_set, 20, "the job started")
            (job,) = sql(database, "SELECT claimed_by FROM jobs")
            web.kill()
            web.start()
            restarted = time.monotonic()
            outcome = wait_for(lambda: processed(database, create["id"]), 30, "the Create")
            create_seconds = time.monotonic() - restarted
        finally:
            web.stop()
        (accept,) = peer.requests_to("/users/kim/inbox", "POST")
    report(
        "kill -9 web",
        follow_processed_before_kill=at_kill["processed_at"] is not None,
        follow_seconds_after_restart=round(follow_seconds, 1),
        create_job_claimed_at_kill=job["claimed_by"] is not None,
        create_seconds_after_restart=round(create_seconds, 1),
    )
    assert json.loads(accept.body)["type"] == "Accept"
    assert job["claimed_by"] is not None
    assert outcome.startswith("stored post")
    assert create_seconds < 10


def processed(database: str, activity_id: str) -> str | None:
    """Return the outcome of a received activity once processed."""
    rows = sql(
        database,
        "SELECT outcome FROM inbox_activities WHERE activity_id = $1 AND processed_at IS NOT NULL",
        activity_id,
    )
    return str(rows[0]["outcome"]) if rows else None


# --- PostgreSQL restarted under load -----------------------------------------------------------


@dataclass
class Sent:
    """One request of the client, and what came of it."""

    activity_id: str
    at: float
    status: int | None  # None: the connection failed


def send_creates(
    actor: FakeActor, group_uri: str, stop: threading.Event, sent: list[Sent], pause: float
) -> None:
    """Post Creates to the group's inbox one after the other until `stop` is set."""
    n = 0
    while not stop.is_set():
        n += 1
        activity = create_note(actor, group_uri, n)
        try:
            status: int | None = post_signed(actor, f"{group_uri}/inbox", activity).status_code
        except httpx.TransportError:
            status = None
        sent.append(Sent(activity["id"], time.monotonic(), status))
        time.sleep(pause)


def test_postgresql_restarted_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    postgres = OwnPostgres()
    followers = 40
    try:
        postgres.server.psql("CREATE DATABASE entraide;")
        database = postgres.url("entraide")
        asyncio.run(migrate(database))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        config = fault_config(database, base_url, tmp_path)
        env = instance_env(database, base_url, tmp_path)
        with Sink(4, delay=0.05) as sink, fake_peers("127.0.0.6") as (peer,):
            fanout = asyncio.run(seed_fanout(config, sink.hosts, followers))
            group_uri = f"{base_url}/groups/{fanout.group.slug}"
            actor = peer.add_actor("/users/sam", "sam")
            web = Web(env, tmp_path / "web.log", port, worker=False).start()
            worker = Worker(env, tmp_path / "worker.log").start()
            sent: list[Sent] = []
            stop = threading.Event()
            client = threading.Thread(target=send_creates, args=(actor, group_uri, stop, sent, 0.1))
            try:
                worker.wait_ready()
                # A member first: the group keeps and Announces the Creates of its followers.
                assert (
                    post_signed(actor, f"{group_uri}/inbox", follow(actor, group_uri)).status_code
                    == 202
                )
                wait_for(lambda: peer.hits("/users/sam/inbox"), 20, "the Accept")
                client.start()
                wait_for(lambda: sink.total() >= followers * 3, 30, "deliveries under way")
                stopped = time.monotonic()
                postgres.stop()
                time.sleep(2)  # down: every request meets a database that is not there
                postgres.start()
                restarted = time.monotonic()
                wait_for(lambda: any(s.status == 202 and s.at > restarted for s in sent), 20,
                         "a 202 after the restart")  # fmt: skip
                recovered = time.monotonic()
                time.sleep(2)  # more traffic on the reconnected pools
                stop.set()
                client.join(20)
                acknowledged = [s.activity_id for s in sent if s.status == 202]

                errors: set[str] = set()

                def settled() -> bool:
                    left = sql(
                        database,
                        "SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM jobs)"
                        " + (SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL)"
                        " AS n",
                    )
                    # What the retries waiting say, to explain a slow recovery.
                    errors.update(
                        f"{r['kind']}: {r['last_error'][:80]}"
                        for r in sql(
                            database,
                            "SELECT kind, last_error FROM jobs WHERE last_error IS NOT NULL"
                            " UNION SELECT 'delivery', last_error FROM deliveries"
                            " WHERE last_error IS NOT NULL",
                        )
                    )
                    return left[0]["n"] == 0

                wait_for(settled, 60, "jobs and deliveries after the restart", interval=0.2)
                settled_at = time.monotonic()
                # And they still stop cleanly (pools closed, no connection lost track of).
                web.stop()
                worker.stop()
                stopping = time.monotonic() - settled_at
                # uvicorn re-raises the SIGTERM it handled: -15 after a complete shutdown.
                shut_down = "Application shutdown complete" in web.log()
                exits = [web.returncode(), worker.returncode()]
            finally:
                stop.set()
                web.stop()
                worker.stop()
            stored = {
                r["activity_id"]: r["outcome"]
                for r in sql(database, "SELECT activity_id, outcome FROM inbox_activities")
            }
            announces = {
                r["uri"]: (r["delivered"], r["failed"])
                for r in sql(
                    database,
                    "SELECT uri, delivered, failed FROM outbox_activities WHERE type = 'Announce'",
                )
            }
            ids = sink.ids()
    finally:
        postgres.cleanup()
    statuses = Counter("refused" if s.status is None else s.status for s in sent)
    during = [s for s in sent if stopped <= s.at <= recovered]
    twice = sum(len(received) - len(set(received)) for received in ids.values())
    report(
        "PostgreSQL restart",
        requests=len(sent),
        statuses=dict(statuses),
        failed_while_down=sum(s.status != 202 for s in during),
        seconds_down=round(restarted - stopped, 1),
        seconds_to_first_202=round(recovered - restarted, 1),
        seconds_to_settle=round(settled_at - restarted, 1),
        announces=len(announces),
        duplicates_at_sinks=twice,
        retries_seen=sorted(errors),
        seconds_to_stop=round(stopping, 1),
    )
    # Failures are clean: a 5xx or no connection, never a 202 for what was not stored.
    assert all(s.status is None or s.status == 202 or s.status >= 500 for s in sent)
    assert any(s.status != 202 for s in during), "the restart went unnoticed"
    assert set(acknowledged) <= set(stored), "a 202 for an activity that was not stored"
    outcomes = Counter(stored[a].split(" ", 2)[0] if stored[a] else None for a in acknowledged)
    assert outcomes == {"stored": len(acknowledged)}, outcomes
    # The worker came back by itself: every kept post was Announced to every follower.
    assert len(announces) >= len(acknowledged)
    # The followers, and the poster's own server (it follows the group).
    assert all(v == (followers + 1, 0) for v in announces.values()), announces
    for path in fanout.inboxes:
        assert set(ids[path]) == set(announces), f"{path} missed an Announce"
    assert recovered - restarted < 10
    assert shut_down and exits == [-15, 0] and stopping < 10


async def migrate(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()
