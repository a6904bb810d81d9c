"""The inbox under load: signed Likes and Creates from remote actors, then their processing.

Starts a throwaway embedded PostgreSQL, a "peer" process serving the actor documents of 200
remote actors on 4 loopback hosts, and the real app (`build_app(with_worker=False)` under
uvicorn, as `entraide serve --no-worker` runs it) on 127.0.0.1. Every actor first introduces
itself with one Like (the instance fetches its key: the first-contact path); then a load client
sends pre-signed activities, half Likes of the group's posts and half replies in the group,
over 64 keep-alive connections, and counts the 202s. The stored rows are then processed by the
job worker (server.worker.run_worker with federation.jobs.job_handlers) in child processes:
the Likes first, then the replies, each timed on its own.
Rounds: 1 server process and 1 worker process, then 2 and 2, the shipped code as it is;
--compare adds rounds with uvicorn's pure-Python parts (h11, asyncio's loop), what it runs
when httptools and uvloop are not installed; the job workers run on uvloop, as `entraide worker`
does, unless --asyncio-workers.
Run: `.venv/bin/python bench/inbox.py [--quick] [--compare] [--profile]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import importlib.util
import io
import os
import pstats
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common

from federation import signatures
from server.config import Config
from server.db import Pool, create_pool
from server.keys import generate_key_pair
from server.migrate import apply_migrations
from server.services.groups import create_group

HOST = "127.0.0.1"  # the instance; the remote actors live on 127.0.x.y
AIM_ACCEPTED = 2_000.0
AIM_PROCESSED = 1_000.0
ACTORS = 200
ACTOR_HOSTS = 4
LOCAL_POSTS = 100
CONNECTIONS = 64
GROUP_SLUG = "inbox_bench"
# Jobs are deleted once done: the sequence tells how many were ever created.
LAST_JOB_ID = """
    SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('jobs', 'id')::regclass), 0)
"""


@dataclass(frozen=True)
class Round:
    """One load and its processing: `processes` servers, then as many worker processes."""

    label: str
    processes: int
    # uvicorn's choices ("auto": httptools and uvloop when installed, as `entraide serve`)
    http: str = "auto"
    loop: str = "auto"


@dataclass(frozen=True)
class Scale:
    per_round: int  # activities sent in each round's timed load
    deadline: float  # seconds before a phase is cut short
    rounds: tuple[Round, ...]


SHIPPED = (Round("shipped, 1 process", 1), Round("shipped, 2 processes", 2))
PURE_PYTHON = (
    Round("h11+asyncio, 1 process", 1, "h11", "asyncio"),
    Round("h11+asyncio, 2 processes", 2, "h11", "asyncio"),
)
FULL = Scale(per_round=4_000, deadline=120, rounds=SHIPPED)
QUICK = Scale(per_round=1_000, deadline=60, rounds=SHIPPED)


@dataclass
class Load:
    """What one load phase measured."""

    label: str
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return self.statuses["202"]


@dataclass
class Processing:
    label: str
    rows: int = 0  # inbox rows processed in the phase
    jobs: int = 0  # jobs run, relays of the replies (federate_post) included
    rows_elapsed: float = 0.0  # until the last inbox row was processed
    elapsed: float = 0.0  # until the jobs table was empty
    outcomes: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    timed_out: bool = False


# --- seeding and the activities ----------------------------------------------------------------


@dataclass
class Seeded:
    base_url: str
    group_uri: str
    post_ids: list[int]


async def seed(pool: Pool, config: Config) -> Seeded:
    """An owner, a public group and LOCAL_POSTS posts in it (bulk SQL: no federation jobs)."""
    owner = await _common.migrate_and_create_owner(pool, config)
    group = await create_group(pool, config, owner, slug=GROUP_SLUG, name="Inbox bench")
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            INSERT INTO posts (group_id, author_id, content, content_html)
            SELECT $1, $2, 'Post ' || i, '<p>Post ' || i || '</p>'
            FROM generate_series(1, $3) AS i
            RETURNING id
            """,
            group.id,
            owner.id,
            LOCAL_POSTS,
        )
    return Seeded(config.base_url, f"{config.base_url}/groups/{GROUP_SLUG}", [r[0] for r in rows])


def actor_uri(peers: _common.Peers, i: int) -> str:
    return f"http://{peers.host(i % ACTOR_HOSTS)}/users/a{i}"


def like(seeded: Seeded, actor: str, post_id: int, n: int) -> dict[str, Any]:
    return _common.like_activity(actor, f"{seeded.base_url}/posts/{post_id}", n)


def reply(seeded: Seeded, actor: str, post_id: int, n: int) -> dict[str, Any]:
    content = f'<p>Réponse {n} : <a href="{actor}">@a</a> merci pour l\'info !</p>'
    in_reply_to = f"{seeded.base_url}/posts/{post_id}"
    return _common.reply_activity(actor, seeded.group_uri, in_reply_to, n, content)


def plan_activities(
    seeded: Seeded, peers: _common.Peers, count: int, rng: random.Random, taken: set[Any]
) -> list[dict[str, Any]]:
    """Half Likes (no actor likes a post twice), half replies with fresh ids; shuffled."""
    activities = []
    for n in range(count):
        if n % 2:
            actor = actor_uri(peers, rng.randrange(ACTORS))
            note = rng.getrandbits(64)
            activities.append(reply(seeded, actor, rng.choice(seeded.post_ids), note))
            continue
        pair = (rng.randrange(ACTORS), rng.choice(seeded.post_ids))
        while pair in taken:
            pair = (rng.randrange(ACTORS), rng.choice(seeded.post_ids))
        taken.add(pair)
        activities.append(like(seeded, actor_uri(peers, pair[0]), pair[1], pair[1]))
    rng.shuffle(activities)
    return activities


# --- the instance ------------------------------------------------------------------------------


def serve_main(fd: int, url: str, base_url: str, data_dir: str, http: str, loop: str) -> int:
    """Entry point of a server child: the app on an inherited listening socket."""
    import uvicorn

    from entraide.app import build_app

    config = _common.bench_config(url, base_url, Path(data_dir))
    app = build_app(config, with_worker=False, db_url=url)
    sock = socket.socket(fileno=fd)
    # What `entraide serve` passes to uvicorn.run, on a socket shared by the processes.
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="info", proxy_headers=False, http=http, loop=loop)  # type: ignore[arg-type]
    )
    print("serving", flush=True)
    # uvicorn re-raises the SIGTERM it caught once it has shut down: exit through Python, so
    # that the profile (if any) is written.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with _profiled():
        server.run(sockets=[sock])
    return 0


@contextlib.contextmanager
def _profiled() -> Iterator[None]:
    """Profile this child when the bench asked (--profile): stats go to BENCH_PROFILE_DIR."""
    folder = os.environ.get("BENCH_PROFILE_DIR")
    if not folder:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(Path(folder) / f"{os.getpid()}.prof")


def print_profiles(folder: Path, title: str) -> None:
    """Print the merged profile of the children that wrote one, and forget them."""
    files = sorted(folder.glob("*.prof"))
    if not files:
        return
    out = io.StringIO()
    stats = pstats.Stats(*map(str, files), stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(22)
    print(f"\ncProfile of {title} ({len(files)} process(es), by own time)")
    print("\n".join(line for line in out.getvalue().splitlines() if line.startswith(" ")))
    for file in files:
        file.unlink()


def start_servers(bench: Bench, round: Round) -> list[Any]:
    env = bench.child_env()
    command = [sys.executable, __file__, "--serve", str(bench.listener.fileno()), bench.url]
    command += [bench.config.base_url, str(bench.config.data_dir), round.http, round.loop]
    processes = []
    for i in range(round.processes):
        log = bench.folder / f"server{len(bench.logs)}.log"
        bench.logs.append(log)
        with log.open("ab") as out:
            processes.append(
                subprocess.Popen(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                    pass_fds=[bench.listener.fileno()],
                )
            )
        _common.wait_for_line(log, "Application startup complete", processes[i], 60)
    return processes


def stop_servers(processes: list[Any]) -> None:
    for process in processes:
        _common.stop_child(process)


def worker_main(url: str, base_url: str, data_dir: str, loop: str) -> int:
    """Entry point of a worker child: the job worker with the federation handlers."""
    from federation.context import open_federation
    from federation.jobs import job_handlers
    from server.worker import run_worker

    config = _common.bench_config(url, base_url, Path(data_dir))

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        pool = await create_pool(url)
        fed = await open_federation(pool, config)
        try:
            print("worker ready", flush=True)
            with _profiled():
                # Idle, it looks for due jobs every 20 ms (0.5 s by default): the jobs timed are
                # made due once the workers are up, and the first look must not wait.
                await run_worker(pool, job_handlers(fed), stop, idle_seconds=0.02)
        finally:
            await fed.close()
            await pool.close()

    if loop == "uvloop":
        import uvloop

        uvloop.run(main())  # what `entraide worker` runs where uvloop is installed
    else:
        asyncio.run(main())
    return 0


# --- the load client ---------------------------------------------------------------------------


async def send_all(port: int, requests: list[bytes], connections: int, deadline: float) -> Load:
    """Send every request over `connections` connections; record statuses and latencies."""
    load = Load("")
    queue = iter(requests)
    stop_at = time.perf_counter() + deadline

    async def loop(connection: _common.KeepAliveConnection) -> None:
        for request in queue:
            if time.perf_counter() > stop_at:
                return
            t0 = time.perf_counter()
            try:
                status = str(await asyncio.wait_for(connection.send(request), timeout=30))
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                status = type(exc).__name__
            load.latencies.append(time.perf_counter() - t0)
            load.statuses[status] += 1
            load.sent += 1

    pool = [_common.KeepAliveConnection(port) for _ in range(connections)]
    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(loop(c) for c in pool))
    finally:
        for connection in pool:
            connection.close()
    load.elapsed = time.perf_counter() - t0
    return load


# --- the phases --------------------------------------------------------------------------------


@dataclass
class Bench:
    folder: Path
    url: str
    config: Config
    pool: Pool
    peers: _common.Peers
    listener: socket.socket
    postgres_pid: int
    scale: Scale
    logs: list[Path] = field(default_factory=list)
    profile: bool = False
    worker_loop: str = "asyncio"

    def child_env(self) -> dict[str, str]:
        env = _common.child_env()
        if self.profile:
            (self.folder / "profiles").mkdir(exist_ok=True)
            env["BENCH_PROFILE_DIR"] = str(self.folder / "profiles")
        return env

    @property
    def port(self) -> int:
        port: int = self.listener.getsockname()[1]
        return port


def cpu_now(bench: Bench, pids: list[int]) -> dict[str, float]:
    return {
        "instance": sum(_common.process_tree_cpu(pid) for pid in pids),
        "postgres": _common.process_tree_cpu(bench.postgres_pid),
        "client": time.process_time(),
        "peers": sum(_common.process_tree_cpu(pid) for pid in bench.peers.pids()),
    }


async def load_phase(
    bench: Bench, label: str, servers: list[Any], requests: list[bytes], connections: int
) -> Load:
    pids = [s.pid for s in servers]
    before = cpu_now(bench, pids)
    load = await send_all(bench.port, requests, connections, bench.scale.deadline)
    load.cpu = {k: v - before[k] for k, v in cpu_now(bench, pids).items()}
    load.label = label
    return load


# The processing of one activity type is timed at a time: every job waits until the workers
# are all ready, then those of the type are made due (the others' wait on).
HOLD_ALL = "UPDATE jobs SET run_at = 'infinity'"
RELEASE_TYPE = """
    UPDATE jobs SET run_at = now()
    WHERE kind <> 'process_inbox' OR (payload->>'row_id')::bigint IN (
        SELECT id FROM inbox_activities WHERE processed_at IS NULL AND type = $1
    )
"""
RELEASE_ALL = "UPDATE jobs SET run_at = now() WHERE run_at = 'infinity'"
DUE_JOBS = "SELECT count(*) FROM jobs WHERE run_at <> 'infinity'"


async def process_phase(bench: Bench, label: str, workers: int, type: str) -> Processing:
    """Run `workers` worker processes until every stored activity of `type`, and every job
    but those of the other types, is done."""
    result = Processing(label)
    pool = bench.pool
    unprocessed = "SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL AND type = $1"
    await pool.execute(HOLD_ALL)
    pending = await pool.fetchval(unprocessed, type)
    last_job = await pool.fetchval(LAST_JOB_ID)
    started = await pool.fetchval("SELECT now()")
    command = [sys.executable, __file__, "--worker", bench.url, bench.config.base_url]
    command += [str(bench.config.data_dir), bench.worker_loop]
    children: list[Any] = []
    try:
        for i in range(workers):
            log = bench.folder / f"worker{len(bench.logs)}.log"
            bench.logs.append(log)
            children.append(_common.start_child(command, log, bench.child_env()))
            _common.wait_for_line(log, "worker ready", children[i])
        before = cpu_now(bench, [c.pid for c in children])
        t0 = time.monotonic()
        jobs_before = int((await pool.execute(RELEASE_TYPE, type)).split()[-1])
        deadline = t0 + bench.scale.deadline
        left = pending
        while left and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            left = await pool.fetchval(unprocessed, type)
        result.rows_elapsed = time.monotonic() - t0
        jobs_left = await pool.fetchval(DUE_JOBS)
        while jobs_left and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            jobs_left = await pool.fetchval(DUE_JOBS)
        result.elapsed = time.monotonic() - t0
        result.timed_out = bool(left or jobs_left)
        result.cpu = {
            k: v - before[k] for k, v in cpu_now(bench, [c.pid for c in children]).items()
        }
    finally:
        for child in children:
            _common.stop_child(child)
        await pool.execute(RELEASE_ALL)
    result.rows = pending - left
    created = await pool.fetchval(LAST_JOB_ID) - last_job
    result.jobs = max(jobs_before + created - jobs_left, 0)
    rows = await pool.fetch(
        """
        SELECT regexp_replace(outcome, '[0-9]+', 'N') AS kind, count(*) AS n
        FROM inbox_activities WHERE processed_at >= $1 GROUP BY 1
        """,
        started,
    )
    result.outcomes = Counter({r["kind"]: r["n"] for r in rows})
    return result


async def introduce_actors(bench: Bench, requests: list[bytes]) -> Load:
    """Every actor's first activity: the instance fetches its document and key, then caches."""
    servers = start_servers(bench, Round("first contact", 1))
    try:
        load = await load_phase(bench, "first contact, 1 process", servers, requests, 8)
    finally:
        stop_servers(servers)
    # The actors follow the group: each relayed reply is announced to their 4 shared inboxes.
    await bench.pool.execute(
        """
        INSERT INTO follows (follower_id, target_id, uri, state)
        SELECT a.id, g.actor_id, a.uri || '/follows/bench', 'accepted'
        FROM actors a, groups g WHERE a.domain IS NOT NULL
        """
    )
    return load


# --- tables ------------------------------------------------------------------------------------


def print_loads(loads: list[Load]) -> None:
    print(f"\nInbox POSTs (aim: >= {AIM_ACCEPTED:,.0f}/s accepted)")
    header = (
        f"{'phase':<32} {'sent':>6} {'202':>6} {'202/s':>7} {'p50 ms':>7} {'p90 ms':>7}"
        f" {'p99 ms':>7} {'other':>5}  aim"
    )
    print(header)
    print("-" * len(header))
    for load in loads:
        p50, p90, p99 = (_common.percentile_ms(load.latencies, p) for p in (50, 90, 99))
        rate = load.accepted / load.elapsed if load.elapsed else 0
        other = load.sent - load.accepted
        met = "" if load.label.startswith("first") else "met" if rate >= AIM_ACCEPTED else "MISSED"
        print(
            f"{load.label:<32} {load.sent:>6} {load.accepted:>6} {rate:>7.0f} {p50:>7.1f}"
            f" {p90:>7.1f} {p99:>7.1f} {other:>5}  {met}"
        )
    print("\nCPU per POST (ms), same runs; 2 cores shared by all")
    print(f"{'phase':<32} {'instance':>8} {'postgres':>8} {'client':>7} {'peers':>6}")
    for load in loads:
        n = max(load.sent, 1)
        print(
            f"{load.label:<32} {1000 * load.cpu['instance'] / n:>8.2f}"
            f" {1000 * load.cpu['postgres'] / n:>8.2f} {1000 * load.cpu['client'] / n:>7.2f}"
            f" {1000 * load.cpu['peers'] / n:>6.2f}"
        )
    for load in loads:
        odd = {k: v for k, v in load.statuses.items() if k != "202"}
        if odd:
            print(f"  {load.label}: answers other than 202: {odd}")


def print_processing(results: list[Processing]) -> None:
    print(f"\nProcessing the stored activities (aim: >= {AIM_PROCESSED:,.0f}/s)")
    header = (
        f"{'phase':<32} {'rows':>6} {'rows/s':>7} {'jobs':>6} {'jobs/s':>7} {'all done s':>10}"
        f" {'wrk ms':>6} {'pg ms':>6}  aim"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        rate = r.rows / r.rows_elapsed if r.rows_elapsed else 0
        n = max(r.jobs, 1)
        met = "met" if rate >= AIM_PROCESSED and not r.timed_out else "MISSED"
        print(
            f"{r.label:<32} {r.rows:>6} {rate:>7.0f} {r.jobs:>6} {r.jobs / r.elapsed:>7.0f}"
            f" {r.elapsed:>10.2f} {1000 * r.cpu['instance'] / n:>6.2f}"
            f" {1000 * r.cpu['postgres'] / n:>6.2f}  {met}"
        )
    print("(jobs = process_inbox jobs + the federate_post relays of the replies; wrk/pg ms =")
    print(" CPU per job of the worker processes and of PostgreSQL)")
    for r in results:
        print(f"  {r.label}: outcomes {dict(r.outcomes)}")


# --- main --------------------------------------------------------------------------------------


def run(scale: Scale, profile: bool, worker_loop: str = "asyncio") -> int:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {CONNECTIONS} connections")
    print(f"uvicorn in the instance: loop={loop} http={http} (its 'auto' choice), access log on")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    # The client signs with the project's own sign_request; loading the PEM each time (what
    # sign_request does) costs ~60 ms, so the client caches it: it is not what is measured.
    signatures._load_private_key = functools.lru_cache(maxsize=4)(signatures._load_private_key)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="entraide-inbox-") as tmp:
        folder = Path(tmp)
        private_pem, public_pem = generate_key_pair()
        with _common.embedded_postgres(folder) as (postgres, url):
            peers = _common.Peers(__file__, folder, ACTOR_HOSTS, 1, public_pem)
            with (
                _common.running(peers.start, lambda p: p.stop()),
                socket.create_server((HOST, 0), backlog=1024) as listener,
            ):
                listener.set_inheritable(True)
                port = listener.getsockname()[1]
                config = _common.bench_config(url, f"http://{HOST}:{port}", folder / "data")

                async def main() -> tuple[list[Load], list[Processing]]:
                    pool = await create_pool(url)
                    try:
                        bench = Bench(
                            folder, url, config, pool, peers, listener, postgres.get_pid(), scale
                        )
                        bench.profile = profile
                        bench.worker_loop = worker_loop
                        return await measure(bench, private_pem)
                    finally:
                        await pool.close()

                loads, processed = asyncio.run(main())
    print_loads(loads)
    print_processing(processed)
    report_figures(scale, loads, processed)
    bad = any(load.sent != load.accepted for load in loads)
    return 1 if bad else 0


def report_figures(scale: Scale, loads: list[Load], processed: list[Processing]) -> None:
    """Record the shipped rounds' figures in the bench table (1 process, then 2)."""
    accepted, done = {}, {}
    for round in scale.rounds:
        if round not in SHIPPED:
            continue
        load = next(x for x in loads if x.label == round.label)
        accepted[round.processes] = load.accepted / load.elapsed if load.elapsed else 0.0
        phases = [r for r in processed if r.label.startswith(f"{round.label}:")]
        elapsed = sum(r.rows_elapsed for r in phases)
        done[round.processes] = sum(r.rows for r in phases) / elapsed if elapsed else 0.0
    if set(accepted) != {1, 2}:
        return
    _common.report(
        "inbox, signed activities accepted",
        f"{accepted[1]:,.0f}/s (1 process), {accepted[2]:,.0f}/s (2)",
        f"≥ {AIM_ACCEPTED:,.0f}/s",
    )
    _common.report(
        "inbox, activities processed",
        f"{done[1]:,.0f}/s (1 worker), {done[2]:,.0f}/s (2); half Likes, half replies",
        f"≥ {AIM_PROCESSED:,.0f}/s",
    )


async def measure(bench: Bench, private_pem: str) -> tuple[list[Load], list[Processing]]:
    seeded = await seed(bench.pool, bench.config)
    rng = random.Random(7)
    taken: set[Any] = set()
    t0 = time.perf_counter()
    first = []
    for i in range(ACTORS):
        post_id = seeded.post_ids[i % len(seeded.post_ids)]
        taken.add((i, post_id))
        first.append(like(seeded, actor_uri(bench.peers, i), post_id, post_id))
    rounds = [
        plan_activities(seeded, bench.peers, bench.scale.per_round, rng, taken)
        for _ in bench.scale.rounds
    ]
    first_requests = [_common.signed_inbox_request(bench.port, a, private_pem) for a in first]
    round_requests = [
        [_common.signed_inbox_request(bench.port, a, private_pem) for a in r] for r in rounds
    ]
    print(
        f"seeded; signed {len(first_requests) + sum(map(len, round_requests)):,} activities"
        f" in {time.perf_counter() - t0:.1f} s"
    )
    loads = [await introduce_actors(bench, first_requests)]
    print_profiles(bench.folder / "profiles", "the instance, first contact")
    processed = []
    for round, requests in zip(bench.scale.rounds, round_requests, strict=True):
        label = round.label
        async with bench.pool.acquire() as conn:
            await apply_migrations(conn)  # the app refuses to start on a schema behind the code
        servers = start_servers(bench, round)
        try:
            # A short warm-up on other requests would re-send ids: the first round's first
            # requests warm the connections instead, counted like the rest.
            loads.append(await load_phase(bench, label, servers, requests, CONNECTIONS))
        finally:
            stop_servers(servers)
        print(f"  load, {label}: {loads[-1].accepted} accepted in {loads[-1].elapsed:.1f} s")
        print_profiles(bench.folder / "profiles", f"the instance, load with {label}")
        for type, name in (("Like", "Likes"), ("Create", "replies")):
            phase = f"{label}: {name}"
            processed.append(await process_phase(bench, phase, round.processes, type))
            print(
                f"  processing, {phase}: {processed[-1].rows} rows in {processed[-1].elapsed:.1f} s"
            )
            print_profiles(bench.folder / "profiles", f"the workers, processing {phase}")
    return loads, processed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--peer"]:
        return _common.peer_main(argv[1:])
    if argv[:1] == ["--serve"]:
        return serve_main(int(argv[1]), *argv[2:7])
    if argv[:1] == ["--worker"]:
        return worker_main(*argv[1:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 activities per round")
    parser.add_argument("--profile", action="store_true", help="cProfile the instance, workers")
    parser.add_argument(
        "--compare", action="store_true", help="add rounds with uvicorn on h11 and asyncio"
    )
    parser.add_argument(
        "--asyncio-workers", action="store_true", help="run the job workers on asyncio's loop"
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.compare:
        scale = Scale(scale.per_round, scale.deadline, scale.rounds + PURE_PYTHON)
    _common.install_stop_signals()
    try:
        uvloop = importlib.util.find_spec("uvloop") and not args.asyncio_workers
        worker_loop = "uvloop" if uvloop else "asyncio"
        return run(scale, args.profile, worker_loop)
    except (KeyboardInterrupt, _common.Interrupted):
        print("\ninterrupted: instance, workers, peers and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
