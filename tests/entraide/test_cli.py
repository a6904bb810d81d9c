"""The `entraide` command as operators run it: real processes, real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.federation.instances import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entraide", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_setting() -> None:
    from server.config import SETTINGS

    result = run({}, "--help")
    assert result.returncode == 0
    for setting in SETTINGS:
        assert setting.name in result.stdout
    for command in ("serve", "worker", "migrate", "user", "group", "demo"):
        assert command in result.stdout
        assert run({}, command, "--help").returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENTRAIDE_URL", "http://entraide.example"),
        ("ENTRAIDE_REGISTRATIONS", "sometimes"),
        ("ENTRAIDE_LANGUAGE", "de"),
        ("DATABASE_URL", "mysql://x"),
        ("ENTRAIDE_SECRET_KEY", "short"),
        ("ENTRAIDE_TRUSTED_PROXIES", "caddy, 127.0.0.1"),
    ],
)
def test_bad_setting_stops_with_one_line_and_exit_code_2(
    tmp_path: Path, name: str, value: str
) -> None:
    result = run({"ENTRAIDE_DATA_DIR": str(tmp_path), name: value}, "migrate")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert name in lines[0]


def test_commands_against_a_database(pg_url: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": pg_url,
        "ENTRAIDE_DATA_DIR": str(tmp_path),
        "ENTRAIDE_SECRET_KEY": "k" * 40,
    }
    assert run(env, "migrate").stdout.strip() == "database is up to date"
    created = run(env, "user", "create", "alice", "--email", "a@example.org", "--admin",
                  "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "@alice@" in created.stdout
    again = run(env, "user", "create", "alice", "--email", "b@example.org", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "already taken" in again.stderr
    group = run(env, "group", "create", "voisins", "--name", "Voisins", "--owner", "alice",
                "--join", "approval")  # fmt: skip
    assert group.returncode == 0, group.stderr
    clash = run(env, "group", "create", "alice", "--name", "Clash", "--owner", "alice")
    assert clash.returncode == 1 and "already taken" in clash.stderr
    no_owner = run(env, "group", "create", "other", "--name", "Other", "--owner", "nobody")
    assert no_owner.returncode == 1 and "nobody" in no_owner.stderr
    short = run(env, "user", "create", "bob", "--email", "b@example.org", "--password-stdin",
                stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "password" in short.stderr
    unconfirmed = run(env, "group", "delete", "voisins", stdin="")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    deleted = run(env, "group", "delete", "voisins", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted group @voisins@" in deleted.stdout
    gone = run(env, "group", "delete", "voisins", "--yes")
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1


def test_start_banner_says_the_address_once_and_offers_an_admin_only_when_none_exists(
    tmp_path: Path,
) -> None:
    from entraide.cli import port_warning, start_banner
    from server.config import load_config

    config = load_config({"ENTRAIDE_DATA_DIR": str(tmp_path)})

    first = start_banner(config, "127.0.0.1", 8000, has_admin=False)
    later = start_banner(config, "127.0.0.1", 8000, has_admin=True)

    assert first[0] == "Entraide: http://127.0.0.1:8000"
    assert "\n".join(first).count("127.0.0.1:8000") == 1
    assert "user create" in first[1]
    assert later == ["Entraide: http://127.0.0.1:8000"]
    assert port_warning(config, 8000, {}) is None
    assert port_warning(config, 8001, {"ENTRAIDE_URL": "https://x.example"}) is None
    assert "ENTRAIDE_URL=http://127.0.0.1:8001" in (port_warning(config, 8001, {}) or "")


def test_the_package_metadata_builds_without_deprecation_warnings() -> None:
    # setuptools warns about a `license` table: it wants an SPDX string (PEP 639).
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    assert project["build-system"]["requires"] == ["setuptools>=77"]


def test_serve_refuses_to_start_with_pending_migrations(pg_server: Any, tmp_path: Path) -> None:
    from tests.conftest import drop_database, make_database, unique_database_name

    name = unique_database_name()
    url = make_database(name, migrated=False)
    try:
        env = {"DATABASE_URL": url, "ENTRAIDE_DATA_DIR": str(tmp_path)}
        port = free_port("127.0.0.1")
        result = run(env, "serve", "--port", str(port))
        assert result.returncode == 1
        assert "pending migration" in result.stderr and "entraide migrate" in result.stderr
        # Another port without ENTRAIDE_URL: handles would name :8000; the operator is told.
        assert f"set ENTRAIDE_URL=http://127.0.0.1:{port}" in result.stderr
        assert run(env, "migrate").returncode == 0
        assert run(env, "migrate").stdout.strip() == "database is up to date"
    finally:
        drop_database(name)


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "entraide", "serve", "--port", str(port), "--processes", "1"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(log.read_text())


def test_embedded_postgresql_survives_kill_9_and_is_shared_with_a_worker(tmp_path: Path) -> None:
    """`serve` with no DATABASE_URL starts PostgreSQL in the data folder; kill -9 loses nothing."""
    data = tmp_path / "data"
    env = {"ENTRAIDE_DATA_DIR": str(data), "DATABASE_URL": ""}
    assert run(env, "migrate").returncode == 0
    created = run(env, "user", "create", "alice", "--email", "a@example.org", "--password-stdin",
                  stdin=PASSWORD + "\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    port, log = free_port("127.0.0.1"), tmp_path / "serve.log"
    server = _serve(env, port, log)
    worker = None
    try:
        _wait_up(port, server, log)
        with (tmp_path / "worker.log").open("ab") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "entraide", "worker"],
                env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        time.sleep(3)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        server = _serve(env, port, log)
        _wait_up(port, server, log)
        page = httpx.get(f"http://127.0.0.1:{port}/users/alice", timeout=5)
        assert page.status_code == 200 and "alice" in page.text
    finally:
        for process in (server, worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        # The embedded server outlives a killed process by design; stop it (fast shutdown).
        pid_file = data / "postgres" / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)


def operator_env_file(tmp_path: Path, database_url: str) -> Path:
    """Return the shipped example environment file, edited as docs/deploy.md asks."""
    text = (ROOT / "deploy" / "entraide.env.example").read_text()
    text = text.replace("#DATABASE_URL=postgresql://entraide:CHANGE-ME@127.0.0.1/entraide",
                        f"DATABASE_URL={database_url}")  # fmt: skip
    text = text.replace("ENTRAIDE_DATA_DIR=/var/lib/entraide", f"ENTRAIDE_DATA_DIR={tmp_path}")
    assert f"DATABASE_URL={database_url}" in text and str(tmp_path) in text
    path = tmp_path / "entraide.env"
    path.write_text(text)
    return path


def test_env_file_option_reads_the_shipped_example_comments_and_all(
    pg_url: str, tmp_path: Path
) -> None:
    path = operator_env_file(tmp_path, pg_url)
    result = run({}, "--env-file", str(path), "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database is up to date"
    created = run({}, "--env-file", str(path), "user", "create", "alice", "--email",
                  "a@example.org", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    # The file's ENTRAIDE_URL, not the default.
    assert "@alice@entraide.example" in created.stdout

    missing = run({}, "--env-file", str(tmp_path / "nope.env"), "migrate")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "nope.env" in missing.stderr


def test_user_create_without_a_terminal_says_to_use_password_stdin(
    pg_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": pg_url, "ENTRAIDE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "entraide", "user", "create", "alice", "--email", "a@example.org"],
        env={**os.environ, **env}, cwd=ROOT, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "--password-stdin" in result.stderr and "Traceback" not in result.stderr


def test_serve_runs_several_processes_on_one_port_with_one_worker(
    pg_url: str, tmp_path: Path
) -> None:
    import asyncpg
    import psutil

    from tests.conftest import _run

    port, log = free_port("127.0.0.1"), tmp_path / "serve.log"
    env = {
        "DATABASE_URL": pg_url,
        "ENTRAIDE_DATA_DIR": str(tmp_path),
        "ENTRAIDE_URL": f"http://127.0.0.1:{port}",
    }
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "entraide", "serve", "--port", str(port), "--processes", "2"],
            env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_up(port, server, log)
        children = psutil.Process(server.pid).children()
        assert [" ".join(c.cmdline()[-4:]) for c in children] == [
            f"serve --no-worker --child-fd {children[0].cmdline()[-1]}"
        ]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert {client.get("/").status_code for _ in range(20)} == {200}
            # Every connection the web processes accepted is TCP without Nagle's delay (an
            # answer written in two parts would otherwise wait ~40 ms for the client's ACK).
            assert _accepted_nodelay([server.pid, *(c.pid for c in children)], port) == {1}

        async def advisory_locks() -> int:
            conn = await asyncpg.connect(pg_url)
            try:
                value: int = await conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                )
                return value
            finally:
                await conn.close()

        # One worker in all: its lease is the one advisory lock held (server/leases.py).
        assert _run(advisory_locks()) == 1
        assert "2 web processes" in log.read_text()
    finally:
        server.terminate()
        server.wait(30)
    # The other process stops with the first: its end of the pipe closes, even after a kill -9.
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], log.read_text()


def _accepted_nodelay(pids: list[int], port: int) -> set[int]:
    """Return the TCP_NODELAY values of the connections these processes accepted on `port`,
    read from copies of their sockets (pidfd_getfd, Linux 5.6)."""
    import ctypes
    import socket

    import psutil

    libc = ctypes.CDLL(None, use_errno=True)
    values = set()
    for pid in pids:
        pidfd = os.pidfd_open(pid)
        try:
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.status != psutil.CONN_ESTABLISHED or conn.laddr.port != port:
                    continue
                fd = libc.syscall(438, pidfd, conn.fd, 0)  # SYS_pidfd_getfd
                assert fd >= 0, os.strerror(ctypes.get_errno())
                with socket.socket(fileno=fd) as copy:
                    values.add(copy.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        finally:
            os.close(pidfd)
    assert values, "no accepted connection found"
    return {1 if v else 0 for v in values}


def test_stopping_serve_stops_the_embedded_postgresql_it_started(tmp_path: Path) -> None:
    import psutil

    data = tmp_path / "data"
    port, log = free_port("127.0.0.1"), tmp_path / "serve.log"
    env = {
        "ENTRAIDE_DATA_DIR": str(data),
        "DATABASE_URL": "",
        "ENTRAIDE_URL": f"http://127.0.0.1:{port}",
    }
    assert run(env, "migrate").returncode == 0
    server = _serve(env, port, log)
    try:
        _wait_up(port, server, log)
        postgres = psutil.Process(
            int((data / "postgres" / "postmaster.pid").read_text().split()[0])
        )
        assert postgres.is_running()
    finally:
        server.terminate()  # as systemd, docker stop or a closed terminal do
        server.wait(30)
    postgres.wait(30)
    assert not postgres.is_running()
