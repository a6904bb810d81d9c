"""A mobilization relayed by 10 allied groups to 10,000 follower inboxes, and 5,000 signatures
in a minute.

Same harness as bench/fanout.py (its seeding helpers, its `entraide worker` processes, loopback
peers from _common): a throwaway PostgreSQL, 200 loopback hosts answering 202. Three runs, with
the workers as shipped:
1. an ordinary post to a group of 10,000 followers (the plain fan-out);
2. a mobilization of a group whose 10 allies (1,000 followers each, 10,000 in all) relay it;
3. the same mobilization published while the workers go through a queue of 10,000 ordinary
   deliveries (published once 5 % of them are done).
Times are from the publication to the last success recorded in the database (within ~50 ms of
the peer's 202). Then 5,000 signatures arrive over a minute (votes counted by the service the
inbox worker calls) on a petition of a group with 200 follower instances: all must be counted,
and the count Updates must be at most one per 10 s.
Last, the size of a national mobilization: a mobilization whose 10 allies reach 100,000 follower
inboxes in all, timed next to the signing floor measured in the same run (one RSA signature per
inbox, on every core: what no delivery code can beat), with the memory of the worker processes
and of PostgreSQL before the publication and after its last delivery.
Run: `.venv/bin/python bench/mobilize.py [--quick] [--national N]` (--quick: 2,000 inboxes,
1,000 signatures over 12 s, 20,000 national inboxes; --national 0 leaves that run out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import _common
import fanout

from server.config import Config
from server.db import Pool, create_pool
from server.keys import generate_key_pair
from server.models import Account, Group
from server.services import mobilizations, petitions
from server.services.actors import get_actor
from server.services.groups import create_group
from server.services.posts import create_post

ALLIES = 10
HOSTS = fanout.HOSTS
PEERS = fanout.PEERS
SIGNING_SECONDS = 60.0
MOBILIZATION = {
    "what": "Rassemblement contre l'expulsion",
    "place": "12 rue des Lilas",
    "starts_at": "2099-06-01T08:00",
    "urgency": "critical",
}


async def allied(
    pool: Pool, config: Config, owner: Account, slug: str, name: str
) -> tuple[Group, list[Group]]:
    """An origin group and its 10 allies, each alliance proposed and accepted."""
    origin = await create_group(pool, config, owner, slug=slug, name=name)
    allies = [
        await create_group(pool, config, owner, slug=f"{slug}{k}", name=f"{name} {k}")
        for k in range(ALLIES)
    ]
    for ally in allies:
        await mobilizations.propose_alliance(pool, config, origin, owner, ally.slug)
        await mobilizations.accept_alliance(pool, ally, owner, origin.id)
    return origin, allies


async def seed(
    pool: Pool, config: Config, peers: _common.Peers, inboxes: int, national: int
) -> tuple[Account, Group, Group, list[Group], Group, Group]:
    """A plain group of `inboxes` followers; an origin whose 10 allies share as many; a petition
    group followed from 200 instances; a national origin whose 10 allies share `national`
    followers. Followers are bulk-copied, as in fanout.py."""
    owner = await _common.migrate_and_create_owner(pool, config)
    plain = await create_group(pool, config, owner, slug="plain", name="Plain fan-out")
    origin, allies = await allied(pool, config, owner, "ally", "Ally")
    campaign = await create_group(pool, config, owner, slug="campaign", name="Campaign")
    nation, nation_allies = await allied(pool, config, owner, "nation", "Nation")
    per_ally, per_nation_ally = inboxes // ALLIES, national // ALLIES
    async with pool.acquire() as conn, conn.transaction():
        pem = await conn.fetchval("SELECT public_key_pem FROM actors WHERE id = $1", owner.id)
        await _common.copy_remote_actors(
            conn, 2 * inboxes + national, lambda i: peers.host(i % HOSTS), pem,
            own_shared_inboxes=True,
        )  # fmt: skip
        follows = [(plain.id, 0, inboxes), (campaign.id, 0, HOSTS)]
        follows += [(a.id, inboxes + k * per_ally, per_ally) for k, a in enumerate(allies)]
        follows += [
            (a.id, 2 * inboxes + k * per_nation_ally, per_nation_ally)
            for k, a in enumerate(nation_allies)
        ]
        for group_id, offset, count in follows:
            await conn.execute(
                """
                INSERT INTO follows (follower_id, target_id, uri, state)
                SELECT id, $1::bigint, uri || '/follows/' || $1::text, 'accepted'
                FROM (SELECT id, uri FROM actors WHERE domain IS NOT NULL
                      ORDER BY id OFFSET $2 LIMIT $3) a
                """,
                group_id,
                offset,
                count,
            )
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE")
    return owner, plain, origin, allies, campaign, nation


async def delivered(pool: Pool, column: str, value: int) -> int:
    """Return the successes recorded for the activities of a post or a mobilization."""
    assert column in ("post_id", "mobilization_id")
    count: int = await pool.fetchval(
        f"SELECT coalesce(sum(delivered), 0) FROM outbox_activities WHERE {column} = $1", value
    )
    return count


async def wait_delivered(
    pool: Pool, column: str, value: int, target: int, t0: float, seconds: float = 180
) -> float:
    deadline = t0 + seconds
    while await delivered(pool, column, value) < target and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return time.monotonic() - t0 if await delivered(pool, column, value) >= target else float("inf")


@contextlib.asynccontextmanager
async def shipped_workers(bench: fanout.Bench) -> AsyncIterator[list[Any]]:
    """Run the workers as shipped (`entraide worker`) for one run; stopped even on Ctrl-C."""
    bench.runs += 1
    workers = fanout.start_workers(bench, fanout.SHIPPED, bench.runs)
    try:
        await fanout.wait_for_locks(bench.pool, fanout.SHIPPED.processes)
        yield workers
    finally:
        fanout.stop_workers(workers)


async def clear_queue(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM deliveries; DELETE FROM hosts; DELETE FROM jobs")


async def measure(bench: fanout.Bench, inboxes: int, groups: Any) -> dict[str, float]:
    owner, plain, origin, _allies, _campaign, _nation = groups
    pool, config, figures = bench.pool, bench.config, {}
    # 1. The plain fan-out.
    async with shipped_workers(bench):
        t0 = time.monotonic()
        post = await create_post(pool, config, plain, owner, content="Ordinary post")
        figures["plain"] = await wait_delivered(pool, "post_id", post.id, inboxes, t0)
    await clear_queue(pool)
    # 2. The mobilization through 10 allies.
    async with shipped_workers(bench):
        t0 = time.monotonic()
        first = await mobilizations.publish_mobilization(
            pool, config, origin, owner, **MOBILIZATION
        )
        figures["mobilization"] = await wait_delivered(
            pool, "mobilization_id", first.id, inboxes, t0
        )
    await clear_queue(pool)
    # 3. Behind a queue of 10,000 ordinary deliveries (the post's Announce, queued again).
    async with pool.acquire() as conn:
        announce = await conn.fetchval(
            "SELECT id FROM outbox_activities WHERE post_id = $1 AND type = 'Announce'", post.id
        )
        await conn.execute("UPDATE outbox_activities SET delivered = 0 WHERE id = $1", announce)
        await conn.execute(
            """
            INSERT INTO deliveries (activity_id, inbox, host)
            SELECT $1, coalesce(a.shared_inbox, a.inbox), a.domain
            FROM follows f JOIN actors a ON a.id = f.follower_id WHERE f.target_id = $2
            """,
            announce,
            plain.id,
        )
    async with shipped_workers(bench):
        t_queue = time.monotonic()
        # The queue is being worked when the call goes out, as on a busy instance.
        while await delivered(pool, "post_id", post.id) < inboxes // 20:
            await asyncio.sleep(0.01)
        figures["queue_done_before"] = await delivered(pool, "post_id", post.id)
        t0 = time.monotonic()
        second = await mobilizations.publish_mobilization(
            pool, config, origin, owner, **MOBILIZATION
        )
        figures["behind"] = await wait_delivered(pool, "mobilization_id", second.id, inboxes, t0)
        figures["queue_done_then"] = await delivered(pool, "post_id", post.id)
        figures["queue"] = await wait_delivered(pool, "post_id", post.id, inboxes, t0)
        figures["queue_total"] = time.monotonic() - t_queue
    await clear_queue(pool)
    return figures


async def sign(
    bench: fanout.Bench, groups: Any, signatures: int, seconds: float
) -> dict[str, float]:
    """Votes from `signatures` remote people spread over `seconds`; count them and the Updates."""
    owner, _plain, _origin, _allies, campaign, _nation = groups
    pool, config = bench.pool, bench.config
    petition = await petitions.create_petition(
        pool, config, campaign, owner, title="Un local chauffé", body="…",
        addressee="Mairie", goal="5000",
    )  # fmt: skip
    async with pool.acquire() as conn:
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM actors WHERE domain IS NOT NULL ORDER BY id LIMIT $1", signatures
        )]  # fmt: skip
        # Signers' servers share one inbox per host, as Mastodon's do (the national run's
        # followers keep an inbox each).
        await conn.execute(
            "UPDATE actors SET shared_inbox = 'http://' || domain || '/inbox'"
            " WHERE id = ANY($1::bigint[])",
            ids,
        )
    voters = [await get_actor(pool, i) for i in ids]
    async with shipped_workers(bench):
        t0 = time.monotonic()
        gap = seconds / signatures
        for n, voter in enumerate(voters):
            await asyncio.sleep(max(0.0, t0 + n * gap - time.monotonic()))
            await petitions.receive_vote(
                pool, petition.id, voter, option=petition.option_name,
                vote_uri=f"{voter.uri}#votes/{n}", public=False,
            )  # fmt: skip
        elapsed = time.monotonic() - t0
        await asyncio.sleep(petitions.COUNT_UPDATE_SECONDS + 2)  # the last batched Update
    async with pool.acquire() as conn:
        counted = await conn.fetchval(
            "SELECT count(*) FROM petition_signatures WHERE petition_id = $1", petition.id
        )
        stamps = [r["created_at"] for r in await conn.fetch(
            "SELECT created_at FROM outbox_activities WHERE type = 'Update'"
            " AND payload->'object'->>'id' LIKE '%/petitions/' || $1 ORDER BY id",
            str(petition.id),
        )]  # fmt: skip
    most = max(
        (sum(1 for t in stamps if 0 <= (t - s).total_seconds() < 10) for s in stamps), default=0
    )
    return {"counted": counted, "elapsed": elapsed, "updates": len(stamps), "per10s": most}


def memory(bench: fanout.Bench, workers: list[Any]) -> dict[str, float]:
    """Return the workers' resident memory and PostgreSQL's PSS and private memory, in MB."""
    worker = sum(_common.tree_rss_mb(w.pid)[0] for w in workers)
    pss, private, _backends = _common.postgres_memory_mb(bench.postgres_pid)
    return {"worker": worker, "pg_pss": pss, "pg_private": private}


async def national_run(bench: fanout.Bench, groups: Any, inboxes: int) -> dict[str, Any]:
    """The national mobilization: its time to the last of `inboxes`, next to the signing floor.

    The floor is `inboxes` signatures at the cost of one (measured here, in this process, with
    an RSA key of the size the groups use) spread over every core: the time the signatures alone
    would take if the machine did nothing else, not the peers' work nor PostgreSQL's."""
    owner, nation = groups[0], groups[5]
    pool, config = bench.pool, bench.config
    private_pem, _public = generate_key_pair()
    sign_seconds = fanout.measure_signing(private_pem, 1_000)
    floor = inboxes * sign_seconds / fanout.CPUS
    async with shipped_workers(bench) as workers:
        before = memory(bench, workers)
        t0 = time.monotonic()
        call = await mobilizations.publish_mobilization(pool, config, nation, owner, **MOBILIZATION)
        seconds = await wait_delivered(
            pool, "mobilization_id", call.id, inboxes, t0, max(180.0, 60 * floor)
        )
        after = memory(bench, workers)
    async with pool.acquire() as conn:
        failed = await conn.fetchval(
            "SELECT count(*) FROM deliveries d JOIN outbox_activities a ON a.id = d.activity_id"
            " WHERE a.mobilization_id = $1",
            call.id,
        )
    await clear_queue(pool)
    return {"seconds": seconds, "floor": floor, "sign": sign_seconds, "before": before,
            "after": after, "left": failed}  # fmt: skip


def print_national(inboxes: int, run: dict[str, Any]) -> None:
    before, after = run["before"], run["after"]
    ratio = run["seconds"] / run["floor"]
    print(f"\nnational mobilization: {inboxes:,} inboxes through {ALLIES} allies")
    print(f"  last delivery                                {run['seconds']:6.2f} s")
    print(
        f"  signing floor ({inboxes:,} x {run['sign'] * 1000:.3f} ms / {fanout.CPUS} cores)"
        f"   {run['floor']:6.2f} s ({ratio:.2f}x)"
    )
    print(f"  deliveries still queued at the end           {run['left']}")
    for name, label in (("worker", "workers (RSS)"), ("pg_pss", "PostgreSQL (PSS)"),
                        ("pg_private", "PostgreSQL (private)")):  # fmt: skip
        print(f"  memory, {label:<22} {before[name]:7.1f} MB -> {after[name]:7.1f} MB")
    _common.report(
        f"national mobilization via {ALLIES} allies, {inboxes:,} inboxes, last delivery",
        f"{run['seconds']:.1f} s ({ratio:.2f}x the signing floor of {run['floor']:.1f} s"
        f" measured in the same run)",
        "≤ 1.3x the signing floor",
    )
    _common.report(
        f"national mobilization, memory before → after ({inboxes:,} inboxes)",
        f"workers {before['worker']:.0f} → {after['worker']:.0f} MB RSS; PostgreSQL"
        f" {before['pg_pss']:.0f} → {after['pg_pss']:.0f} MB PSS"
        f" ({before['pg_private']:.0f} → {after['pg_private']:.0f} MB private)",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--peer"]:
        return _common.peer_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 inboxes, 1,000 signatures")
    parser.add_argument("--national", type=int, help="inboxes of the national run (0: none)")
    args = parser.parse_args(argv)
    _common.install_stop_signals()
    inboxes, signatures, seconds = (2_000, 1_000, 12.0) if args.quick else (10_000, 5_000, 60.0)
    national = args.national if args.national is not None else 100_000 // (5 if args.quick else 1)
    print(f"python {sys.version.split()[0]}, {fanout.CPUS} cores; load {os.getloadavg()[0]:.2f}")
    try:
        with tempfile.TemporaryDirectory(prefix="entraide-mobilize-") as tmp:
            folder = Path(tmp)
            with _common.embedded_postgres(folder) as (postgres, url):
                peers = _common.Peers(__file__, folder, HOSTS, PEERS, None)
                with _common.running(peers.start, lambda p: p.stop()):

                    async def run() -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
                        base = f"http://127.0.0.1:{_common.free_port()}"
                        config = _common.bench_config(url, base, folder / "data")
                        pool = await create_pool(url)
                        try:
                            groups = await seed(pool, config, peers, inboxes, national)
                            bench = fanout.Bench(
                                __file__, folder, url, config, pool, peers,
                                fanout.Seeded(groups[0], {}), postgres.get_pid(),
                            )  # fmt: skip
                            times = await measure(bench, inboxes, groups)
                            votes = await sign(bench, groups, signatures, seconds)
                            nation = await national_run(bench, groups, national) if national else {}
                        finally:
                            await pool.close()
                        return times, votes, nation

                    times, votes, nation = asyncio.run(run())
    except (KeyboardInterrupt, _common.Interrupted):
        print("\ninterrupted: workers, peers and PostgreSQL stopped", file=sys.stderr)
        return 130
    print(f"\n{inboxes:,} inboxes; times from publication to the last success recorded")
    print(f"  (load average at the end: {os.getloadavg()[0]:.2f} on {fanout.CPUS} cores)")
    print(f"  plain fan-out (one post)                     {times['plain']:6.2f} s")
    print(f"  mobilization through {ALLIES} allies               {times['mobilization']:6.2f} s")
    print(
        f"  mobilization behind {inboxes:,} queued deliveries {times['behind']:6.2f} s"
        f" (published when {int(times['queue_done_before']):,} were done; by its last delivery"
        f" {int(times['queue_done_then']):,}; the queue's last after {times['queue']:.2f} s)"
    )
    print(
        f"{signatures:,} signatures over {votes['elapsed']:.0f} s:"
        f" {int(votes['counted']):,} counted;"
        f" {int(votes['updates'])} count Updates, at most {int(votes['per10s'])} in any 10 s"
    )
    ratio = times["mobilization"] / times["plain"] if times["plain"] else float("nan")
    _common.report(
        f"mobilization via {ALLIES} allies, {inboxes:,} inboxes, last delivery",
        f"{times['mobilization']:.1f} s ({ratio:.2f}x the plain fan-out's {times['plain']:.1f} s)",
        "≤ 1x plain fan-out",
    )
    _common.report(
        f"mobilization behind {inboxes:,} queued deliveries, last delivery",
        f"{times['behind']:.1f} s (queue done {times['queue']:.1f} s)",
        "before the queue",
    )
    _common.report(
        f"{signatures:,} signatures in {votes['elapsed']:.0f} s",
        f"{int(votes['counted']):,} counted, ≤ {int(votes['per10s'])} Update per 10 s",
        "all counted, ≤ 1 per 10 s",
    )
    if nation:
        print_national(national, nation)
    ok = votes["counted"] == signatures and votes["per10s"] <= 1
    ok = ok and (not nation or nation["seconds"] < float("inf"))
    return 0 if ok and times["behind"] < times["queue"] else 1


if __name__ == "__main__":
    sys.exit(main())
