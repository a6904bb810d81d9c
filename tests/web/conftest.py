"""Fixtures of the page tests: the app on the test's own database, and browsers to visit it.

The app runs its own lifespan (pool, pending-migration check), as under uvicorn; the `db`
fixture is a second pool on the same database, for factories and for checking what was written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from entraide.app import build_app
from server import keys, passwords
from server.config import Config
from server.db import Pool
from server.services import accounts, actors, groups
from tests.conftest import make_config
from tests.factories import make_account
from tests.web.visitor import Visitor

StartApp = Callable[..., Awaitable[Starlette]]
OpenVisitor = Callable[..., Visitor]

# One key pair for every actor of every page test (each test has a database of its own).
_one_key_pair = functools.cache(keys.generate_key_pair)


@pytest.fixture(autouse=True)
def quick_crypto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make password hashes and actor keys cheap: these tests are about pages.

    tests/server checks both at full strength; here they cost ~0.2 s per account and login,
    and the instance actor's key as much again for every app started: one key pair serves all.
    Hashes stay in the self-describing format, so verification is the real code.
    """
    monkeypatch.setattr(passwords, "_N", 2**10)
    monkeypatch.setattr(accounts, "generate_key_pair", _one_key_pair)
    monkeypatch.setattr(groups, "generate_key_pair", _one_key_pair)
    monkeypatch.setattr(actors, "generate_key_pair", _one_key_pair)


@pytest.fixture(autouse=True)
def one_trust_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the system's certificates once, not for every app (0.1 to 0.3 s each time).

    Every app started opens its federation HTTP client, which builds two TLS contexts, reading
    the whole CA bundle each time; the contexts are the same for every app, so one serves all.
    """
    monkeypatch.setattr(httpx, "create_ssl_context", _trust_store)


_trust_store = functools.cache(httpx.create_ssl_context)


@pytest.fixture
def web_config(config: Config) -> Config:
    """Return the test configuration with an English default, so French must be chosen."""
    return dataclasses.replace(config, language="en")


@pytest.fixture(scope="module")
def module_web_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """Return `web_config` for the fixtures one module's tests share (a live server)."""
    return dataclasses.replace(make_config(tmp_path_factory.mktemp("data")), language="en")


@pytest.fixture
async def start_app(pg_url: str, web_config: Config) -> AsyncIterator[StartApp]:
    """Yield a function that starts an app on the test database, with settings overridden."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Starlette:
            config = dataclasses.replace(web_config, **overrides)
            app = build_app(config, with_worker=False, db_url=pg_url)
            await stack.enter_async_context(app.router.lifespan_context(app))
            return app

        yield start


@pytest.fixture
async def app(start_app: StartApp) -> Starlette:
    return await start_app()


@pytest.fixture
async def visitors(app: Starlette) -> AsyncIterator[OpenVisitor]:
    """Yield a function that opens another browser (on `app` unless told otherwise)."""
    opened: list[Visitor] = []

    def open_visitor(language: str = "en", *, on: Starlette | None = None, **kw: Any) -> Visitor:
        visitor = Visitor(on or app, language=language, **kw)
        opened.append(visitor)
        return visitor

    yield open_visitor
    for visitor in opened:
        await visitor.aclose()


@pytest.fixture
def visitor(visitors: OpenVisitor) -> Visitor:
    return visitors()


async def signed_in(visitors: OpenVisitor, username: str, language: str = "en") -> Visitor:
    """Open a browser in `language` and log in as `username`, an existing account."""
    visitor = visitors(language)
    response = await visitor.log_in(username)
    assert response.status_code == 303, response.text[:500]
    return visitor


async def new_signed_in(
    visitors: OpenVisitor, db: Pool, config: Config, username: str, language: str = "en"
) -> Visitor:
    """Register `username` and return a browser logged in as them."""
    await make_account(db, config, username)
    return await signed_in(visitors, username, language)
