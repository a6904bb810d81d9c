"""Fan-out of one group post to 1,000 and 10,000 remote followers, each on its own inbox.

Starts a throwaway embedded PostgreSQL and two "peer" processes standing in for remote servers
(200 loopback hosts, 202 to every POST, counting duplicates); seeds a public group per size
whose followers all have distinct shared inboxes; then creates one post with `create_post` and
runs `entraide worker` as shipped (one process per CPU) until every follower's inbox has its
Announce. `--variants` adds runs that change one thing (worker processes, hosts, or undo one of the
changes that made fan-out faster), `--profile` a cProfile of one in-process worker.
Run: `.venv/bin/python bench/fanout.py [--variants] [--profile] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
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
from federation.context import open_federation
from federation.jobs import run_workers
from server.config import Config
from server.db import Pool, create_pool
from server.models import Account, Group
from server.services.groups import create_group
from server.services.posts import create_post
from server.storage.workers import WORKER_LOCK_SPACE

AIM_INBOXES = 10_000
AIM_SECONDS = 6.0
SIZES = [1_000, 10_000]
HOSTS = 200  # distinct host:port the followers are spread over (50 inboxes each at 10,000)
FEW_HOSTS = 4  # a few big instances: the per-host cap (PER_HOST) binds
PEERS = 2  # peer processes; more would only take CPU from the instance on 2 cores
CPUS = os.cpu_count() or 1


@dataclass(frozen=True)
class Variant:
    """One way of running the workers; the defaults are the code as shipped."""

    name: str
    processes: int = CPUS  # `entraide worker --processes`
    hosts: int = HOSTS
    # Changes undone by patching the worker processes (they run this script's --worker mode):
    httpx_post: bool = False  # deliveries POSTed through httpx, as before
    flush_rows: int | None = None  # delivery.FLUSH_ROWS; 1 writes each success on its own
    batch: int | None = None  # delivery.BATCH, deliveries in flight per process
    deadline: float = 60.0  # seconds before the run is cut short

    @property
    def patched(self) -> bool:
        return self.httpx_post or self.flush_rows is not None or self.batch is not None


SHIPPED = Variant(f"shipped ({CPUS} processes)")
VARIANTS: list[Variant] = [
    Variant("1 process", processes=1),
    Variant(f"{CPUS + 1} processes", processes=CPUS + 1),
    Variant("successes written one by one", flush_rows=1),
    Variant("POST through httpx (before)", httpx_post=True),
    Variant("BATCH 100", batch=100),
    Variant(f"{FEW_HOSTS} hosts (PER_HOST binds)", hosts=FEW_HOSTS),
]


# --- the worker processes ----------------------------------------------------------------------


def install(variant: Variant) -> None:
    """Apply a variant's patches in this (worker) process."""
    if variant.batch is not None:
        delivery.BATCH = variant.batch
    if variant.flush_rows is not None:
        delivery.FLUSH_ROWS = variant.flush_rows
    if variant.httpx_post:
        fetch.HttpClient.post_activity = post_activity_httpx  # type: ignore[method-assign]


async def post_activity_httpx(
    self: fetch.HttpClient, inbox: str, body: bytes, signer: fetch.Signer, *, digest: str | None
) -> int:
    """HttpClient.post_activity as it was: through httpx and its aiohttp transport."""
    await fetch.check_url(inbox, allow_private=self.allow_private)
    headers = {"Content-Type": fetch.ACTIVITY_JSON}
    if digest is not None:
        headers["Digest"] = digest
    headers = signatures.sign_request(
        "POST", inbox, headers, body, signer.key_id, signer.private_key_pem
    )
    try:
        response = await self.client.post(inbox, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise fetch.FetchError(f"Request failed: {type(exc).__name__}", retryable=True) from None
    return response.status_code


def worker_main(variant_json: str) -> int:
    """Entry point of a patched worker process (`--worker VARIANT`): one `entraide worker`."""
    install(Variant(**json.loads(variant_json)))
    from entraide.cli import main as entraide_main

    entraide_main(["worker", "--processes", "1"])
    return 0


def instance_env(bench: Bench) -> dict[str, str]:
    """The environment of `entraide worker`: the bench's instance settings."""
    return {
        **_common.child_env(),
        "DATABASE_URL": bench.url,
        "ENTRAIDE_URL": bench.config.base_url,
        "ENTRAIDE_DATA_DIR": str(bench.config.data_dir),
        "ENTRAIDE_SECRET_KEY": _common.SECRET_KEY,
        "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": "true",
        "ENTRAIDE_LANGUAGE": "en",
    }


def start_workers(bench: Bench, variant: Variant, run: int) -> list[Any]:
    """Start the variant's worker processes; shipped, one `entraide worker` starts them all."""
    env, log = instance_env(bench), bench.folder / f"worker{run}.log"
    if not variant.patched:
        command = [sys.executable, "-m", "entraide", "worker", "--processes"]
        process = _common.start_child([*command, str(variant.processes)], log, env)
        _common.wait_for_line(log, "worker started", process)
        return [process]
    command = [sys.executable, bench.script, "--worker", json.dumps(asdict(variant))]
    processes = [_common.start_child(command, log, env) for _ in range(variant.processes)]
    for process in processes:
        _common.wait_for_line(log, "worker started", process)
    return processes


async def wait_for_locks(pool: Pool, count: int, seconds: float = 20) -> None:
    """Wait until `count` worker processes hold their lock: all are polling for deliveries."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        held = await pool.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
            " AND classid = $1",
            WORKER_LOCK_SPACE,
        )
        if held >= count:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{count} worker processes did not start polling")


def stop_workers(processes: list[Any]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(25)
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
        await _common.copy_remote_actors(
            conn, max(sizes), lambda i: peers.host(i % HOSTS), pem, own_shared_inboxes=True
        )
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
    load: float = 0.0  # 1-minute load average when the run started

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
    runs: int = 0


async def peer_stats(client: httpx.AsyncClient, peers: _common.Peers) -> dict[str, float]:
    answers = await asyncio.gather(*(client.get(u) for u in peers.control_urls("stats")))
    stats = [a.json() for a in answers]
    total = {k: sum(s[k] for s in stats) for k in ("posts", "distinct", "duplicates", "unsigned")}
    firsts = [s["first"] for s in stats if s["first"]]
    total["first"] = min(firsts) if firsts else 0.0
    total["last"] = max(s["last"] for s in stats)
    return total


def cpu_now(bench: Bench, workers: list[Any]) -> dict[str, float]:
    in_process = time.process_time() if not workers else 0.0
    return {
        "worker": in_process + sum(_common.process_tree_cpu(w.pid) for w in workers),
        "postgres": _common.process_tree_cpu(bench.postgres_pid),
        "peers": sum(_common.process_tree_cpu(pid) for pid in bench.peers.pids()),
    }


async def run_once(bench: Bench, size: int, variant: Variant, profile: bool = False) -> Result:
    """Post once in the group of `size` followers; wait for every delivery; measure.

    With `profile`, one worker runs in this process under cProfile (the bench's own CPU is
    then counted as the worker's).
    """
    pool, result = bench.pool, Result(size, variant, load=os.getloadavg()[0])
    await lay_out_hosts(pool, bench.seeded, bench.peers, variant.hosts)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM deliveries; DELETE FROM hosts; DELETE FROM jobs")
        await conn.execute("VACUUM ANALYZE deliveries, outbox_activities, jobs, hosts")
    bench.runs += 1
    workers: list[Any] = []
    stop = asyncio.Event()
    in_process: asyncio.Task[None] | None = None
    profiler = cProfile.Profile() if profile else None
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(client.get(u) for u in bench.peers.control_urls("reset")))
        try:
            if profile:
                worker_pool = await create_pool(bench.url)
                worker_fed = await open_federation(worker_pool, bench.config)
                in_process = asyncio.create_task(run_workers(worker_fed, stop))
                await wait_for_locks(pool, 1)
            else:
                workers = start_workers(bench, variant, bench.runs)
                await wait_for_locks(pool, variant.processes)
            await asyncio.sleep(0.3)
            before = cpu_now(bench, workers)
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
                await asyncio.sleep(0.02)
                tally = await _tally(pool, post.id)
            result.recorded = time.monotonic() - t0
            result.timed_out = tally[0] + tally[1] < size
            if profiler is not None:
                profiler.disable()
            result.cpu = {k: v - before[k] for k, v in cpu_now(bench, workers).items()}
            await asyncio.sleep(0.3)  # late duplicates would land now
            stats = await peer_stats(client, bench.peers)
        finally:
            stop.set()
            stop_workers(workers)
            if in_process is not None:
                await asyncio.wait([in_process], timeout=20)
                await worker_fed.close()
                await worker_pool.close()
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
        print_profile(profiler, f"{size:,} inboxes, one in-process worker")
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


def print_profile(profiler: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(22)
    print(f"\ncProfile of the in-process worker, {title} (by own time)")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


# --- what one signature costs ------------------------------------------------------------------


def measure_signing(pem: str, count: int = 500) -> float:
    """Return the CPU seconds of one delivery's signature (sign_request, key already loaded)."""
    body = b'{"type": "Announce"}'
    digest = signatures.digest_header(body)
    headers = {"Content-Type": fetch.ACTIVITY_JSON, "Digest": digest}
    url = "https://peer.invalid/inbox"
    signatures.sign_request("POST", url, headers, body, "k", pem)
    t0 = time.process_time()
    for _ in range(count):
        signatures.sign_request("POST", url, headers, body, "k", pem)
    return (time.process_time() - t0) / count


# --- tables ------------------------------------------------------------------------------------


def print_results(results: list[Result], sign_seconds: float) -> None:
    print(f"\nFan-out of one post (aim: {AIM_INBOXES:,} inboxes in <= {AIM_SECONDS:.0f} s)")
    print("times are from create_post; 'recorded' = every outcome written to the database")
    print(f"cpu s = CPU seconds of the worker processes, PostgreSQL and the peers; on {CPUS}")
    print("cores their sum / cores is a floor for 'last s'; sign s = signatures alone")
    header = (
        f"{'variant':<34} {'inboxes':>7} {'done':>6} {'first s':>7} {'last s':>7}"
        f" {'recorded':>8} {'deliv/s':>7} {'dup':>4} {'fail':>4} {'wrk cpu':>7} {'sign s':>6}"
        f" {'pg cpu':>6} {'peer cpu':>8} {'floor s':>7} {'load':>5}  aim"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        done = f"{r.delivered}" + ("*" if r.timed_out else "")
        floor = sum(r.cpu.values()) / CPUS
        print(
            f"{r.variant.name:<34} {r.size:>7,} {done:>6} {r.first:>7.2f} {r.last:>7.2f}"
            f" {r.recorded:>8.2f} {r.rate:>7.0f} {r.duplicates:>4} {r.failed:>4}"
            f" {r.cpu.get('worker', 0):>7.1f} {sign_seconds * r.posts:>6.1f}"
            f" {r.cpu.get('postgres', 0):>6.1f} {r.cpu.get('peers', 0):>8.1f}"
            f" {floor:>7.1f} {r.load:>5.2f}  {r.met}"
        )
    if any(r.timed_out for r in results):
        print("* cut short at the variant's deadline; deliv/s is over the deliveries made")
    if any(r.unsigned for r in results):
        print("UNSIGNED deliveries seen: " + ", ".join(f"{r.unsigned}" for r in results))


def report(results: list[Result]) -> None:
    """Record the shipped code's figures in `make bench`'s table (the median run of each size)."""
    for size in sorted({r.size for r in results}):
        runs = sorted((r for r in results if r.size == size and r.variant == SHIPPED),
                      key=lambda r: (r.timed_out, r.last))  # fmt: skip
        if not runs:
            continue
        r = runs[(len(runs) - 1) // 2]
        figure = f"{r.last:.1f} s ({r.rate:.0f}/s), {r.duplicates} duplicates"
        if r.timed_out:
            figure += f", only {r.delivered:,} delivered"
        aim = f"≤ {AIM_SECONDS:.0f} s" if r.size >= AIM_INBOXES else "—"
        _common.report(f"fan-out, {r.size:,} inboxes, last delivery", figure, aim)


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


def run(plan: list[tuple[int, Variant]], profile: bool) -> int:
    print(f"python {sys.version.split()[0]}, {CPUS} cores, {PEERS} peer processes")
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    sizes = sorted({size for size, _ in plan})
    with tempfile.TemporaryDirectory(prefix="entraide-fanout-") as tmp:
        folder = Path(tmp)
        with _common.embedded_postgres(folder) as (postgres, url):
            peers = _common.Peers(__file__, folder, HOSTS, PEERS, None)
            with _common.running(peers.start, lambda p: p.stop()):

                async def main() -> tuple[list[Result], float]:
                    bench = await prepare(folder, url, peers, sizes)
                    bench.postgres_pid = postgres.get_pid()
                    async with bench.pool.acquire() as conn:
                        pem = await conn.fetchval(
                            "SELECT private_key_pem FROM actors WHERE kind = 'group' LIMIT 1"
                        )
                    sign_seconds = measure_signing(pem)
                    print(f"one signature: {1000 * sign_seconds:.2f} ms of CPU")
                    results = []
                    try:
                        for size, variant in plan:
                            result = await run_once(bench, size, variant)
                            print(
                                f"  {size:>6,} {variant.name:<34} last {result.last:6.2f} s"
                                f" ({result.delivered} delivered, load {result.load:.2f})",
                                flush=True,
                            )
                            results.append(result)
                        if profile:
                            await run_once(bench, sizes[-1], Variant("profile", processes=1), True)
                    finally:
                        await bench.pool.close()
                    return results, sign_seconds

                results, sign_seconds = asyncio.run(main())
    print_results(results, sign_seconds)
    report(results)
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    bad = any(r.duplicates or r.unsigned for r in results)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--peer"]:
        return _common.peer_main(argv[1:])
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 inboxes only")
    parser.add_argument("--variants", action="store_true", help="also run the variants")
    parser.add_argument("--only", action="append", help="a variant to run (repeatable)")
    parser.add_argument("--large", action="store_true", help="10,000 inboxes only")
    parser.add_argument("--repeat", type=int, default=1, help="run each variant this many times")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process worker")
    args = parser.parse_args(argv)
    _common.install_stop_signals()
    sizes = SIZES[:1] if args.quick else SIZES[1:] if args.large else SIZES
    variants = [SHIPPED, *VARIANTS] if args.variants or args.only else [SHIPPED]
    if args.only:
        variants = [v for v in variants if v.name in set(args.only)]
    plan = [(size, v) for size in sizes for _ in range(args.repeat) for v in variants]
    try:
        return run(plan, args.profile)
    except (KeyboardInterrupt, _common.Interrupted):
        print("\ninterrupted: workers, peers and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
