"""Load test of the public pages: a seeded group served by the real app over loopback.

Starts a throwaway embedded PostgreSQL, seeds one group (1,000 members, 10,000 posts, 1,000
events: half past, half to come; 5,000 needs and offers), serves
the app with uvicorn in a subprocess on 127.0.0.1, drives it with 32 concurrent connections,
then loads the group page through the real `entraide serve --processes 1` and `--processes 2`,
prints latency tables and the query plans of the group page. Run: `.venv/bin/python
bench/pages.py [--quick]`; bench/README.md explains the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import importlib.util
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import asyncpg
import httpx
from _common import (
    Interrupted,
    KeepAliveConnection,
    free_port,
    install_stop_signals,
    migrate_and_create_owner,
    process_tree_cpu,
    report,
    running,
    start_child,
    stop_child,
    wait_for_web,
)

from server.config import Config, load_config
from server.db import create_pool
from server.sanitize import render_text
from server.services.groups import create_group
from server.services.posts import mention_resolver
from server.storage import events as event_store
from server.storage import groups as group_store
from server.storage import posts as post_store

HOST = "127.0.0.1"  # the only address this script sends traffic to
AIM_P50_MS = 15.0
AIM_P99_MS = 60.0
AIM = f"≤ {AIM_P50_MS:.0f} ms p50, ≤ {AIM_P99_MS:.0f} ms p99"
GROUP_SLUG = "entraide_bench"
REPLY_SHARE = 0.1  # a tenth of the posts answer an earlier one, as in a lively group
WARNING_SHARE = 0.05  # and one in twenty carries a content warning
SAMPLE_TEXTS = (
    "Bonjour à toutes et à tous,\n\nla permanence de jeudi est maintenue, 18 h à la maison "
    "de quartier. Pensez à apporter des sacs pour la distribution.",
    "Merci @member12 pour le covoiturage d'hier ! Qui peut prendre le relais samedi ?\n"
    "Les horaires sont sur https://example.org/planning",
    "Petit rappel : la réunion mensuelle aura lieu le 3. Ordre du jour :\n"
    "- bilan de la collecte\n- nouveaux bénévoles\n- questions diverses",
    "Je cherche quelqu'un pour m'aider à déménager un canapé, deux heures maximum. "
    "Je peux offrir le repas en échange. @member7 tu es dispo ?",
    "Hi everyone, the food bank needs drivers this week. Reply here or write to "
    "@owner. Details: https://example.org/food-bank?week=12",
    "Compte rendu de l'atelier réparation : 14 objets réparés sur 19, dont 3 grille-pain "
    "et une machine à coudre. Prochain atelier le mois prochain.",
)


@dataclass(frozen=True)
class Scale:
    members: int
    posts: int
    warmup: float
    duration: float
    serial_warmup: float
    serial_duration: float
    concurrency: int = 32
    max_requests: int = 200_000  # a bound on each scenario, whatever the speed
    events: int = 1_000
    board_items: int = 5_000


FULL = Scale(members=1_000, posts=10_000, warmup=2, duration=10, serial_warmup=1, serial_duration=3)
QUICK = Scale(
    members=100,
    posts=1_000,
    warmup=1,
    duration=3,
    serial_warmup=0.5,
    serial_duration=1,
    events=200,
    board_items=500,
)


@dataclass(frozen=True)
class Seeded:
    group_id: int
    top_level_ids: list[int]
    post_ids: list[int]
    likes: int | None  # None while the schema has no likes table


@dataclass
class Result:
    scenario: str
    latencies: list[float]
    errors: Counter[str]  # "HTTP 500", "TimeoutError", ... with their counts
    elapsed: float
    client_cpu: float
    server_cpu: float
    postgres_cpu: float

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[p - 1] * 1000


T = TypeVar("T")


# --- seeding ---------------------------------------------------------------------------------


async def seed(url: str, config: Config, scale: Scale) -> Seeded:
    """Create the owner and group through the services, everything else with bulk SQL."""
    pool = await create_pool(url)
    try:
        owner = await migrate_and_create_owner(pool, config)
        group = await create_group(
            pool,
            config,
            owner,
            slug=GROUP_SLUG,
            name="Entraide du quartier",
            description="Un groupe d'entraide de quartier, pour le banc d'essai.",
        )
        async with pool.acquire() as conn, conn.transaction():
            member_ids = await _insert_members(conn, owner.id, group.id, scale.members - 1)
            posts = await _insert_posts(conn, config, group.id, [owner.id, *member_ids], scale)
            likes = await _insert_likes(conn, group.id)
            await _insert_events(conn, group.id, [owner.id, *member_ids], scale.events)
            await _insert_board_items(conn, group.id, [owner.id, *member_ids], scale.board_items)
        async with pool.acquire() as conn:
            # A steady state: statistics known and the visibility map set, as autovacuum would.
            await conn.execute("VACUUM ANALYZE")
        return Seeded(group.id, posts[0], posts[1], likes)
    finally:
        await pool.close()


async def _insert_members(conn: Any, owner_id: int, group_id: int, count: int) -> list[int]:
    """Insert `count` accounts sharing the owner's key pair and password hash; return ids."""
    # RSA key generation takes ~100 ms each: all seeded actors reuse the owner's pair.
    owner = await conn.fetchrow(
        """
        SELECT a.private_key_pem, a.public_key_pem, c.password_hash
        FROM actors a JOIN accounts c ON c.actor_id = a.id
        WHERE a.id = $1
        """,
        owner_id,
    )
    rows = await conn.fetch(
        """
        INSERT INTO actors (kind, name, display_name, private_key_pem, public_key_pem, created_at)
        SELECT 'person', 'member' || i, 'Member ' || i, $2, $3,
               now() - interval '400 days' + i * interval '5 minutes'
        FROM generate_series(1, $1) AS i
        RETURNING id
        """,
        count,
        owner["private_key_pem"],
        owner["public_key_pem"],
    )
    ids = [r["id"] for r in rows]
    await conn.execute(
        """
        INSERT INTO accounts (actor_id, email, password_hash, created_at)
        SELECT id, name || '@bench.invalid', $2, created_at FROM actors WHERE id = ANY($1::bigint[])
        """,
        ids,
        owner["password_hash"],
    )
    await conn.execute(
        """
        INSERT INTO memberships (group_id, actor_id, role, state, created_at)
        SELECT $1, id, CASE WHEN id < $3 THEN 'moderator' ELSE 'member' END, 'active',
               created_at + interval '1 day'
        FROM actors WHERE id = ANY($2::bigint[])
        """,
        group_id,
        ids,
        min(ids, default=0) + 3,
    )
    return ids


async def _insert_posts(
    conn: Any, config: Config, group_id: int, author_ids: list[int], scale: Scale
) -> tuple[list[int], list[int]]:
    """COPY the posts in, oldest first; return the top-level ids and all ids, oldest first."""
    resolve = mention_resolver(config)
    samples = [(text, render_text(text, resolve)) for text in SAMPLE_TEXTS]
    ids = [
        r[0]
        for r in await conn.fetch(
            "SELECT nextval(pg_get_serial_sequence('posts', 'id')) FROM generate_series(1, $1)",
            scale.posts,
        )
    ]
    rng = random.Random(1)
    start = datetime.now(UTC) - timedelta(days=180)
    step = timedelta(days=180) / scale.posts
    top_level: list[int] = []
    records = []
    for i, post_id in enumerate(ids):
        reply_to = None
        if top_level and rng.random() < REPLY_SHARE:
            reply_to = rng.choice(top_level[-200:])  # replies go to recent threads
        else:
            top_level.append(post_id)
        content, content_html = rng.choice(samples)
        warning = "santé" if rng.random() < WARNING_SHARE else ""
        created = start + i * step
        author = rng.choice(author_ids)
        records.append(
            (post_id, group_id, author, reply_to, content, content_html, warning, created)
        )
    await conn.copy_records_to_table(
        "posts",
        records=records,
        columns=[
            "id",
            "group_id",
            "author_id",
            "in_reply_to_id",
            "content",
            "content_html",
            "content_warning",
            "created_at",
        ],
    )
    return top_level, ids


async def _insert_likes(conn: Any, group_id: int) -> int | None:
    """Have members like posts: 0 to 5 likes each (2.5 on average), if the schema has likes."""
    if await conn.fetchval("SELECT to_regclass('likes')") is None:
        return None
    # Member number (post id * 7 + j * 131) mod n likes the post, for j below (post id mod 6):
    # distinct members per post, spread over the whole group.
    status: str = await conn.execute(
        """
        INSERT INTO likes (actor_id, post_id)
        SELECT m.ids[1 + (p.id * 7 + j * 131) % m.n], p.id
        FROM posts p
        CROSS JOIN generate_series(0, 4) AS j
        CROSS JOIN (
            SELECT array_agg(actor_id ORDER BY actor_id) AS ids, count(*) AS n
            FROM memberships WHERE group_id = $1
        ) AS m
        WHERE p.group_id = $1 AND j < p.id % 6
        ON CONFLICT DO NOTHING
        """,
        group_id,
    )
    return int(status.split()[-1])


async def _insert_events(conn: Any, group_id: int, member_ids: list[int], count: int) -> None:
    """COPY `count` events in, one every other day around today, with their participants."""
    rng = random.Random(3)
    today = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
    records = []
    for i in range(count):
        start = today + timedelta(days=2 * (i - count // 2))
        title = rng.choice(("Repas partagé", "Atelier vélo", "Cercle de parole", "Assemblée"))
        records.append(
            (group_id, member_ids[i % len(member_ids)], f"{title} n° {i}",
             "Chacun apporte un plat.", "<p>Chacun apporte un plat.</p>", start,
             start + timedelta(hours=3), "Europe/Paris", "Maison de quartier",
             "12 rue Sainte-Catherine", "33000", "Bordeaux", rng.choice((None, 12, 30)),
             rng.randint(0, 3))
        )  # fmt: skip
    await conn.copy_records_to_table(
        "events",
        records=records,
        columns=[
            "group_id", "organizer_id", "title", "description", "description_html",
            "starts_at", "ends_at", "timezone", "place_name", "street_address", "postal_code",
            "locality", "capacity", "sequence",
        ],
    )  # fmt: skip
    # Up to eight people going to each event, the first members of the group.
    await conn.execute(
        """
        INSERT INTO event_participants (event_id, actor_id, state)
        SELECT e.id, m.actor_id, 'going'
        FROM events e
        CROSS JOIN LATERAL (
            SELECT actor_id FROM memberships WHERE group_id = $1
            ORDER BY actor_id LIMIT e.id % 9
        ) AS m
        WHERE e.group_id = $1
        """,
        group_id,
    )


BOARD_AREAS = ("Chartrons", "Bastide", "Saint-Michel", "Caudéran", "Bacalan", "Nansouty")
BOARD_CATEGORIES = ("goods", "food", "services", "transport", "housing", "money", "listening")


async def _insert_board_items(conn: Any, group_id: int, member_ids: list[int], count: int) -> None:
    """COPY `count` needs and offers in: most open, some fulfilled, withdrawn or expired."""
    rng = random.Random(4)
    now = datetime.now(UTC)
    records = []
    for i in range(count):
        state = rng.choices(("open", "fulfilled", "withdrawn"), (8, 1, 1))[0]
        created = now - timedelta(minutes=count - i)
        records.append(
            (group_id, member_ids[i % len(member_ids)], rng.choice(("need", "offer")),
             rng.choice(BOARD_CATEGORIES), f"Besoin ou offre n° {i}", "<p>Détails.</p>",
             rng.choice((*BOARD_AREAS, "")), now + timedelta(days=rng.randint(-10, 60)),
             state, None if state == "open" else created, created)
        )  # fmt: skip
    await conn.copy_records_to_table(
        "board_items",
        records=records,
        columns=[
            "group_id", "author_id", "kind", "category", "title", "details_html", "area",
            "valid_until", "state", "closed_at", "created_at",
        ],
    )  # fmt: skip


# --- the server --------------------------------------------------------------------------------


def server_env(url: str, port: int, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTRAIDE_", "DATABASE_"))}
    env.update(
        DATABASE_URL=url,
        ENTRAIDE_URL=f"http://{HOST}:{port}",
        ENTRAIDE_DATA_DIR=str(data_dir),
    )
    return env


def event_loop_choice() -> tuple[str, str]:
    """Use uvloop and httptools when installed (uvicorn's fast path), else asyncio and h11."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def start_server(
    env: dict[str, str], port: int, log: Path, access_log: bool
) -> subprocess.Popen[bytes]:
    loop, http = event_loop_choice()
    command = [sys.executable, __file__, "--serve", "--port", str(port)]
    command += ["--loop", loop, "--http", http]
    if not access_log:
        command.append("--no-access-log")
    process: subprocess.Popen[bytes] = start_child(command, log, env)
    return process


def serve(port: int, loop: str, http: str, access_log: bool) -> None:
    """Run the real app as `entraide serve` does, without the worker (the `--serve` mode)."""
    import uvicorn

    # A script's folder comes first on sys.path, and bench/api.py would shadow the project's
    # `api` package that the app imports.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.modules.pop("api", None)
    from entraide.app import build_app

    config = load_config(os.environ)
    app = build_app(config, with_worker=False, db_url=os.environ["DATABASE_URL"])
    print(f"serving with loop={loop} http={http}", flush=True)
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        loop=loop,
        http=http,
        log_level="info",
        access_log=access_log,
        proxy_headers=False,
    )


def start_entraide_serve(
    env: dict[str, str], port: int, log: Path, processes: int
) -> subprocess.Popen[bytes]:
    """Run the real `entraide serve` (no worker) with `processes` web processes."""
    command = [sys.executable, "-m", "entraide", "serve", "--no-worker", "--host", HOST]
    command += ["--port", str(port), "--processes", str(processes)]
    process: subprocess.Popen[bytes] = start_child(command, log, {**env, "PYTHONUNBUFFERED": "1"})
    return process


async def wait_for_processes(log: Path, count: int, seconds: float = 60) -> None:
    """Wait until every web process said its app started (the others start after the first)."""
    deadline = time.monotonic() + seconds
    while log.read_text(errors="replace").count("Application startup complete") < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} web processes did not start:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.2)


def measure_processes(
    env: dict[str, str], folder: Path, scale: Scale, postgres_pid: int
) -> list[tuple[int, Result]]:
    """Load the group page through `entraide serve --processes N`, N = 1 then 2."""
    found = []
    for processes in (1, 2):
        port = free_port()
        env = {**env, "ENTRAIDE_URL": f"http://{HOST}:{port}"}
        log = folder / f"serve-{processes}.log"
        start = functools.partial(start_entraide_serve, env, port, log, processes)
        with running(start, stop_child) as server:
            asyncio.run(wait_for_web(f"http://{HOST}:{port}", server, log))
            asyncio.run(wait_for_processes(log, processes))
            [result] = asyncio.run(
                run_scenarios(
                    port,
                    {"GET /groups/<slug>": lambda: f"/groups/{GROUP_SLUG}"},
                    concurrency=scale.concurrency,
                    warmup=scale.warmup,
                    duration=scale.duration,
                    max_requests=scale.max_requests,
                    pids=(server.pid, postgres_pid),
                )
            )
        found.append((processes, result))
    return found


# --- the load ----------------------------------------------------------------------------------


async def drive(
    connections: list[KeepAliveConnection],
    next_url: Callable[[], str],
    *,
    seconds: float,
    max_requests: int,
) -> tuple[list[float], Counter[str], float]:
    """GET from every connection in a loop for `seconds`; return latencies, errors, elapsed."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = 0
    deadline = time.perf_counter() + seconds

    async def loop(connection: KeepAliveConnection) -> None:
        nonlocal started
        while started < max_requests and time.perf_counter() < deadline:
            started += 1
            url = next_url()
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(connection.get(url), timeout=30)
                if status != 200:
                    errors[f"HTTP {status}"] += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                errors[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in connections))
    return latencies, errors, time.perf_counter() - t0


async def run_scenarios(
    port: int,
    scenarios: dict[str, Callable[[], str]],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    max_requests: int,
    pids: tuple[int, int],
) -> list[Result]:
    """Run each scenario: a warm-up, then a measured run; CPU is read around the measured run."""

    def cpu() -> tuple[float, float, float]:
        server_pid, postgres_pid = pids
        return time.process_time(), process_tree_cpu(server_pid), process_tree_cpu(postgres_pid)

    connections = [KeepAliveConnection(port) for _ in range(concurrency)]
    results = []
    try:
        for name, next_url in scenarios.items():
            await drive(connections, next_url, seconds=warmup, max_requests=max_requests)
            before = cpu()
            latencies, errors, elapsed = await drive(
                connections, next_url, seconds=duration, max_requests=max_requests
            )
            client, server, postgres = (b - a for a, b in zip(before, cpu(), strict=True))
            results.append(Result(name, latencies, errors, elapsed, client, server, postgres))
    finally:
        for connection in connections:
            connection.close()
    return results


def print_latency_table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    print(f"aim: p50 <= {AIM_P50_MS:.0f} ms, p99 <= {AIM_P99_MS:.0f} ms")
    header = f"{'scenario':<26} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7}"
    header += f" {'p99 ms':>7} {'errors':>6}  aim"
    print(header)
    print("-" * len(header))
    for r in results:
        p50, p90, p99 = (r.percentile_ms(p) for p in (50, 90, 99))
        met = "met" if p50 <= AIM_P50_MS and p99 <= AIM_P99_MS else "MISSED"
        print(
            f"{r.scenario:<26} {r.requests:>8} {r.requests / r.elapsed:>8.0f} {p50:>7.1f}"
            f" {p90:>7.1f} {p99:>7.1f} {r.errors.total():>6}  {met}"
        )


def print_cpu_table(results: list[Result]) -> None:
    print("\nCPU per request (ms), same run; 2 cores are shared by all three")
    print(f"{'scenario':<26} {'app':>7} {'postgres':>9} {'client':>7}")
    for r in results:
        n = max(r.requests, 1)
        print(
            f"{r.scenario:<26} {1000 * r.server_cpu / n:>7.2f} {1000 * r.postgres_cpu / n:>9.2f}"
            f" {1000 * r.client_cpu / n:>7.2f}"
        )


# --- query plans -------------------------------------------------------------------------------


class ExplainingConnection:
    """A stand-in connection that runs EXPLAIN ANALYZE on what a storage function sends.

    The plans are of the app's own SQL, never of a copy that could drift from it.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        self.plans: list[str] = []

    async def _explain(self, query: str, args: tuple[Any, ...]) -> None:
        self.queries.append((query, args))
        rows = await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + query, *args)
        self.plans.append("\n".join(r[0] for r in rows))

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self._explain(query, args)
        return []

    async def fetchrow(self, query: str, *args: Any) -> None:
        await self._explain(query, args)

    async def fetchval(self, query: str, *args: Any) -> None:
        await self._explain(query, args)


async def print_plans(url: str, seeded: Seeded) -> None:
    """Print the plans of the group page's and the post page's queries, warm."""
    deep = seeded.top_level_ids[len(seeded.top_level_ids) // 2]
    post_id = seeded.top_level_ids[-50]
    calls: list[tuple[str, Any]] = [
        ("groups.find_group_by_slug", lambda c: group_store.find_group_by_slug(c, GROUP_SLUG)),
        (
            "posts.list_group_posts (first page)",
            lambda c: post_store.list_group_posts(c, seeded.group_id, before_id=None, limit=21),
        ),
        (
            f"posts.list_group_posts (before={deep})",
            lambda c: post_store.list_group_posts(c, seeded.group_id, before_id=deep, limit=21),
        ),
        ("posts.get_post", lambda c: post_store.get_post(c, post_id)),
        ("groups.get_group (post page)", lambda c: group_store.get_group(c, seeded.group_id)),
        ("posts.list_replies (post page)", lambda c: post_store.list_replies(c, post_id)),
        ("groups.list_groups (home)", lambda c: group_store.list_groups(c)),
        (
            "events.list_group_events (agenda, to come)",
            lambda c: event_store.list_group_events(
                c, seeded.group_id, upcoming=True, now=datetime.now(UTC), limit=20
            ),
        ),
        (
            "events.list_calendar_events (ICS feed)",
            lambda c: event_store.list_calendar_events(c, seeded.group_id, limit=1000),
        ),
    ]
    conn = await asyncpg.connect(url)
    try:
        for title, call in calls:
            spy = ExplainingConnection(conn)
            await call(spy)  # once to warm the cache ...
            spy = ExplainingConnection(conn)
            await call(spy)  # ... and once to print
            print(f"\n-- {title}")
            print(spy.plans[-1])
        await print_prepared_deep_page(conn, seeded.group_id, deep)
    finally:
        await conn.close()


async def print_prepared_deep_page(conn: Any, group_id: int, before: int) -> None:
    """Show the plan the app gets once asyncpg reuses its prepared statement (generic or not)."""
    spy = ExplainingConnection(conn)
    await post_store.list_group_posts(spy, group_id, before_id=before, limit=21)
    query, args = spy.queries[0]
    statement = await conn.prepare(query)
    timings = []
    for _ in range(10):
        t0 = time.perf_counter()
        await statement.fetch(*args)
        timings.append((time.perf_counter() - t0) * 1000)
    row = await conn.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        query,
    )
    # The plan PostgreSQL switches to when it judges a generic plan no dearer than the custom
    # ones; forced here and run, with the same (integer) arguments written in.
    values = ", ".join("NULL" if a is None else str(int(a)) for a in args)
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE bench_generic AS " + query)
    try:
        generic = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic({values})")
    finally:
        await conn.execute("DEALLOCATE bench_generic; RESET plan_cache_mode")
    print("\n-- posts.list_group_posts (deep page) as a reused prepared statement")
    counts = (
        f"generic_plans={row['generic_plans']} custom_plans={row['custom_plans']}"
        if row
        else "(statement not found in pg_prepared_statements)"
    )
    print(f"10 executions: first {timings[0]:.2f} ms, last {timings[-1]:.2f} ms; {counts}")
    print("its generic plan, forced and run:")
    print("\n".join(r[0] for r in generic))


# --- main --------------------------------------------------------------------------------------


async def measure(
    port: int, seeded: Seeded, scale: Scale, pids: tuple[int, int], log: Path
) -> list[Result]:
    """Check the pages render, then load them with 32 connections and with one."""
    rng = random.Random(2)
    deep = seeded.top_level_ids[len(seeded.top_level_ids) // 2]
    scenarios: dict[str, Callable[[], str]] = {
        "GET /groups/<slug>": lambda: f"/groups/{GROUP_SLUG}",
        "GET /groups/<slug>?before=": lambda: f"/groups/{GROUP_SLUG}?before={deep}",
        "GET /posts/<random id>": lambda: f"/posts/{rng.choice(seeded.post_ids)}",
        "GET /": lambda: "/",
        "GET /groups/<slug>/events": lambda: f"/groups/{GROUP_SLUG}/events",
        "GET /groups/<slug>/calendar.ics": lambda: f"/groups/{GROUP_SLUG}/calendar.ics",
        "GET /groups/<slug>/board": lambda: f"/groups/{GROUP_SLUG}/board",
        "GET /groups/<slug>/board?kind=&category=&area=": lambda: (
            f"/groups/{GROUP_SLUG}/board?kind={rng.choice(('need', 'offer'))}"
            f"&category={rng.choice(BOARD_CATEGORIES)}&area={quote(rng.choice(BOARD_AREAS))}"
        ),
    }
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}") as client:
        # A page that rendered the wrong thing fast would make a fine but false number.
        for path in (f"/groups/{GROUP_SLUG}", f"/groups/{GROUP_SLUG}?before={deep}"):
            page = await client.get(path)
            if page.status_code != 200 or page.text.count('class="post"') != 20:
                tail = log.read_text()[-4000:]
                raise RuntimeError(f"{path} should show 20 posts; server log:\n{tail}")
        agenda = await client.get(f"/groups/{GROUP_SLUG}/events")
        if agenda.status_code != 200 or agenda.text.count('<article class="event') != 30:
            raise RuntimeError("the agenda should show 20 events to come and 10 past ones")
        board = await client.get(f"/groups/{GROUP_SLUG}/board")
        if board.status_code != 200 or board.text.count('class="board-item"') != 30:
            raise RuntimeError("the board should show its 30 newest open items")
        feed = await client.get(f"/groups/{GROUP_SLUG}/calendar.ics")
        if feed.status_code != 200 or feed.text.count("BEGIN:VEVENT") != scale.events:
            raise RuntimeError(f"the calendar feed should hold {scale.events} events")
    loaded = await run_scenarios(
        port,
        scenarios,
        concurrency=scale.concurrency,
        warmup=scale.warmup,
        duration=scale.duration,
        max_requests=scale.max_requests,
        pids=pids,
    )
    serial = await run_scenarios(
        port,
        scenarios,
        concurrency=1,
        warmup=scale.serial_warmup,
        duration=scale.serial_duration,
        max_requests=scale.max_requests,
        pids=pids,
    )
    return loaded + serial


def run(scale: Scale, access_log: bool) -> int:
    import pgserver

    loop, http = event_loop_choice()
    print(f"python {sys.version.split()[0]}, uvicorn loop={loop} http={http}, 1 worker process")
    # Other work on this 2-core machine skews every number: say how busy it was.
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="entraide-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        with running(
            lambda: pgserver.get_server(folder / "pgdata", cleanup_mode="delete"),
            lambda postgres: postgres.cleanup(),
        ) as postgres:
            postgres.psql("CREATE DATABASE bench;")
            url: str = postgres.get_uri("bench")
            print(f"PostgreSQL started in {time.perf_counter() - t0:.1f} s")
            port = free_port()
            env = server_env(url, port, folder / "data")
            config = load_config(env)
            t0 = time.perf_counter()
            seeded = asyncio.run(seed(url, config, scale))
            print(
                f"seeded 1 group, {scale.members} members, {scale.posts} posts"
                f" ({len(seeded.top_level_ids)} top-level), {seeded.likes} likes,"
                f" {scale.events} events, {scale.board_items} board items"
                f" in {time.perf_counter() - t0:.1f} s"
            )
            log = folder / "server.log"
            with running(lambda: start_server(env, port, log, access_log), stop_child) as server:
                asyncio.run(wait_for_web(f"http://{HOST}:{port}", server, log))
                pids = (server.pid, postgres.get_pid())
                results = asyncio.run(measure(port, seeded, scale, pids, log))
            print_errors(results, log)
            loaded, serial = results[: len(results) // 2], results[len(results) // 2 :]
            print_latency_table(
                f"{scale.concurrency} connections, {scale.duration:.0f} s each"
                f" after {scale.warmup:.0f} s warm-up"
                f" (access log {'on' if access_log else 'off'})",
                loaded,
            )
            print_cpu_table(loaded)
            print_latency_table(
                f"1 connection, {scale.serial_duration:.0f} s each (service time, no queueing)",
                serial,
            )
            by_processes = measure_processes(env, folder, scale, postgres.get_pid())
            print_latency_table(
                f"entraide serve --processes N, group page, {scale.concurrency} connections",
                [dataclasses.replace(r, scenario=f"{n} process(es)") for n, r in by_processes],
            )
            asyncio.run(print_plans(url, seeded))
    report_figures(loaded, serial, scale)
    for processes, r in by_processes:
        report(
            f"group page, {scale.concurrency} connections, `serve --processes {processes}`,"
            " req/s (p50 / p99)",
            f"{r.requests / r.elapsed:.0f} ({r.percentile_ms(50):.0f} / {r.percentile_ms(99):.0f}"
            " ms)",
            "more with 2 than with 1",
        )
    failed = any(r.errors for r in results) or any(r.errors for _, r in by_processes)
    return 1 if failed else 0


PAGE_NAMES = {  # scenario -> how the table of `make bench` names it
    "GET /groups/<slug>": "group page",
    "GET /groups/<slug>?before=": "older page",
    "GET /posts/<random id>": "post page",
    "GET /": "home page",
    "GET /groups/<slug>/events": "group agenda ({events} events)",
    "GET /groups/<slug>/calendar.ics": "group ICS feed ({events} events)",
    "GET /groups/<slug>/board": "group board ({board} needs and offers)",
    "GET /groups/<slug>/board?kind=&category=&area=": "group board filtered ({board} items)",
}


def report_figures(loaded: list[Result], serial: list[Result], scale: Scale) -> None:
    """Give `make bench` its rows: each page's service time, then its rate under load."""
    full = (scale.members, scale.posts) == (FULL.members, FULL.posts)
    data = "" if full else f" ({scale.members:,} members, {scale.posts:,} posts)"

    def name(r: Result) -> str:
        return PAGE_NAMES[r.scenario].format(
            events=f"{scale.events:,}", board=f"{scale.board_items:,}"
        )

    for r in serial:
        report(
            f"{name(r)}, 1 connection, p50 / p99{data}",
            f"{r.percentile_ms(50):.1f} / {r.percentile_ms(99):.1f} ms",
            AIM,
        )
    for r in loaded:
        report(
            f"{name(r)}, {scale.concurrency} connections, req/s (p50 / p99){data}",
            f"{r.requests / r.elapsed:.0f} ({r.percentile_ms(50):.0f} / {r.percentile_ms(99):.0f}"
            " ms)",
            AIM,
        )


def print_errors(results: list[Result], log: Path) -> None:
    """Name the failed requests and show the server's last traceback, if any."""
    failed = [r for r in results if r.errors]
    if not failed:
        return
    print("\nERRORS")
    for r in failed:
        print(f"  {r.scenario}: {dict(r.errors)}")
    text = log.read_text(errors="replace")
    last = text.rfind("Traceback")
    if last >= 0:
        print("last traceback in the server log:")
        print(text[last : last + 4000])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller data set, shorter runs")
    parser.add_argument(
        "--no-access-log", action="store_true", help="serve without uvicorn's access log"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent connections of the load (32)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--loop", default="asyncio", help=argparse.SUPPRESS)
    parser.add_argument("--http", default="h11", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.loop, args.http, not args.no_access_log)
        return 0
    # pgserver finds its runtime folder through platformdirs, which warns without XDG_RUNTIME_DIR.
    warnings.filterwarnings("ignore", module="platformdirs")
    install_stop_signals()
    # Ctrl-C stops the run even when started from a shell that ignores SIGINT (background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        scale = dataclasses.replace(QUICK if args.quick else FULL, concurrency=args.connections)
        return run(scale, access_log=not args.no_access_log)
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted: server and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
