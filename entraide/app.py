"""The composition root: builds the one ASGI app from web, federation and server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from federation.jobs import job_handlers
from server import migrate
from server.config import Config
from server.db import create_pool, database_url
from server.worker import run_worker
from web.errors import EXCEPTION_HANDLERS
from web.routes import web_routes
from web.security import BodyLimit

log = logging.getLogger(__name__)


class PendingMigrations(Exception):
    """The database schema is older than the code: `entraide migrate` first."""


def build_app(config: Config, *, with_worker: bool = True, db_url: str | None = None) -> Starlette:
    """Return the app; on start it opens the pool and (by default) runs one in-process worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = db_url or await asyncio.to_thread(database_url, config)
        pool = await create_pool(url)
        async with pool.acquire() as conn:
            pending = await migrate.list_pending(conn)
        if pending:
            await pool.close()
            raise PendingMigrations(
                f"{len(pending)} pending migration(s): run `entraide migrate` first"
            )
        app.state.db = pool
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(run_worker(pool, job_handlers(pool, config), stop))
            if with_worker
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await pool.close()

    app = Starlette(
        routes=web_routes(),
        middleware=[Middleware(BodyLimit)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.config = config
    return app
