"""The composition root: builds the one ASGI app from web, federation and server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api.http import ApiRequests
from api.routes import api_routes
from federation.context import open_federation
from federation.jobs import run_workers
from federation.lookup import resolve_address
from federation.routes import NEGOTIATED, federation_routes, wants_activity_json
from server import migrate
from server.config import Config
from server.db import create_pool, database_url
from web.errors import EXCEPTION_HANDLERS
from web.routes import web_routes
from web.security import BodyLimit, ForwardedScheme

log = logging.getLogger(__name__)


class PendingMigrations(Exception):
    """The database schema is older than the code: `entraide migrate` first."""


Endpoint = Callable[[Request], Awaitable[Response]]


def negotiate(page: Endpoint, document: Endpoint) -> Endpoint:
    """Serve ActivityStreams JSON or the web page from one URL, by the Accept header."""

    async def endpoint(request: Request) -> Response:
        if wants_activity_json(request):
            return await document(request)
        response = await page(request)
        response.headers["vary"] = "Accept"
        return response

    return endpoint


def routes() -> list[BaseRoute]:
    """Return federation's routes, the client API's, then the web's (which share the URLs of
    actors and posts with federation's)."""
    shared: list[BaseRoute] = []
    for route in web_routes():
        if (
            isinstance(route, Route)
            and route.path in NEGOTIATED
            and route.methods
            and "GET" in route.methods
        ):
            route = Route(route.path, negotiate(route.endpoint, NEGOTIATED[route.path]))
        shared.append(route)
    return federation_routes() + api_routes() + shared


def build_app(config: Config, *, with_worker: bool = True, db_url: str | None = None) -> Starlette:
    """Return the app; on start it opens the pool and (by default) runs one in-process worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = db_url if db_url else await asyncio.to_thread(database_url, config)
        pool = await create_pool(url)
        async with pool.acquire() as conn:
            pending = await migrate.list_pending(conn)
        if pending:
            await pool.close()
            raise PendingMigrations(
                f"{len(pending)} pending migration(s): run `entraide migrate` first"
            )
        app.state.db = pool
        app.state.federation = await open_federation(pool, config)
        stop = asyncio.Event()
        fed = app.state.federation
        # The client API's search resolves addresses on the network through federation's fetcher.
        app.state.resolve_address = functools.partial(resolve_address, fed)
        worker = asyncio.create_task(run_workers(fed, stop)) if with_worker else None
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await app.state.federation.close()
            await pool.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(ForwardedScheme, trusted=config.trusted_proxies),
            Middleware(BodyLimit),
            Middleware(ApiRequests),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.config = config
    return app
