"""The table of job handlers the worker runs: every outgoing federation effect starts here."""

from __future__ import annotations

from collections.abc import Mapping

from server.config import Config
from server.db import Pool
from server.models import Job
from server.services.posts import FEDERATE_POST
from server.worker import Handler


def job_handlers(db: Pool, config: Config) -> Mapping[str, Handler]:
    """Return the handler of each job kind, bound to the pool and the settings."""

    async def federate_post(job: Job) -> None:
        # Fan-out to the group's remote followers. Until follows from other servers are
        # accepted, a group has no remote audience, so there is nothing to deliver.
        del job

    del db, config
    return {FEDERATE_POST: federate_post}
