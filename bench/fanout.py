"""Fan-out of one group post to 1,000 and 10,000 remote followers, each on its own inbox.

Starts a throwaway embedded PostgreSQL and two "peer" processes standing in for remote servers
(200 loopback hosts, 202 to every POST, counting duplicates); seeds a public group per size
whose followers all have distinct shared inboxes; then, for each variant, creates one post
with `create_post` and runs the job worker and the DeliveryWorker until every follower's inbox
has its Announce. Variants try changes to the delivery path without editing it (monkeypatched
in this process and its worker child only). Run: `.venv/bin/python bench/fanout.py [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import io
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import _common
import httpx

from federation import delivery, fetch, signatures
from federation.context import Federation, open_federation
from federation.delivery import DeliveryWorker
from federation.jobs import job_handlers
from server.config import Config
from server.db import Pool, create_pool
from server.leases import WorkerLease
from server.models import Account, Group
from server.services import deliveries
from server.services.groups import create_group
from server.services.posts import create_post
from server.worker import run_worker

AIM_INBOXES = 10_000
AIM_SECONDS = 6.0
HOSTS = 200  # distinct host:port the followers are spread over (50 inboxes each at 10,000)
FEW_HOSTS = 4  # a few big instances: the per-host cap (PER_HOST) binds
PEERS = 2  # peer processes; more would only take CPU from the instance on 2 cores


@dataclass(frozen=True)
class Variant:
    """One way of running the delivery path; everything off is the code as it is."""

    name: str
    processes: int = 1  # worker processes: this one, plus processes - 1 children
    aiohttp: bool = False  # httpx-aiohttp's AiohttpTransport instead of httpx's own
    direct: bool = False  # post_activity on an aiohttp.ClientSession, without httpx
    key_cache: bool = False  # signatures._load_private_key behind functools.lru_cache
    batched: bool = False  # deliveries.record_success grouped into one transaction per batch
    noreset: bool = False  # pools release connections without asyncpg's reset query
    hosts: int = HOSTS
    per_host: int | None = None  # delivery.PER_HOST
    batch: int | None = None  # delivery.BATCH
    deadline: float = 60.0  # seconds before the run is cut short


AS_IS = Variant("as is (httpx, 1 process)")
BEST = {"key_cache": True, "batched": True, "aiohttp": True, "noreset": True}
FULL_PLAN: dict[int, list[Variant]] = {
    1_000: [
        Variant("as is (httpx, 1 process)", deadline=90),
        Variant("as is, httpx-aiohttp", aiohttp=True, deadline=90),
        Variant("as is, 2 processes", processes=2, deadline=90),
        Variant("key cache", key_cache=True),
        Variant("key cache, httpx-aiohttp", key_cache=True, aiohttp=True),
        Variant("key cache + batched", key_cache=True, batched=True),
        Variant("all four (see below)", **BEST),
        Variant("all four, 2 processes", processes=2, **BEST),
    ],
    10_000: [
        Variant("as is (httpx, 1 process)", deadline=30),
        # httpx's own pool is the bottleneck of the next four: 30 s show their rate.
        Variant("key cache", key_cache=True, deadline=30),
        Variant("key cache, httpx-aiohttp", key_cache=True, aiohttp=True),
        Variant("key cache, 2 processes", key_cache=True, processes=2, deadline=30),
        Variant("key cache + batched", key_cache=True, batched=True, deadline=30),
        Variant(
            "key cache + batched, BATCH 100", key_cache=True, batched=True, batch=100, deadline=30
        ),
        Variant("key cache + batched, aiohttp", key_cache=True, batched=True, aiohttp=True),
        Variant("all four (see below)", **BEST),
        Variant("all four, 2 processes", processes=2, **BEST),
        Variant("all four, aiohttp direct", direct=True, **BEST),
        Variant("all four, aiohttp direct, 2 processes", direct=True, processes=2, **BEST),
        Variant(f"all four, {FEW_HOSTS} hosts", hosts=FEW_HOSTS, **BEST),
        Variant(f"all four, {FEW_HOSTS} hosts, PER_HOST 50", hosts=FEW_HOSTS, per_host=50, **BEST),
    ],
}
QUICK_PLAN: dict[int, list[Variant]] = {
    1_000: [
        Variant("as is (httpx, 1 process)", deadline=20),
        Variant("key cache", key_cache=True),
        Variant("all four (see below)", **BEST),
        Variant("all four, 2 processes", processes=2, **BEST),
    ]
}


# --- the changes tried, applied by monkeypatching ---------------------------------------------


class SuccessBatcher:
    """record_success for many deliveries in one transaction: the change proposed for
    server/services/deliveries.py (and server/storage/activities.py).

    As is, every success is its own transaction that also bumps one row
    (outbox_activities.delivered): 10,000 followers are 10,000 commits queued on that row lock.
    Here successes wait (at most one commit) and are written together; the caller still
    returns only once its row is durably gone, so nothing is delivered twice after a crash
    that a per-row commit would have avoided.
    """

    def __init__(self, max_rows: int = 1000) -> None:
        self.max_rows = max_rows
        self.pending: list[tuple[int, int, str, asyncio.Future[None]]] = []
        self.flusher: asyncio.Task[None] | None = None

    async def record_success(
        self, db: Pool, delivery_id: int, activity_row_id: int, host: str
    ) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((delivery_id, activity_row_id, host, future))
        if self.flusher is None:
            self.flusher = asyncio.create_task(self._flush(db))
        await future

    async def _flush(self, db: Pool) -> None:
        try:
            await asyncio.sleep(0)  # let the deliveries finishing in this turn join
            while self.pending:
                batch, self.pending = self.pending[: self.max_rows], self.pending[self.max_rows :]
                try:
                    await _write_successes(db, [(d, a, h) for d, a, h, _ in batch])
                except Exception as exc:
                    for *_, future in batch:
                        future.set_exception(exc)
                else:
                    for *_, future in batch:
                        future.set_result(None)
        finally:
            self.flusher = None


async def _write_successes(db: Pool, rows: list[tuple[int, int, str]]) -> None:
    async with db.acquire() as conn, conn.transaction():
        # A row recorded twice (a retried commit, a lease taken back) is counted once: only the
        # rows this DELETE removed add to the tally. Activity rows are locked in id order, so
        # two workers' batches cannot deadlock; hosts too.
        await conn.execute(
            """
            WITH gone AS (
                DELETE FROM deliveries WHERE id = ANY($1::bigint[]) RETURNING activity_id
            )
            UPDATE outbox_activities o SET delivered = o.delivered + t.n
            FROM (SELECT activity_id, count(*) AS n FROM gone GROUP BY activity_id
                  ORDER BY activity_id) t
            WHERE o.id = t.activity_id
            """,
            [r[0] for r in rows],
        )
        await conn.execute(
            """
            INSERT INTO hosts (host, last_success_at)
            SELECT host, now() FROM unnest($1::text[]) AS host
            ON CONFLICT (host) DO UPDATE SET failure_days = '{}', unavailable = false,
                last_success_at = now()
            """,
            sorted({r[2] for r in rows}),
        )


@dataclass
class Timing:
    """Where the in-process worker's time went (the child of a 2-process run is not timed)."""

    sign: float = 0.0  # CPU in sign_request, key loading included
    key_load: float = 0.0  # CPU in signatures._load_private_key
    signs: int = 0
    claims: int = 0
    claimed: int = 0
    claim_wall: float = 0.0
    posts: int = 0
    post_wall: float = 0.0  # summed over concurrent requests, signing included
    records: int = 0
    record_wall: float = 0.0  # summed over concurrent calls


ORIGINAL = {
    "load_key": signatures._load_private_key,
    "sign_request": fetch.sign_request,
    "post_activity": fetch.HttpClient.post_activity,
    "claim": deliveries.claim_deliveries,
    "record_success": deliveries.record_success,
    "PER_HOST": delivery.PER_HOST,
    "BATCH": delivery.BATCH,
}
ALREADY_CACHED = hasattr(ORIGINAL["load_key"], "cache_info")


def install(variant: Variant, timing: Timing | None) -> None:
    """Put the variant's functions in place, over the originals, timed when asked."""
    load_key: Any = ORIGINAL["load_key"]
    if variant.key_cache and not ALREADY_CACHED:
        load_key = functools.lru_cache(maxsize=64)(load_key)
    record: Any = ORIGINAL["record_success"]
    if variant.batched:
        record = SuccessBatcher().record_success
    sign: Any = ORIGINAL["sign_request"]
    post: Any = post_activity_direct if variant.direct else ORIGINAL["post_activity"]
    claim: Any = ORIGINAL["claim"]
    if timing is not None:
        load_key, sign = _timed_sync(load_key, timing, "key_load"), _timed_sign(sign, timing)
        post = _timed_async(post, timing, "post_wall", "posts")
        claim = _timed_claim(claim, timing)
        record = _timed_async(record, timing, "record_wall", "records")
    signatures._load_private_key = load_key  # type: ignore[assignment]
    fetch.sign_request = sign
    fetch.HttpClient.post_activity = post  # type: ignore[method-assign]
    deliveries.claim_deliveries = claim
    deliveries.record_success = record
    _common.patch_pool_reset(variant.noreset)
    delivery.PER_HOST = variant.per_host or ORIGINAL["PER_HOST"]
    delivery.BATCH = variant.batch or ORIGINAL["BATCH"]


def _timed_sync(function: Any, timing: Timing, name: str) -> Any:
    def timed(*args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return function(*args)
        finally:
            setattr(timing, name, getattr(timing, name) + time.perf_counter() - t0)

    return timed


def _timed_sign(function: Any, timing: Timing) -> Any:
    def timed(*args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return function(*args)
        finally:
            timing.sign += time.perf_counter() - t0
            timing.signs += 1

    return timed


def _timed_async(function: Any, timing: Timing, wall: str, count: str) -> Any:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            setattr(timing, wall, getattr(timing, wall) + time.perf_counter() - t0)
            setattr(timing, count, getattr(timing, count) + 1)

    return timed


def _timed_claim(function: Any, timing: Timing) -> Any:
    async def timed(db: Pool, limit: int, **kwargs: Any) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        rows: list[dict[str, Any]] = await function(db, limit, **kwargs)
        timing.claim_wall += time.perf_counter() - t0
        if rows:  # idle polls are not claims
            timing.claims += 1
            timing.claimed += len(rows)
        return rows

    return timed


async def post_activity_direct(
    self: fetch.HttpClient, inbox: str, body: bytes, signer: fetch.Signer
) -> int:
    """HttpClient.post_activity on aiohttp alone: the other change proposed for fetch.py."""
    import aiohttp

    await fetch.check_url(inbox, allow_private=self.allow_private)
    headers = fetch.sign_request(
        "POST",
        inbox,
        {"Content-Type": fetch.ACTIVITY_JSON, "User-Agent": self.user_agent},
        body,
        signer.key_id,
        signer.private_key_pem,
    )
    session: aiohttp.ClientSession = self.session  # type: ignore[attr-defined]
    try:
        async with session.post(inbox, data=body, headers=headers, allow_redirects=False) as r:
            await r.content.read(64_000)  # what a peer says back is not needed, only bounded
            return r.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise fetch.FetchError(f"Request failed: {type(exc).__name__}", retryable=True) from None


async def use_transport(fed: Federation, variant: Variant) -> None:
    """Swap the HTTP client's transport for httpx-aiohttp's, same limits and timeouts."""
    if variant.direct:
        import aiohttp

        fed.http.session = aiohttp.ClientSession(  # type: ignore[attr-defined]
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=10),
            auto_decompress=False,
        )
    if not variant.aiohttp:
        return
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    old = fed.http.client
    fed.http.client = httpx.AsyncClient(
        transport=AiohttpTransport(limits=limits),
        timeout=fetch.TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": fed.http.user_agent},
    )
    await old.aclose()


# --- the worker processes ----------------------------------------------------------------------


async def work(
    url: str, config: Config, variant: Variant, stop: asyncio.Event, *, child: bool = False
) -> None:
    """Run the job worker and the delivery worker as federation.jobs.run_workers does."""
    pool = await create_pool(url)
    fed = await open_federation(pool, config)
    lease = WorkerLease(pool)  # one per process, as run_workers has it
    try:
        await use_transport(fed, variant)
        if child:
            print("worker ready", flush=True)
        await asyncio.gather(
            run_worker(pool, job_handlers(fed), stop, lease=lease),
            DeliveryWorker(fed, lease).run(stop),
        )
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(lease.close(), 2)
        await fed.close()
        if variant.direct:
            await fed.http.session.close()  # type: ignore[attr-defined]
        pool.terminate()  # a cut-short run leaves requests in flight: do not wait for them


def worker_main(url: str, base_url: str, data_dir: str, variant_json: str) -> int:
    """Entry point of a second worker process (`--worker`)."""
    variant = Variant(**json.loads(variant_json))
    install(variant, None)
    config = _common.bench_config(url, base_url, Path(data_dir))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await work(url, config, variant, stop, child=True)

    asyncio.run(main())
    return 0


def stop_worker(process: Any) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(3)  # a cut-short run would wait 15 s for its requests in flight
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- seeding -----------------------------------------------------------------------------------


@dataclass
class Seeded:
    owner: Account
    groups: dict[int, Group]  # followers -> group
    hosts: int = HOSTS  # how the followers' shared inboxes are laid out now


async def seed(pool: Pool, config: Config, peers: _common.Peers, sizes: list[int]) -> Seeded:
    """One owner, one public group per size; remote followers written with bulk SQL."""
    owner = await _common.migrate_and_create_owner(pool, config)
    groups = {}
    for size in sizes:
        groups[size] = await create_group(
            pool, config, owner, slug=f"fanout{size}", name=f"Fan-out to {size:,}"
        )
    async with pool.acquire() as conn, conn.transaction():
        pem = await conn.fetchval("SELECT public_key_pem FROM actors WHERE id = $1", owner.id)
        records = []
        for i in range(max(sizes)):
            host = peers.host(i % HOSTS)
            uri = f"http://{host}/users/f{i}"
            records.append(
                ("person", f"f{i}", host, uri, f"f{i}", f"{uri}/inbox",
                 f"http://{host}/inbox/{i}", f"{uri}#main-key", pem)
            )  # fmt: skip
        await conn.copy_records_to_table(
            "actors",
            records=records,
            columns=[
                "kind", "name", "domain", "uri", "display_name", "inbox", "shared_inbox",
                "key_id", "public_key_pem",
            ],
        )  # fmt: skip
        for size, group in groups.items():
            await conn.execute(
                """
                INSERT INTO follows (follower_id, target_id, uri, state)
                SELECT id, $1::bigint, uri || '/follows/' || $1::text, 'accepted'
                FROM (SELECT id, uri FROM actors WHERE domain IS NOT NULL ORDER BY id LIMIT $2) a
                """,
                group.id,
                size,
            )
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE")
    return Seeded(owner, groups)


async def lay_out_hosts(pool: Pool, seeded: Seeded, peers: _common.Peers, hosts: int) -> None:
    """Spread the followers' shared inboxes over `hosts` hosts (still one inbox each)."""
    if seeded.hosts == hosts:
        return
    mapping = [peers.host(h) for h in range(hosts)]
    async with pool.acquire() as conn:
        await conn.execute(
            """
            UPDATE actors SET shared_inbox = 'http://' || ($1::text[])[1 + n % $2]
                || '/inbox/' || n
            FROM (SELECT id AS actor_id, substr(name, 2)::int AS n FROM actors
                  WHERE domain IS NOT NULL) f
            WHERE actors.id = f.actor_id
            """,
            mapping,
            hosts,
        )
        await conn.execute("VACUUM ANALYZE actors")
    seeded.hosts = hosts


# --- one run -----------------------------------------------------------------------------------


@dataclass
class Result:
    size: int
    variant: Variant
    delivered: int = 0  # distinct inboxes reached
    posts: int = 0  # POSTs the peers received
    duplicates: int = 0
    unsigned: int = 0
    failed: int = 0  # dropped, or waiting for a retry
    first: float = float("nan")  # seconds from create_post to the first delivery
    last: float = float("nan")  # ... to the last one
    recorded: float = float("nan")  # ... to the last outcome written
    timed_out: bool = False
    cpu: dict[str, float] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)

    @property
    def rate(self) -> float:
        return self.delivered / self.last if self.last > 0 else 0.0

    @property
    def met(self) -> str:
        if self.size < AIM_INBOXES:
            return ""
        ok = not self.timed_out and self.last <= AIM_SECONDS and not self.duplicates
        return "met" if ok else "MISSED"


@dataclass
class Bench:
    script: str
    folder: Path
    url: str
    config: Config
    pool: Pool
    peers: _common.Peers
    seeded: Seeded
    postgres_pid: int


async def peer_stats(client: httpx.AsyncClient, peers: _common.Peers) -> dict[str, float]:
    answers = await asyncio.gather(*(client.get(u) for u in peers.control_urls("stats")))
    stats = [a.json() for a in answers]
    total = {k: sum(s[k] for s in stats) for k in ("posts", "distinct", "duplicates", "unsigned")}
    firsts = [s["first"] for s in stats if s["first"]]
    total["first"] = min(firsts) if firsts else 0.0
    total["last"] = max(s["last"] for s in stats)
    return total


def cpu_now(bench: Bench, children: list[Any]) -> dict[str, float]:
    return {
        "worker": time.process_time() + sum(_common.process_tree_cpu(c.pid) for c in children),
        "postgres": _common.process_tree_cpu(bench.postgres_pid),
        "peers": sum(_common.process_tree_cpu(pid) for pid in bench.peers.pids()),
    }


async def run_once(bench: Bench, size: int, variant: Variant, profile: bool = False) -> Result:
    """Post once in the group of `size` followers; wait for every delivery; measure."""
    pool, result = bench.pool, Result(size, variant)
    await lay_out_hosts(pool, bench.seeded, bench.peers, variant.hosts)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM deliveries; DELETE FROM hosts; DELETE FROM jobs")
        await conn.execute("VACUUM ANALYZE deliveries, outbox_activities, jobs, hosts")
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(client.get(u) for u in bench.peers.control_urls("reset")))
        install(variant, result.timing)
        children = []
        for i in range(variant.processes - 1):
            log = bench.folder / f"worker{i}.log"
            command = [sys.executable, bench.script, "--worker", bench.url, bench.config.base_url]
            command += [str(bench.config.data_dir), json.dumps(asdict(variant))]
            children.append(_common.start_child(command, log, _common.child_env()))
            _common.wait_for_line(log, "worker ready", children[-1])
        stop = asyncio.Event()
        worker = asyncio.create_task(work(bench.url, bench.config, variant, stop))
        profiler = cProfile.Profile() if profile else None
        try:
            await asyncio.sleep(0.6)  # the workers are polling, as they would be in production
            before = cpu_now(bench, children)
            if profiler is not None:
                profiler.enable()
            t0 = time.monotonic()
            group = bench.seeded.groups[size]
            post = await create_post(
                pool, bench.config, group, bench.seeded.owner, content=f"Fan-out {variant.name}"
            )
            deadline = t0 + variant.deadline
            stats = await peer_stats(client, bench.peers)
            while stats["distinct"] < size and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                stats = await peer_stats(client, bench.peers)
            tally = await _tally(pool, post.id)
            while tally[0] + tally[1] < size and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                tally = await _tally(pool, post.id)
            result.recorded = time.monotonic() - t0
            result.timed_out = tally[0] + tally[1] < size
            if profiler is not None:
                profiler.disable()
            result.cpu = {k: v - before[k] for k, v in cpu_now(bench, children).items()}
            await asyncio.sleep(0.3)  # late duplicates would land now
            stats = await peer_stats(client, bench.peers)
        finally:
            stop.set()
            for child in children:
                stop_worker(child)
            await _stop_in_process(worker)
        install(AS_IS, None)
    result.delivered, result.posts = int(stats["distinct"]), int(stats["posts"])
    result.duplicates, result.unsigned = int(stats["duplicates"]), int(stats["unsigned"])
    if stats["first"]:
        result.first, result.last = stats["first"] - t0, stats["last"] - t0
    async with pool.acquire() as conn:
        failed = await conn.fetchval(
            "SELECT coalesce(sum(failed), 0) FROM outbox_activities WHERE post_id = $1", post.id
        )
        retrying = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE last_error IS NOT NULL"
        )
    result.failed = int(failed) + int(retrying)
    if profiler is not None:
        print_profile(profiler, f"{size:,} inboxes, {variant.name}")
    return result


async def _tally(pool: Pool, post_id: int) -> tuple[int, int]:
    """Return the delivered and failed counts of the post's Announce."""
    row = await pool.fetchrow(
        """
        SELECT delivered, failed FROM outbox_activities
        WHERE post_id = $1 AND type = 'Announce'
        """,
        post_id,
    )
    return (int(row["delivered"]), int(row["failed"])) if row else (0, 0)


async def _stop_in_process(worker: asyncio.Task[None]) -> None:
    """Stop the in-process worker; a cut-short run has requests in flight: cancel them."""
    done, _ = await asyncio.wait([worker], timeout=3)
    if not done:
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()
        await asyncio.wait([worker], timeout=5)
    if worker.done() and not worker.cancelled() and worker.exception():
        raise worker.exception()  # type: ignore[misc]


def print_profile(profiler: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(18)
    print(f"\ncProfile of the in-process worker, {title} (by own time)")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


# --- tables ------------------------------------------------------------------------------------


def print_results(results: list[Result]) -> None:
    print(f"\nFan-out of one post (aim: {AIM_INBOXES:,} inboxes in <= {AIM_SECONDS:.0f} s)")
    print("times are from create_post; 'recorded' = every outcome written to the database")
    print("cpu ms = CPU of workers + PostgreSQL + peers per delivery (steadier than times on a")
    print("shared machine); idle s = that CPU spread over the 2 cores, a floor for 'last s'")
    header = (
        f"{'variant':<36} {'inboxes':>7} {'done':>6} {'first s':>7} {'last s':>7}"
        f" {'recorded':>8} {'deliv/s':>7} {'dup':>4} {'fail':>4} {'cpu ms':>6} {'idle s':>6}  aim"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        done = f"{r.delivered}" + ("*" if r.timed_out else "")
        cpu = sum(r.cpu.values()) / max(r.delivered, 1)
        print(
            f"{r.variant.name:<36} {r.size:>7,} {done:>6} {r.first:>7.2f} {r.last:>7.2f}"
            f" {r.recorded:>8.2f} {r.rate:>7.0f} {r.duplicates:>4} {r.failed:>4}"
            f" {1000 * cpu:>6.2f} {cpu * r.size / 2:>6.1f}  {r.met}"
        )
    if any(r.timed_out for r in results):
        print("* cut short at the variant's deadline; deliv/s is over the deliveries made")
    print("all four = key cache + batched outcomes + httpx-aiohttp + no pool reset")
    if any(r.failed for r in results):
        print("fail = dropped or waiting for a retry; as is, requests time out while key loading")
        print("       blocks the event loop, and are retried after their peer got them")
    if any(r.unsigned for r in results):
        print("UNSIGNED deliveries seen: " + ", ".join(f"{r.unsigned}" for r in results))


def print_breakdown(results: list[Result]) -> None:
    print("\nWhere the time went: CPU seconds per process kind, and the in-process worker's parts")
    print("(sign and key load are CPU; claim, POST and record are wall time per call, queueing")
    print(" on the event loop and the pool included; a 2-process run times its first process)")
    header = (
        f"{'variant':<36} {'inboxes':>7} {'wrk cpu':>7} {'pg cpu':>6} {'peer cpu':>8}"
        f" {'sign ms':>7} {'key ms':>6} {'claims':>6} {'claim ms':>8} {'POST ms':>7}"
        f" {'rec ms':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        t = r.timing
        per = max(t.signs, 1)
        print(
            f"{r.variant.name:<36} {r.size:>7,} {r.cpu.get('worker', 0):>7.1f}"
            f" {r.cpu.get('postgres', 0):>6.1f} {r.cpu.get('peers', 0):>8.1f}"
            f" {1000 * t.sign / per:>7.2f} {1000 * t.key_load / per:>6.2f} {t.claims:>6}"
            f" {1000 * t.claim_wall / max(t.claims, 1):>8.1f}"
            f" {1000 * t.post_wall / max(t.posts, 1):>7.1f}"
            f" {1000 * t.record_wall / max(t.records, 1):>6.1f}"
        )


# --- main --------------------------------------------------------------------------------------


async def prepare(folder: Path, url: str, peers: _common.Peers, sizes: list[int]) -> Bench:
    config = _common.bench_config(url, f"http://127.0.0.1:{_common.free_port()}", folder / "data")
    pool = await create_pool(url)
    t0 = time.perf_counter()
    seeded = await seed(pool, config, peers, sizes)
    print(
        f"seeded {len(sizes)} group(s), {max(sizes):,} remote followers on {HOSTS} hosts"
        f" in {time.perf_counter() - t0:.1f} s"
    )
    async with pool.acquire() as conn:
        print(f"postgres: {await _common.postgres_settings(conn)}")
    return Bench(__file__, folder, url, config, pool, peers, seeded, 0)


def run(plan: dict[int, list[Variant]], profile: bool) -> int:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {PEERS} peer processes")
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    if ALREADY_CACHED:
        print("note: signatures._load_private_key is already cached; 'key cache' changes nothing")
    sizes = sorted(plan)
    with tempfile.TemporaryDirectory(prefix="entraide-fanout-") as tmp:
        folder = Path(tmp)
        with _common.embedded_postgres(folder) as (postgres, url):
            peers = _common.Peers(__file__, folder, HOSTS, PEERS, None)
            with _common.running(peers.start, lambda p: p.stop()):

                async def main() -> list[Result]:
                    bench = await prepare(folder, url, peers, sizes)
                    bench.postgres_pid = postgres.get_pid()
                    results = []
                    try:
                        for size in sizes:
                            for variant in plan[size]:
                                result = await run_once(bench, size, variant, profile)
                                print(
                                    f"  {size:>6,} {variant.name:<36} last {result.last:6.2f} s"
                                    f" ({result.delivered} delivered)",
                                    flush=True,
                                )
                                results.append(result)
                    finally:
                        await bench.pool.close()
                    return results

                results = asyncio.run(main())
    print_results(results)
    print_breakdown(results)
    bad = any(r.duplicates or r.unsigned for r in results)
    return 1 if bad else 0


def select(plan: dict[int, list[Variant]], names: list[str] | None) -> dict[int, list[Variant]]:
    if not names:
        return plan
    wanted = set(names)
    chosen = {s: [v for v in vs if v.name in wanted] for s, vs in plan.items()}
    return {s: vs for s, vs in chosen.items() if vs}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--peer"]:
        return _common.peer_main(argv[1:])
    if argv[:1] == ["--worker"]:
        return worker_main(*argv[1:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 inboxes, 4 variants")
    parser.add_argument("--only", action="append", help="a variant to run (repeatable)")
    parser.add_argument("--profile", action="store_true", help="cProfile each run's worker")
    args = parser.parse_args(argv)
    _common.install_stop_signals()
    plan = select(QUICK_PLAN if args.quick else FULL_PLAN, args.only)
    try:
        return run(plan, args.profile)
    except (KeyboardInterrupt, _common.Interrupted):
        print("\ninterrupted: workers, peers and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
