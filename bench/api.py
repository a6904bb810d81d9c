"""The client API's home timeline: a person in 20 groups holding 10,000 posts, read by an app.

Starts a throwaway embedded PostgreSQL, seeds 20 groups (the reader a member of each) and
10,000 posts among them, gives the reader an OAuth token through the OAuth service, serves the
app with `entraide serve` on 127.0.0.1, then GETs /api/v1/timelines/home (20 statuses, first
page and older pages by max_id) with the bearer token: latency at one connection (service time),
requests per second at 32. Run: `.venv/bin/python bench/api.py [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from _common import (
    Interrupted,
    KeepAliveConnection,
    bench_config,
    embedded_postgres,
    free_port,
    install_stop_signals,
    migrate_and_create_owner,
    percentile_ms,
    process_tree_cpu,
    report,
    running,
    start_child,
    stop_child,
    wait_for_web,
)

from server.config import Config
from server.db import Pool, create_pool
from server.models import Account
from server.services import accounts, oauth
from server.services.groups import create_group
from server.storage import groups as group_store

HOST = "127.0.0.1"  # the only address this script sends traffic to
GROUPS = 20
AIM_P50_MS = 15.0
REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
TOKENS = 60


async def _token(pool: Pool, reader: Account) -> str:
    registered = await oauth.register_app(
        pool, name="bench", redirect_uris=REDIRECT, scopes="read", website=""
    )
    request = await oauth.check_authorization_request(
        pool, client_id=registered.app.client_id, redirect_uri=REDIRECT,
        response_type="code", scope="read",
    )  # fmt: skip
    code = await oauth.authorize(pool, request, reader)
    issued = await oauth.exchange_code(
        pool, client_id=registered.app.client_id, client_secret=registered.client_secret,
        code=code, redirect_uri=REDIRECT, code_verifier=None,
    )  # fmt: skip
    return issued.token


async def seed(url: str, config: Config, posts: int) -> tuple[list[str], list[int]]:
    """Seed the groups and posts; return the reader's tokens and the post ids."""
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        owner = await migrate_and_create_owner(pool, config)
        reader = await accounts.register_account(
            pool, config, username="reader", email="reader@bench.invalid",
            password="bench-password-not-secret", by_operator=True,
        )  # fmt: skip
        group_ids = []
        for n in range(GROUPS):
            group = await create_group(pool, config, owner, slug=f"group{n}", name=f"Group {n}")
            async with pool.acquire() as conn:
                await group_store.insert_membership(conn, group.id, reader.id, role="member",
                                                    state="active")  # fmt: skip
            group_ids.append(group.id)
        async with pool.acquire() as conn:
            # Posts spread over the groups, a tenth of them replies, as in lively groups.
            rows = await conn.fetch(
                """
                INSERT INTO posts (group_id, author_id, content, content_html, created_at)
                SELECT ($1::bigint[])[1 + n % $3], $2, 'Post ' || n, '<p>Post ' || n || '</p>',
                       now() - make_interval(mins => $4 - n)
                FROM generate_series(1, $4) AS n
                RETURNING id
                """,
                group_ids, owner.id, GROUPS, posts,
            )  # fmt: skip
            ids = [r["id"] for r in rows]
            await conn.execute(
                """
                UPDATE posts SET in_reply_to_id = id - 1 WHERE id % 10 = 0 AND id > $1
                """,
                ids[0],
            )
            await conn.execute("ANALYZE")
        # Mastodon's limit is 300 requests per 5 minutes per token: the load is spread over
        # enough tokens (one app each, as many devices of one person) to stay under it.
        tokens = [await _token(pool, reader) for _ in range(TOKENS)]
        return tokens, ids
    finally:
        await pool.close()


def request_bytes(port: int, token: str, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


async def drive(
    port: int, tokens: list[str], ids: list[int], *, connections: int, seconds: float
) -> tuple[list[float], Counter[str], float]:
    """GET home pages (the first page, or an older one by max_id) in a loop on each connection."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds
    pool = [KeepAliveConnection(port) for _ in range(connections)]
    sent = 0

    async def loop(connection: KeepAliveConnection) -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            sent += 1
            token = tokens[sent % len(tokens)]
            # Half first pages, half older pages somewhere in the history (scrolling down).
            path = "/api/v1/timelines/home"
            if random.random() < 0.5:
                path += f"?max_id={random.choice(ids)}"
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(
                    connection.send(request_bytes(port, token, path)), 30
                )
                if status != 200:
                    errors[f"HTTP {status}"] += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                errors[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(loop(c) for c in pool))
    finally:
        for connection in pool:
            connection.close()
    return latencies, errors, time.perf_counter() - t0


def run(posts: int, seconds: float, warmup: float) -> int:
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="entraide-bench-api-") as tmp:
        folder = Path(tmp)
        with embedded_postgres(folder) as (postgres, url):
            port = free_port()
            config = bench_config(url, f"http://{HOST}:{port}", folder / "data")
            t0 = time.perf_counter()
            tokens, ids = asyncio.run(seed(url, config, posts))
            print(f"seeded {GROUPS} groups, {posts} posts in {time.perf_counter() - t0:.1f} s")
            env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRAIDE_")}
            env |= {"DATABASE_URL": url, "ENTRAIDE_URL": config.base_url,
                    "ENTRAIDE_DATA_DIR": str(folder / "data"),
                    "ENTRAIDE_SECRET_KEY": config.secret_key}  # fmt: skip
            command = [sys.executable, "-m", "entraide", "serve", "--host", HOST,
                       "--port", str(port)]  # fmt: skip
            log = folder / "server.log"
            with running(lambda: start_child(command, log, env), stop_child) as server:
                asyncio.run(wait_for_web(config.base_url, server, log))
                asyncio.run(drive(port, tokens, ids, connections=1, seconds=warmup))
                serial, serial_errors, _ = asyncio.run(
                    drive(port, tokens, ids, connections=1, seconds=seconds)
                )
                # CPU per request, which the other load on a shared machine does not change.
                cpu_before = process_tree_cpu(server.pid), process_tree_cpu(postgres.get_pid())
                loaded, loaded_errors, elapsed = asyncio.run(
                    drive(port, tokens, ids, connections=32, seconds=seconds)
                )
                app_cpu = (process_tree_cpu(server.pid) - cpu_before[0]) / len(loaded) * 1000
                db_cpu = (process_tree_cpu(postgres.get_pid()) - cpu_before[1]) / len(loaded) * 1000
    p50, p99 = percentile_ms(serial, 50), percentile_ms(serial, 99)
    rate = len(loaded) / elapsed
    print(f"1 connection: {len(serial)} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    loaded_p50, loaded_p99 = percentile_ms(loaded, 50), percentile_ms(loaded, 99)
    print(f"32 connections: {len(loaded)} requests, {rate:.0f} req/s,"
          f" p50 {loaded_p50:.1f} ms, p99 {loaded_p99:.1f} ms")  # fmt: skip
    print(f"CPU per request: app {app_cpu:.1f} ms, PostgreSQL {db_cpu:.1f} ms")
    errors = serial_errors + loaded_errors
    if errors:
        print(f"errors: {dict(errors)}")
    report(
        f"API home timeline ({GROUPS} groups, {posts:,} posts), 1 connection",
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        f"p50 ≤ {AIM_P50_MS:.0f} ms",
    )
    report(f"API home timeline ({GROUPS} groups, {posts:,} posts), 32 connections",
           f"{rate:.0f} req/s; CPU per request: app {app_cpu:.1f} ms,"
           f" PostgreSQL {db_cpu:.1f} ms")  # fmt: skip
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller data set, shorter runs")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="platformdirs")
    install_stop_signals()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.quick:
            return run(posts=2_000, seconds=3, warmup=1)
        return run(posts=10_000, seconds=15, warmup=3)
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted: server and PostgreSQL stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
