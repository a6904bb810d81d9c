"""Test infrastructure: one embedded PostgreSQL per session, one fresh database per test.

Migrations are applied once, to a template database; each test gets a copy of it with
`CREATE DATABASE ... TEMPLATE` (some 30 ms in memory). Server tests use `db`, an asyncpg pool
on such a copy; web tests use `pg_url`; tests that need several databases (live federation)
request `pg_server` and call `make_database(name)` / `drop_database(name)` from `tests.conftest`.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

# Tests import their helpers by their path from the project root (`from tests.factories import
# ...`); pytest's default import mode only puts the test folders themselves on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# `tests.conftest` and pytest's `conftest` must be one module, or the server handle is lost.
sys.modules.setdefault("tests.conftest", sys.modules[__name__])

from server.config import Config, load_config  # noqa: E402
from server.db import Pool, create_pool  # noqa: E402
from server.migrate import apply_migrations  # noqa: E402

TEMPLATE = "entraide_template"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The running server of this session, set by the `pg_server` fixture.
_server: Any = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the project's modules once, for the many processes the tests start.

    Where PYTHONDONTWRITEBYTECODE is set (this project's machines set it) no process keeps what it
    compiled, so each live instance, CLI call and worker process compiled every module of the
    project again: a fifth of its start-up (1.65 s of CPU against 1.3 s for `import entraide.app`).
    """
    if sys.flags.dont_write_bytecode:
        for package in ("server", "federation", "web", "api", "entraide", "migrations"):
            compileall.compile_dir(ROOT / package, quiet=1)


def _run(coro: Any) -> Any:
    """Run a coroutine to completion on a private loop, even when called from inside one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _require_server() -> Any:
    if _server is None:
        raise RuntimeError("request the `pg_server` fixture before calling make_database()")
    return _server


def make_database(name: str, *, migrated: bool = True) -> str:
    """Create database `name` (a copy of the migrated template, or empty) and return its URL."""
    if not _DB_NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    server = _require_server()
    template = TEMPLATE if migrated else "template0"
    _run(_execute(server.get_uri("postgres"), f"CREATE DATABASE {name} TEMPLATE {template}"))
    url: str = server.get_uri(name)
    return url


def drop_database(name: str) -> None:
    """Drop a database made by make_database, closing any connection still open to it."""
    if not _DB_NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    server = _require_server()
    _run(_execute(server.get_uri("postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def unique_database_name(prefix: str = "test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def _migrate_template(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """Start the session's PostgreSQL and build the migrated template database."""
    import pgserver

    global _server
    # Not under pytest's basetemp: pytest resets its parent folder to mode 700 whenever another
    # session starts, which would lock out the 'pgserver' system user PostgreSQL runs as (root).
    # In memory when we can: CREATE DATABASE copies files, 0.3 s on disk against 0.03 s there.
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="entraide-test-pg-", dir=parent))
    server = pgserver.get_server(folder / "data", cleanup_mode="stop")
    try:
        # A throwaway cluster: durability only costs time.
        _run(
            _execute(
                server.get_uri("postgres"),
                "ALTER SYSTEM SET fsync = off",
                "ALTER SYSTEM SET synchronous_commit = off",
                "ALTER SYSTEM SET full_page_writes = off",
                "SELECT pg_reload_conf()",
            )
        )
        _run(_execute(server.get_uri("postgres"), f"CREATE DATABASE {TEMPLATE}"))
        _run(_migrate_template(server.get_uri(TEMPLATE)))
        # A connection to the template would make every CREATE DATABASE ... TEMPLATE fail.
        _run(
            _execute(
                server.get_uri("postgres"),
                f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
            )
        )
        _server = server
        yield server
    finally:
        _server = None
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(prefix: str = "test") -> Iterator[str]:
    """Yield the URL of a new copy of the migrated template; drop it afterwards."""
    name = unique_database_name(prefix)
    url = make_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """Return the URL of a fresh, migrated database, dropped after the test."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_url(pg_server: Any) -> Iterator[str]:
    """Return a fresh, migrated database that one module's tests share (they build on it)."""
    with fresh_database("module") as url:
        yield url


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Pool]:
    """Yield a small asyncpg pool on a fresh, migrated database."""
    pool = await create_pool(pg_url, min_size=1, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


def make_config(data_dir: Path) -> Config:
    """Return an instance configuration with its data folder in `data_dir`."""
    return load_config(
        {
            "ENTRAIDE_DATA_DIR": str(data_dir),
            "ENTRAIDE_URL": "http://127.0.0.1:8000",
            "ENTRAIDE_SECRET_KEY": "x" * 40,
        }
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Return an instance configuration with its data folder in the test's tmp_path."""
    return make_config(tmp_path)
