"""`entraide doctor` against a healthy instance and broken ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import drop_database, make_database, unique_database_name
from tests.federation.instances import ROOT, live_instances


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
        assert "→" in wrong.stdout  # says what to do

        # Another database behind the same public URL: not this instance.
        name = unique_database_name()
        other = make_database(name)
        try:
            swapped = doctor({**instance.env, "DATABASE_URL": other})
            assert problems(swapped.stdout) == ["public URL is this instance"]
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
