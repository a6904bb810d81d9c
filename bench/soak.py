"""Soak: ten minutes of mixed load on the real instance, with every process's memory each minute.

Starts a throwaway embedded PostgreSQL, a "peer" process standing in for remote servers (the
group's followers and the actors that write to it, on loopback), `entraide serve --no-worker`
and `entraide worker`. Then, at fixed rates: page GETs (group, post, home), signed Likes and
replies from remote actors to the inbox, and new local posts that fan out to the followers'
inboxes. Each minute it prints one line per process: work done, p99 latency, memory. It fails
if a request failed, the queues did not drain, or a process's memory kept growing.
Run: `.venv/bin/python bench/soak.py [--minutes 10]`; not part of `make bench` (`make soak`).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil

from server.config import Config
from server.db import Pool, create_pool
from server.keys import generate_key_pair
from server.models import Account, Group
from server.services.groups import create_group
from server.services.posts import create_post

HOST = "127.0.0.1"  # the instance; the peers live on 127.0.x.y
GROUP_SLUG = "soak"
HOSTS = 10  # remote servers: each group activity is one delivery per host (shared inboxes)
FOLLOWERS = 100  # remote followers of the group, spread over the hosts
ACTORS = 50  # remote actors sending Likes and replies (fetched once, on first contact)
SEEDED_POSTS = 200
AIM_P99_MS = 60.0
# Memory: the first minute warms up (lazy imports, templates, prepared statements, PostgreSQL's
# caches), so growth counts from the end of minute 2. A process fails when it grew by more than
# both 30 MB and 20 %: at the default rates (~30 requests and ~50 deliveries a second) 30 MB over
# eight minutes is a leak of ~2 KB per request, or ~1 KB per delivery, which a longer run would
# turn into an outage; below that, allocator arenas, the garbage collector's generations and
# PostgreSQL's backends (asyncpg closes connections idle for 5 min, reopens them on demand)
# move by a few MB either way, and the 20 % keeps the bigger totals (a worker of several
# processes, PostgreSQL's backends together) from failing on that churn.
GROWTH_MB = 30.0
GROWTH_SHARE = 0.20
# Shown but not judged, and why.
UNJUDGED = {
    "client": "it keeps every latency for the totals",
    "postgres": "its PSS counts the shared buffers, which fill up to shared_buffers as the tables"
    " grow; what could leak is the backends' own memory, judged as 'pg private'",
}


@dataclass(frozen=True)
class Rates:
    pages: float  # GETs per second, over PAGE_CONNECTIONS
    inbox: float  # signed POSTs per second, half Likes, half replies
    post_every: float  # seconds between two local posts


PAGE_CONNECTIONS = 4
INBOX_CONNECTIONS = 4


# --- seeding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    owner: Account
    group: Group
    post_ids: list[int]


async def seed(pool: Pool, config: Config, peers: _common.Peers) -> Seeded:
    """An owner, a public group with posts, and remote followers on the peers' hosts."""
    owner = await _common.migrate_and_create_owner(pool, config)
    group = await create_group(pool, config, owner, slug=GROUP_SLUG, name="Soak")
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """
            INSERT INTO posts (group_id, author_id, content, content_html)
            SELECT $1, $2, 'Post ' || i, '<p>Post ' || i || '</p>'
            FROM generate_series(1, $3) AS i
            RETURNING id
            """,
            group.id,
            owner.id,
            SEEDED_POSTS,
        )
        pem = await conn.fetchval("SELECT public_key_pem FROM actors WHERE id = $1", owner.id)
        await _common.copy_remote_actors(
            conn, FOLLOWERS, lambda i: peers.host(i % HOSTS), pem, own_shared_inboxes=False
        )
        await conn.execute(
            """
            INSERT INTO follows (follower_id, target_id, uri, state)
            SELECT id, $1::bigint, uri || '/follows/soak', 'accepted'
            FROM actors WHERE domain IS NOT NULL
            """,
            group.id,
        )
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE")
    return Seeded(owner, group, [r[0] for r in rows])


# --- the activities, signed in a process of their own -------------------------------------------


def plan_activities(
    base_url: str, peers: _common.Peers, post_ids: list[int], start: int, count: int
) -> list[dict[str, Any]]:
    """Activities number start .. start + count - 1: even ones Likes, odd ones replies."""
    rng = random.Random(start)
    activities = []
    for n in range(start, start + count):
        actor = f"http://{peers.host(n % ACTORS % HOSTS)}/users/a{n % ACTORS}"
        post = f"{base_url}/posts/{rng.choice(post_ids)}"
        if n % 2 == 0:
            activities.append(_common.like_activity(actor, post, n))
        else:
            # A reply in the group, as Mastodon sends it: the group relays it to its followers.
            group = f"{base_url}/groups/{GROUP_SLUG}"
            content = f"<p>Réponse {n} : merci, je viens jeudi.</p>"
            activities.append(_common.reply_activity(actor, group, post, n, content))
    return activities


def sign_activities(port: int, activities: list[dict[str, Any]], private_pem: str) -> list[bytes]:
    """Return each activity as the bytes of a POST /inbox signed as Mastodon signs it.

    Runs in the signer process: RSA signing holds the GIL (~1 ms each), and in the load
    client's process it would delay the requests it times.
    """
    return [_common.signed_inbox_request(port, a, private_pem) for a in activities]


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Minute:
    """What happened in one minute of the load."""

    pages: list[float] = field(default_factory=list)  # latencies, seconds
    inbox: list[float] = field(default_factory=list)
    posts: int = 0  # local posts created
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Sample:
    """One minute's line per process."""

    minute: int
    pages: int
    inbox: int
    posts: int
    page_p99: float
    inbox_p99: float
    deliveries: int
    actor_fetches: int
    queue: tuple[int, int, int]  # jobs, deliveries, unprocessed inbox rows
    memory: dict[str, float]  # process -> MB
    processes: dict[str, int]  # process -> how many (a process and its children)


class Load:
    """The load client: paced requests, per-minute tallies, totals."""

    def __init__(self, port: int, rates: Rates, deadline: float) -> None:
        self.port = port
        self.rates = rates
        self.deadline = deadline
        self.minute = Minute()
        self.pages: list[float] = []
        self.inbox: list[float] = []
        self.errors: Counter[str] = Counter()
        self.signed: deque[bytes] = deque()

    def failed(self, what: str, reason: str) -> None:
        self.minute.errors[f"{what}: {reason}"] += 1
        self.errors[f"{what}: {reason}"] += 1

    async def paced(self, rate: float, step: Callable[[], Awaitable[None]]) -> None:
        """Call `step` `rate` times a second until the deadline, without catching up a delay
        in a burst (a slow answer delays the next request, as a reader would wait)."""
        interval = 1 / rate
        next_at = time.monotonic() + random.random() * interval
        while next_at < self.deadline:
            await asyncio.sleep(max(next_at - time.monotonic(), 0))
            await step()
            next_at = max(next_at + interval, time.monotonic())

    async def exchange(
        self, connection: _common.KeepAliveConnection, request: bytes, expected: int, what: str
    ) -> float | None:
        """Send a request; return its latency, or None (counted) when it failed."""
        t0 = time.perf_counter()
        try:
            status = await asyncio.wait_for(connection.send(request), timeout=30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            connection.close()
            self.failed(what, type(exc).__name__)
            return None
        if status != expected:
            self.failed(what, f"HTTP {status}")
            return None
        return time.perf_counter() - t0

    async def read_pages(self, post_ids: list[int]) -> None:
        """GET the group page, a post page and the home page in turn, on one connection."""
        connection = _common.KeepAliveConnection(self.port)
        rng = random.Random()
        paths = [lambda: f"/groups/{GROUP_SLUG}", lambda: f"/posts/{rng.choice(post_ids)}"]
        paths.append(lambda: "/")
        turn = rng.randrange(3)

        async def step() -> None:
            nonlocal turn
            turn += 1
            path = paths[turn % 3]()
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode()
            latency = await self.exchange(connection, request, 200, "page")
            if latency is not None:
                self.minute.pages.append(latency)
                self.pages.append(latency)

        try:
            await self.paced(self.rates.pages / PAGE_CONNECTIONS, step)
        finally:
            connection.close()

    async def post_to_inbox(self) -> None:
        """POST the pre-signed activities, on one connection."""
        connection = _common.KeepAliveConnection(self.port)

        async def step() -> None:
            if not self.signed:
                self.failed("inbox", "no signed activity ready")
                return
            latency = await self.exchange(connection, self.signed.popleft(), 202, "inbox")
            if latency is not None:
                self.minute.inbox.append(latency)
                self.inbox.append(latency)

        try:
            await self.paced(self.rates.inbox / INBOX_CONNECTIONS, step)
        finally:
            connection.close()

    async def write_posts(self, pool: Pool, config: Config, seeded: Seeded) -> None:
        """Publish a local post every few seconds: each one fans out to the followers."""
        count = 0

        async def step() -> None:
            nonlocal count
            count += 1
            try:
                post = await create_post(
                    pool, config, seeded.group, seeded.owner, content=f"Annonce {count} du soak"
                )
            except Exception as exc:  # a failed post is a failure of the run, counted
                self.failed("local post", type(exc).__name__)
                return
            seeded.post_ids.append(post.id)
            self.minute.posts += 1

        await self.paced(1 / self.rates.post_every, step)


# --- memory and counts, each minute ------------------------------------------------------------


async def peer_totals(client: httpx.AsyncClient, peers: _common.Peers) -> tuple[int, int]:
    """Return the POSTs (deliveries) and GETs (actor fetches) the peers answered so far."""
    answers = await asyncio.gather(*(client.get(u) for u in peers.control_urls("stats")))
    stats = [a.json() for a in answers]
    return sum(s["posts"] for s in stats), sum(s["gets"] for s in stats)


async def queue_lengths(pool: Pool) -> tuple[int, int, int]:
    row = await pool.fetchrow(
        """
        SELECT (SELECT count(*) FROM jobs) AS jobs,
               (SELECT count(*) FROM deliveries) AS deliveries,
               (SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL) AS inbox
        """
    )
    return int(row["jobs"]), int(row["deliveries"]), int(row["inbox"])


@dataclass
class Processes:
    web: Any
    worker: Any
    postgres_pid: int
    peers: _common.Peers
    logs: dict[str, Path]

    def check_alive(self) -> None:
        for name, process in (("web", self.web), ("worker", self.worker)):
            if process.poll() is not None:
                tail = self.logs[name].read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {name} process exited ({process.returncode}):\n{tail}")

    def memory(self) -> tuple[dict[str, float], dict[str, int]]:
        """Return each kind of process's memory in MB, and how many processes it is."""
        web, webs = _common.tree_rss_mb(self.web.pid)
        worker, workers = _common.tree_rss_mb(self.worker.pid)
        postgres, private, backends = _common.postgres_memory_mb(self.postgres_pid)
        peers = [_common.tree_rss_mb(pid) for pid in self.peers.pids()]
        counts = {"web": webs, "worker": workers, "postgres": backends + 1}
        counts["peers"] = sum(n for _, n in peers)
        return {
            "web": web,
            "worker": worker,
            "postgres": postgres,
            "pg private": private,
            "peers": sum(mb for mb, _ in peers),
            "client": psutil.Process().memory_info().rss / 2**20,  # this process alone
        }, counts


def ms(latencies: list[float]) -> float:
    return _common.percentile_ms(latencies, 99)


def print_sample(s: Sample) -> None:
    m, queue, n = s.memory, s.queue, s.processes
    lines = [
        ("web", f"RSS {m['web']:6.1f}", f"{s.pages} pages ({s.pages / 60:.1f}/s, p99"
         f" {s.page_p99:.1f} ms), {s.inbox} inbox POSTs ({s.inbox / 60:.1f}/s, p99"
         f" {s.inbox_p99:.1f} ms)"),
        ("worker", f"RSS {m['worker']:6.1f}", f"{s.deliveries} deliveries"
         f" ({s.deliveries / 60:.1f}/s) of {s.posts} local posts and the replies; queued:"
         f" {queue[0]} jobs, {queue[1]} deliveries, {queue[2]} inbox rows"),
        ("postgres", f"PSS {m['postgres']:6.1f}", f"postmaster and {n['postgres'] - 1}"
         f" backends, {m['pg private']:.1f} MB of it private (outside the shared buffers)"),
        ("peers", f"RSS {m['peers']:6.1f}", f"{s.deliveries} POSTs answered,"
         f" {s.actor_fetches} actor documents served"),
        ("client", f"RSS {m['client']:6.1f}", "the load client"),
    ]  # fmt: skip
    for name, memory, work in lines:
        work = work if s.minute else "before the load"
        if name in ("web", "worker") and n[name] > 1:  # `entraide worker --processes`
            work = f"{n[name]} processes; {work}"
        print(f"{s.minute:>3}  {name:<9} {memory} MB  {work}")
    print(end="", flush=True)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    samples: list[Sample]
    load: Load
    seconds: float
    deliveries: int
    drained: float | None  # seconds the queues took to empty after the load, None if not
    failed_deliveries: int
    outcomes: Counter[str]


async def soak(
    url: str,
    config: Config,
    seeded: Seeded,
    processes: Processes,
    rates: Rates,
    minutes: int,
    signer: concurrent.futures.Executor,
    private_pem: str,
) -> Outcome:
    """Drive the load for `minutes`, sampling each minute; then let the queues drain."""
    port = int(config.base_url.rsplit(":", 1)[1])
    per_minute = int(rates.inbox * 60 * 1.1) + INBOX_CONNECTIONS
    loop = asyncio.get_running_loop()
    planned = 0

    def sign_next() -> asyncio.Future[list[bytes]]:
        """Sign the next minute's activities in the signer process, while this one runs."""
        nonlocal planned
        batch = plan_activities(
            config.base_url, processes.peers, list(seeded.post_ids), planned, per_minute
        )
        planned += per_minute
        return asyncio.wrap_future(
            signer.submit(sign_activities, port, batch, private_pem), loop=loop
        )

    pool = await create_pool(url, min_size=1, max_size=4)
    samples: list[Sample] = []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            load = Load(port, rates, 0.0)
            load.signed.extend(await sign_next())  # the first minute's, before the clock starts
            upcoming = sign_next()
            delivered, fetched = await peer_totals(client, processes.peers)
            memory, counts = await asyncio.to_thread(processes.memory)
            nan = float("nan")
            samples.append(
                Sample(0, 0, 0, 0, nan, nan, 0, 0, await queue_lengths(pool), memory, counts)
            )
            print_sample(samples[0])
            start = time.monotonic()
            load.deadline = start + 60 * minutes
            tasks = [
                asyncio.create_task(load.read_pages(seeded.post_ids))
                for _ in range(PAGE_CONNECTIONS)
            ]
            tasks += [asyncio.create_task(load.post_to_inbox()) for _ in range(INBOX_CONNECTIONS)]
            tasks.append(asyncio.create_task(load.write_posts(pool, config, seeded)))
            try:
                for minute in range(1, minutes + 1):
                    await asyncio.sleep(max(start + 60 * minute - time.monotonic(), 0))
                    done, load.minute = load.minute, Minute()
                    processes.check_alive()
                    for task in tasks:
                        if task.done() and task.exception() is not None:
                            raise task.exception()  # type: ignore[misc]
                    if minute < minutes:
                        # The leftovers of a minute are dropped, not sent later: every POST's
                        # Date stays within a minute or two of its sending.
                        load.signed = deque(await upcoming)
                        upcoming = sign_next()
                    now_delivered, now_fetched = await peer_totals(client, processes.peers)
                    memory, counts = await asyncio.to_thread(processes.memory)
                    sample = Sample(
                        minute,
                        len(done.pages),
                        len(done.inbox),
                        done.posts,
                        ms(done.pages),
                        ms(done.inbox),
                        now_delivered - delivered,
                        now_fetched - fetched,
                        await queue_lengths(pool),
                        memory,
                        counts,
                    )
                    delivered, fetched = now_delivered, now_fetched
                    samples.append(sample)
                    print_sample(sample)
                    if done.errors:
                        print(f"     errors this minute: {dict(done.errors)}", flush=True)
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                upcoming.cancel()
            seconds = time.monotonic() - start
            drained = await drain(pool)
            total, _ = await peer_totals(client, processes.peers)
        failed = await pool.fetchval(
            """
            SELECT coalesce((SELECT sum(failed) FROM outbox_activities), 0)
                 + (SELECT count(*) FROM deliveries WHERE last_error IS NOT NULL)
            """
        )
        rows = await pool.fetch(
            """
            SELECT type || ': ' || coalesce(regexp_replace(outcome, '[0-9]+', 'N'), 'pending')
                   AS kind, count(*) AS n
            FROM inbox_activities GROUP BY 1 ORDER BY 2 DESC
            """
        )
        return Outcome(
            samples,
            load,
            seconds,
            total,
            drained,
            int(failed),
            Counter({r["kind"]: r["n"] for r in rows}),
        )
    finally:
        await pool.close()


async def drain(pool: Pool, seconds: float = 60) -> float | None:
    """Wait for the jobs, deliveries and inbox rows left by the load; None if they stay."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if not any(await queue_lengths(pool)):
            return time.monotonic() - t0
        await asyncio.sleep(0.5)
    return None


def instance_env(url: str, base_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of `entraide serve` and `entraide worker`: the bench's instance."""
    env = _common.child_env()
    env.update(
        DATABASE_URL=url,
        ENTRAIDE_URL=base_url,
        ENTRAIDE_DATA_DIR=str(data_dir),
        ENTRAIDE_SECRET_KEY=_common.SECRET_KEY,
        ENTRAIDE_ALLOW_PRIVATE_ADDRESSES="true",
        ENTRAIDE_LANGUAGE="en",
        PYTHONUNBUFFERED="1",  # the logs say when each child is ready
    )
    return env


def start_web(env: dict[str, str], port: int, log: Path) -> Any:
    command = [sys.executable, "-m", "entraide", "serve", "--no-worker", "--processes", "1"]
    command += ["--host", HOST]
    return _common.start_child([*command, "--port", str(port)], log, env)


# --- the verdict -------------------------------------------------------------------------------


def growth(samples: list[Sample]) -> tuple[int, dict[str, tuple[float, float, float]]]:
    """Return the baseline minute and, per process: memory then, at the end, and MB/min.

    The baseline is the end of minute 2 (minute 1 warms up), or the latest minute before the
    last one in a shorter run (samples[0] is the memory before the load).
    """
    last = samples[-1]
    span = samples[min(2, last.minute - 1) :]
    result = {}
    for name in last.memory:
        slope = statistics.linear_regression(
            [s.minute for s in span], [s.memory[name] for s in span]
        ).slope
        result[name] = (span[0].memory[name], last.memory[name], slope)
    return span[0].minute, result


def verdict(outcome: Outcome, rates: Rates, minutes: int) -> int:
    """Print the totals and the memory growth; report the table's rows; return the status."""
    load = outcome.load
    seconds = outcome.seconds
    page_rate, inbox_rate = len(load.pages) / seconds, len(load.inbox) / seconds
    delivery_rate = outcome.deliveries / seconds
    print(
        f"\nTotals over {seconds:.0f} s (asked: {rates.pages:g} pages/s, {rates.inbox:g} inbox/s,"
    )
    print(f"a local post every {rates.post_every:g} s)")
    print(f"  pages    {len(load.pages):>7} ({page_rate:.1f}/s), p99 {ms(load.pages):.1f} ms")
    print(f"  inbox    {len(load.inbox):>7} ({inbox_rate:.1f}/s), p99 {ms(load.inbox):.1f} ms")
    print(f"  delivered {outcome.deliveries:>6} ({delivery_rate:.1f}/s)")
    # Each accepted POST had its signature verified, each delivery was signed by the worker.
    signed = len(load.inbox) + outcome.deliveries
    print(f"  signatures {signed:>5} ({signed / seconds:.1f}/s verified or made by the instance)")
    print(f"  inbox activities: {dict(outcome.outcomes)}")
    drained = "not drained in 60 s" if outcome.drained is None else f"{outcome.drained:.1f} s"
    print(f"  queues emptied after the load: {drained}")

    base, grown = growth(outcome.samples)
    print(
        f"\nMemory growth, end of minute {base} to minute {outcome.samples[-1].minute}"
        f" (fails above +{GROWTH_MB:.0f} MB and +{GROWTH_SHARE:.0%})"
    )
    if base == 0:
        print("  (one minute is all warm-up: shown, not judged; run two minutes or more)")
    elif base == 1:
        print("  (a short run: counted from minute 1, the warm-up's end is still in it)")
    leaking = []
    for name, (before, after, slope) in grown.items():
        delta = after - before
        share = delta / before if before else 0.0
        judged = base > 0 and name not in UNJUDGED
        bad = judged and delta > GROWTH_MB and share > GROWTH_SHARE
        if bad:
            leaking.append(name)
        print(
            f"  {name:<10} {before:7.1f} → {after:7.1f} MB  {delta:+6.1f} MB ({share:+.1%}),"
            f" {slope:+.2f} MB/min  {'GREW' if bad else 'ok' if judged else 'not judged'}"
        )
    for name, why in UNJUDGED.items():
        print(f"  not judged: {name}, {why}")

    label = f"soak, {minutes} min"
    _common.report(
        f"{label}: pages req/s, p99",
        f"{page_rate:.1f} req/s, p99 {ms(load.pages):.1f} ms",
        f"≤ {AIM_P99_MS:.0f} ms p99",
    )
    _common.report(
        f"{label}: inbox/s, p99", f"{inbox_rate:.1f}/s, p99 {ms(load.inbox):.1f} ms", "all 202"
    )
    _common.report(
        f"{label}: deliveries/s",
        f"{delivery_rate:.1f}/s, {outcome.failed_deliveries} failed, queues emptied in {drained}",
        "none failed, queues empty",
    )

    def grew(name: str) -> str:
        return f"{grown[name][1] - grown[name][0]:+.1f} MB"

    span = f"minute {base} → {outcome.samples[-1].minute}"
    aim = f"≤ +{GROWTH_MB:.0f} MB or ≤ +{GROWTH_SHARE:.0%}"
    _common.report(
        f"{label}: memory growth web / worker", f"{grew('web')} / {grew('worker')} ({span})", aim
    )
    _common.report(
        f"{label}: memory growth PostgreSQL private / peers",
        f"{grew('pg private')} / {grew('peers')} ({span}; PostgreSQL PSS {grew('postgres')})",
        aim,
    )

    problems = []
    if load.errors:
        problems.append(f"failed requests: {dict(load.errors)}")
    if outcome.failed_deliveries:
        problems.append(f"{outcome.failed_deliveries} deliveries failed")
    if outcome.drained is None:
        problems.append("the queues did not empty within 60 s of the end of the load")
    if leaking:
        problems.append(f"memory kept growing: {', '.join(leaking)}")
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


def run(minutes: int, rates: Rates) -> int:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {minutes} min of:")
    print(
        f"  {rates.pages:g} page GETs/s over {PAGE_CONNECTIONS} connections (group, post, home),"
        f" {rates.inbox:g} signed inbox POSTs/s over {INBOX_CONNECTIONS} (Likes, replies),"
    )
    print(
        f"  a local post every {rates.post_every:g} s; {FOLLOWERS} followers on {HOSTS} hosts,"
        f" {ACTORS} remote actors"
    )
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    private_pem, public_pem = generate_key_pair()
    with tempfile.TemporaryDirectory(prefix="entraide-soak-") as tmp:
        folder = Path(tmp)
        with _common.embedded_postgres(folder) as (postgres, url):
            peers = _common.Peers(__file__, folder, HOSTS, 1, public_pem)
            with _common.running(peers.start, lambda p: p.stop()):
                port = _common.free_port()
                base_url = f"http://{HOST}:{port}"
                config = _common.bench_config(url, base_url, folder / "data")

                async def prepare() -> Seeded:
                    pool = await create_pool(url)
                    try:
                        async with pool.acquire() as conn:
                            print(f"PostgreSQL: {await _common.postgres_settings(conn)}")
                        return await seed(pool, config, peers)
                    finally:
                        await pool.close()

                seeded = asyncio.run(prepare())
                env = instance_env(url, base_url, folder / "data")
                logs = {"web": folder / "web.log", "worker": folder / "worker.log"}
                worker_command = [sys.executable, "-m", "entraide", "worker"]
                with (
                    _common.running(
                        lambda: start_web(env, port, logs["web"]), _common.stop_child
                    ) as web,
                    _common.running(
                        lambda: _common.start_child(worker_command, logs["worker"], env),
                        _common.stop_child,
                    ) as worker,
                    # spawn, not fork: the signer starts clean of this process's event loop.
                    concurrent.futures.ProcessPoolExecutor(
                        1, mp_context=multiprocessing.get_context("spawn")
                    ) as signer,
                ):
                    asyncio.run(_common.wait_for_web(base_url, web, logs["web"]))
                    _common.wait_for_line(logs["worker"], "worker started", worker)
                    processes = Processes(web, worker, postgres.get_pid(), peers, logs)
                    print(
                        "min  process   memory       that minute",
                        flush=True,
                    )
                    outcome = asyncio.run(
                        soak(url, config, seeded, processes, rates, minutes, signer, private_pem)
                    )
                    for name, log in logs.items():
                        text = log.read_text(errors="replace")
                        if "Traceback" in text:
                            print(f"\nlast traceback in the {name} log:")
                            print(text[text.rfind("Traceback") :][:3000])
    return verdict(outcome, rates, minutes)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--peer"]:
        return _common.peer_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10, help="length of the load (10)")
    parser.add_argument("--pages", type=float, default=60, help="page GETs per second (60)")
    parser.add_argument("--inbox", type=float, default=60, help="inbox POSTs per second (60)")
    parser.add_argument(
        "--post-every", type=float, default=2, help="seconds between local posts (2)"
    )
    args = parser.parse_args(argv)
    if args.minutes < 1 or min(args.pages, args.inbox, args.post_every) <= 0:
        parser.error("--minutes must be at least 1, and the rates above 0")
    # pgserver finds its runtime folder through platformdirs, which warns without XDG_RUNTIME_DIR.
    warnings.filterwarnings("ignore", module="platformdirs")
    _common.install_stop_signals()
    try:
        return run(args.minutes, Rates(args.pages, args.inbox, args.post_every))
    except (KeyboardInterrupt, _common.Interrupted):
        print("\ninterrupted: instance, worker, peers and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
