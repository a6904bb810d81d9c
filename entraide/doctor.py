"""`entraide doctor`: checks an instance the way an operator would, and says what to do."""

from __future__ import annotations

import email.utils
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from server import migrate
from server.config import Config
from server.db import Pool
from server.services import actors, queue

MAX_CLOCK_SKEW = timedelta(minutes=5)  # Mastodon refuses signatures an hour off; warn far sooner
STUCK_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    advice: str = ""

    def line(self) -> str:
        status = "ok     " if self.ok else "problem"
        text = f"{status}  {self.name}: {self.detail}"
        return text if self.ok or not self.advice else f"{text}\n         → {self.advice}"


def _hours(delta: timedelta | None) -> str:
    if delta is None:
        return "none"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


async def check_database(db: Pool) -> list[Check]:
    version, db_now = await queue.get_database_facts(db)
    checks = [
        Check(
            "database",
            version >= 140000,
            f"PostgreSQL {version // 10000}.{version % 100}",
            "Entraide needs PostgreSQL 14 or later: upgrade the database server.",
        )
    ]
    async with db.acquire() as conn:
        pending = await migrate.list_pending(conn)
    checks.append(
        Check(
            "migrations",
            not pending,
            "up to date" if not pending else f"{len(pending)} pending: {', '.join(pending)}",
            "Run `entraide migrate`, then restart the web processes and workers.",
        )
    )
    skew = abs(datetime.now(UTC) - db_now)
    checks.append(
        Check(
            "clock (database)",
            skew < MAX_CLOCK_SKEW,
            f"{int(skew.total_seconds())} s apart from this machine",
            "Synchronise the clocks (systemd-timesyncd or chrony) on both machines.",
        )
    )
    return checks


async def check_queue(db: Pool) -> list[Check]:
    state = await queue.get_queue_state(db)
    stuck = state.oldest_delivery_age is not None and state.oldest_delivery_age > STUCK_AFTER
    stuck_jobs = state.oldest_job_age is not None and state.oldest_job_age > STUCK_AFTER
    return [
        Check(
            "jobs",
            not stuck_jobs,
            f"{state.jobs} waiting ({state.jobs_failing} failing), "
            f"oldest {_hours(state.oldest_job_age)}",
            "Jobs are not being processed: is `entraide worker` (or `serve` without "
            "--no-worker) running? See its log.",
        ),
        Check(
            "deliveries",
            not stuck,
            f"{state.deliveries} waiting ({state.deliveries_failing} failing), "
            f"oldest {_hours(state.oldest_delivery_age)}; "
            f"{state.unavailable_hosts} host(s) unavailable",
            "Deliveries are stuck: check that a worker runs, that this machine reaches the "
            "internet, and the failing hosts on /admin/queue.",
        ),
    ]


async def check_workers(db: Pool) -> list[Check]:
    """Check that a worker holds a live lease: without one, nothing is delivered."""
    count = await queue.count_live_workers(db)
    return [
        Check(
            "workers",
            count > 0,
            f"{count} worker(s) holding a live lease"
            if count
            else "no worker is running: jobs and deliveries wait",
            "Start `entraide worker` (systemd: `systemctl start entraide-worker`), or "
            "`entraide serve` without --no-worker; if it stops, its log says why.",
        )
    ]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and everything that caused it, exception groups included."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def unreachable_reason(exc: httpx.HTTPError, url: str) -> tuple[str, str]:
    """Return why `url` could not be reached, and what to do, from httpx's exception."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"certificate not trusted ({cause.verify_message or cause.reason})",
                "The proxy's certificate is self-signed, expired or for another name: let "
                "Caddy or certbot get one from a public authority (see docs/deploy.md).",
            )
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return (
                f"the name {parts.hostname} does not resolve ({cause.strerror})",
                f"Add a DNS A/AAAA record for {parts.hostname} pointing at this server, "
                "or wait for it to propagate.",
            )
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"connection refused on port {port}",
                "Nothing listens there: start the proxy (Caddy, nginx) and open the port "
                "in the firewall.",
            )
        if isinstance(cause, ssl.SSLError):
            return (
                f"TLS failed ({cause.reason or cause})",
                "Check the proxy's TLS configuration and certificate.",
            )
    if isinstance(exc, httpx.TimeoutException):
        return (
            "no answer within 10 s",
            "A firewall may drop the packets, or the proxy's upstream is down.",
        )
    return (
        f"{type(exc).__name__}: {exc}"[:200],
        "Check DNS for the domain, the proxy, its certificate, and that "
        "`entraide serve` runs behind it.",
    )


async def check_public_url(config: Config, public_key_pem: str | None) -> list[Check]:
    """Fetch our own NodeInfo and instance actor through the public URL, as peers will."""
    url = f"{config.base_url}/nodeinfo/2.0"
    hostname = urlsplit(config.base_url).hostname or ""
    local = hostname in ("localhost", "::1") or hostname.startswith("127.")
    checks = [
        Check(
            "public URL scheme",
            config.secure or local,
            config.base_url,
            "The fediverse federates over HTTPS only: set ENTRAIDE_URL to https://… and put "
            "a TLS proxy (Caddy, nginx) in front.",
        )
    ]
    try:
        async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
            response = await client.get(url)
            actor = await client.get(
                f"{config.base_url}/actor", headers={"Accept": "application/activity+json"}
            )
    except httpx.HTTPError as exc:
        reason, advice = unreachable_reason(exc, url)
        checks.append(Check("public URL answers", False, f"{url}: {reason}", advice))
        return checks
    software = ""
    if response.status_code == 200:
        try:
            software = str(response.json().get("software", {}).get("name", ""))
        except ValueError:
            software = ""
    checks.append(
        Check(
            "public URL answers",
            response.status_code == 200 and software == "entraide",
            f"{url} → HTTP {response.status_code}" + (f", software {software}" if software else ""),
            "The public URL does not reach this instance: check the proxy's upstream and "
            "that the Host header is passed unchanged.",
        )
    )
    if public_key_pem is not None and actor.status_code == 200:
        try:
            served = actor.json().get("publicKey", {}).get("publicKeyPem")
        except ValueError:
            served = None
        checks.append(
            Check(
                "public URL is this instance",
                served == public_key_pem,
                "its instance actor has this database's key"
                if served == public_key_pem
                else "another instance answers at this URL",
                "The proxy sends the public URL to another instance or database: check "
                "DATABASE_URL and the proxy's upstream.",
            )
        )
    date = response.headers.get("date")
    if date:
        skew = abs(datetime.now(UTC) - email.utils.parsedate_to_datetime(date))
        checks.append(
            Check(
                "clock (public URL)",
                skew < MAX_CLOCK_SKEW,
                f"{int(skew.total_seconds())} s apart from this machine",
                "Peers refuse signatures dated more than an hour off: synchronise the clock.",
            )
        )
    return checks


async def run_checks(db: Pool | None, config: Config, database_error: str | None) -> list[Check]:
    """Run every check; a database that cannot be reached is one problem among others."""
    checks = [Check("configuration", True, f"{config.base_url}, data in {config.data_dir}")]
    if db is None:
        checks.append(
            Check(
                "database",
                False,
                database_error or "unreachable",
                "Check DATABASE_URL, that PostgreSQL runs and accepts this machine.",
            )
        )
    else:
        database_checks = await check_database(db)
        checks += database_checks
        migrated = all(c.ok for c in database_checks if c.name == "migrations")
    key = None
    if db is not None and migrated:
        # The queue and the instance actor live in tables an old schema may lack.
        checks += await check_queue(db)
        checks += await check_workers(db)
        key = (await actors.ensure_instance_actor(db)).public_key_pem
    checks += await check_public_url(config, key)
    return checks
