"""Fixtures of the security tests: the page tests' app and browsers, reused as they are.

The hostile-input tests of other folders are listed with these in SECURITY.md.
"""

from __future__ import annotations

import pytest

from server.config import Config
from server.db import Pool
from tests.security.stage import Stage, build_stage

# The web tests' fixtures (app on the test database, browsers, cheap password hashes and keys).
from tests.web.conftest import (  # noqa: F401
    app,
    quick_crypto,
    start_app,
    visitor,
    visitors,
    web_config,
)


@pytest.fixture
async def stage(db: Pool, config: Config) -> Stage:
    """Return an instance in-process that knows Mallory and Alice, its network unplugged."""
    return await build_stage(db, config)
