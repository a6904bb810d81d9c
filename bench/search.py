"""Search speed: a two-word query over 100,000 posts, at one connection.

Starts a throwaway embedded PostgreSQL, seeds one public and one members-only group with
100,000 posts of French and English sentences, then runs the search service's queries (posts,
events, groups and people: what one search page asks) for two-word queries, one at a time, and
prints p50 / p99. Run: `.venv/bin/python bench/search.py [--quick]` (10,000 posts).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    bench_config,
    embedded_postgres,
    install_stop_signals,
    migrate_and_create_owner,
    percentile_ms,
    report,
)

from server.config import Config
from server.db import Pool, create_pool
from server.services import search
from server.services.groups import create_group

WORDS = [
    "vélo",
    "réparation",
    "samedi",
    "épicerie",
    "solidaire",
    "loyer",
    "charges",
    "réunion",
    "voisins",
    "jardin",
    "tomates",
    "covoiturage",
    "marché",
    "aidante",
    "répit",
    "logement",
    "collectif",
    "cantine",
    "école",
    "bike",
    "repair",
    "meeting",
    "rent",
    "garden",
    "neighbours",
    "kitchen",
    "food",
    "bank",
    "ride",
    "childcare",
    "shelter",
    "winter",
    "coats",
    "library",
]
QUERIES = ("vélo samedi", "loyer charges", "garden tomates", "food bank", "réunion voisins")
AIM = "≤ 20 ms / ≤ 80 ms"


async def seed(pool: Pool, config: Config, posts: int) -> None:
    owner = await migrate_and_create_owner(pool, config)
    public = await create_group(pool, config, owner, slug="quartier", name="Quartier")
    private = await create_group(
        pool, config, owner, slug="cercle", name="Cercle", visibility="members"
    )
    rng = random.Random(15)
    # Words fall as in real text (Zipf): a few very common, most rare. The words searched for
    # sit among the first few hundred, as "vélo" or "loyer" would in a collective's posts.
    vocabulary = [f"mot{n}" for n in range(20_000)]
    for rank, word in zip(range(40, 40 + 12 * len(WORDS), 12), WORDS, strict=True):
        vocabulary[rank] = word
    # Cumulated once: choices() would add up 20,000 weights again for every post.
    cumulated = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    rows = []
    for i in range(posts):
        text = " ".join(rng.choices(vocabulary, cum_weights=cumulated, k=rng.randint(8, 40)))
        group = public.id if i % 5 else private.id
        rows.append((group, owner.id, text, f"<p>{text}</p>"))
    async with pool.acquire() as conn:
        # In batches: each COPY stays within the pool's command timeout.
        for start in range(0, len(rows), 5_000):
            await conn.copy_records_to_table(
                "posts",
                records=rows[start : start + 5_000],
                columns=["group_id", "author_id", "content", "content_html"],
            )
        await conn.execute("ANALYZE posts")


async def measure(url: str, config: Config, posts: int, rounds: int) -> None:
    pool = await create_pool(url)
    try:
        started = time.perf_counter()
        await seed(pool, config, posts)
        print(f"seeded {posts:,} posts in {time.perf_counter() - started:.1f} s")
        host = "127.0.0.1:8000"
        for query in QUERIES:  # warm the caches
            await search.search(pool, None, query, host)
        timings = []
        for i in range(rounds):
            query = QUERIES[i % len(QUERIES)]
            start = time.perf_counter()
            await search.search(pool, None, query, host)
            timings.append(time.perf_counter() - start)
        p50, p99 = percentile_ms(timings, 50), percentile_ms(timings, 99)
        print(f"{rounds} two-word searches at one connection: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        report(f"search, {posts:,} posts, two words (p50 / p99)", f"{p50:.1f} / {p99:.1f} ms", AIM)
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 posts, fewer rounds")
    args = parser.parse_args()
    install_stop_signals()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    posts, rounds = (10_000, 100) if args.quick else (100_000, 500)
    with (
        tempfile.TemporaryDirectory(prefix="entraide-bench-search-") as folder,
        embedded_postgres(Path(folder)) as (_postgres, url),
    ):
        config = bench_config(url, "http://127.0.0.1:8000", Path(folder) / "data")
        asyncio.run(measure(url, config, posts, rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
