"""`entraide doctor` against a healthy instance and broken ones."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from entraide.doctor import check_public_url, check_workers
from server.config import Config, parse_base_url
from server.db import Pool
from server.leases import WorkerLease
from tests.conftest import drop_database, make_database, unique_database_name
from tests.deploy.tls import issue_certificate, make_authority
from tests.federation.instances import ROOT, free_port, live_instances


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entraide", "doctor"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def problems(output: str) -> list[str]:
    return [line.split(":")[0].removeprefix("problem").strip() for line in output.splitlines()
            if line.startswith("problem")]  # fmt: skip


def test_doctor_reports_a_healthy_instance_and_then_each_breakage(
    pg_server: Any, tmp_path: Path
) -> None:
    with live_instances(tmp_path, count=1) as (instance,):
        healthy = doctor(instance.env)
        assert healthy.returncode == 0, healthy.stdout
        assert "all good" in healthy.stdout
        assert "public URL is this instance" in healthy.stdout

        # A public URL that reaches nothing.
        wrong = doctor({**instance.env, "ENTRAIDE_URL": "http://127.0.0.1:9"})
        assert wrong.returncode == 1
        assert problems(wrong.stdout) == ["public URL answers"]
        assert "connection refused on port 9" in wrong.stdout
        assert "→" in wrong.stdout  # says what to do

        # Another database behind the same public URL: not this instance.
        name = unique_database_name()
        other = make_database(name)
        try:
            # No worker runs on that database either.
            swapped = doctor({**instance.env, "DATABASE_URL": other})
            assert problems(swapped.stdout) == ["workers", "public URL is this instance"]
        finally:
            drop_database(name)

        # A stuck queue: a delivery waiting for two hours.
        instance.sql(
            """
            WITH a AS (
                INSERT INTO outbox_activities (uri, actor_id, type, payload, created_at)
                SELECT 'http://x/1', id, 'Announce', '{}', now() - interval '2 hours'
                FROM actors LIMIT 1 RETURNING id)
            INSERT INTO deliveries (activity_id, inbox, host, run_at)
            SELECT id, 'https://down.example/inbox', 'down.example', now() + interval '1 day'
            FROM a RETURNING id
            """
        )
        stuck = doctor(instance.env)
        assert problems(stuck.stdout) == ["deliveries"]

    # Pending migrations, and a database that does not answer.
    name = unique_database_name()
    empty = make_database(name, migrated=False)
    try:
        pending = doctor({**instance.env, "DATABASE_URL": empty})
        assert "migrations" in problems(pending.stdout)
    finally:
        drop_database(name)
    down = doctor({**instance.env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert down.returncode == 1 and "database" in problems(down.stdout)


async def test_workers_check_needs_a_worker_holding_its_lease(db: Pool) -> None:
    [check] = await check_workers(db)
    assert not check.ok and "no worker" in check.detail
    lease = WorkerLease(db)
    async with lease.connection():
        pass  # a worker takes its lock with its first claim, and keeps it while it lives
    try:
        [check] = await check_workers(db)
        assert check.ok and check.detail.startswith("1 worker")
    finally:
        await lease.close()
    [check] = await check_workers(db)
    assert not check.ok


def at(config: Config, url: str) -> Config:
    return dataclasses.replace(config, base_url=parse_base_url(url))


async def answer_check(config: Config) -> str:
    checks = await check_public_url(config, None)
    [answer] = [c for c in checks if c.name == "public URL answers"]
    assert not answer.ok
    return answer.detail + " → " + answer.advice


async def test_public_url_refused_says_so(config: Config) -> None:
    port = free_port("127.0.0.1")
    assert f"connection refused on port {port}" in await answer_check(
        at(config, f"http://127.0.0.1:{port}")
    )


async def test_public_url_whose_name_does_not_resolve_says_so(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_such_name(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    text = await answer_check(at(config, "https://nowhere.entraide.test"))
    assert "the name nowhere.entraide.test does not resolve" in text
    assert "DNS" in text


async def test_public_url_with_an_untrusted_certificate_says_so(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    authority = make_authority(tmp_path / "ca", "Nobody trusts this CA")
    cert, key = issue_certificate(authority, "localhost", tmp_path / "site")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        text = await answer_check(at(config, f"https://localhost:{port}"))
    finally:
        server.close()
    assert "certificate not trusted (unable to get local issuer certificate)" in text
