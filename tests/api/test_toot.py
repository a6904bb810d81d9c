"""toot, the command-line Mastodon client written by others, against a live instance: it signs
in through its out-of-band flow (the consent page shows the code, which is typed at its
prompt), posts in a group and reads the home and public timelines.

toot's `login_cli` asks for an e-mail and a password and uses OAuth's password grant, which
Entraide does not offer (Mastodon dropped it too): the browser flow is the one apps use.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from server.config import Config
from server.db import Pool
from tests.api.conftest import RegisteredApp, consent
from tests.factories import make_account, make_group, make_post
from tests.web.conftest import OpenVisitor

TOOT = [sys.executable, "-m", "toot"]


def environment(home: Path) -> dict[str, str]:
    # Its own configuration folder; unbuffered, so that its prompts arrive as they are written.
    return {**os.environ, "XDG_CONFIG_HOME": str(home), "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1", "COLUMNS": "100"}  # fmt: skip


async def run_toot(home: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *TOOT, *args, env=environment(home), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


async def toot_login(home: Path, base: str, browser: Any) -> str:
    """Run `toot login`, approve its URL in the signed-in browser, type the code it shows."""
    process = await asyncio.create_subprocess_exec(
        *TOOT, "login", "--instance", base, env=environment(home),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    url = ""
    while not url:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line, "toot ended before showing its login URL"
        if line.startswith(base):
            url = line.strip()
    process.stdin.write(b"n\n")  # "Open link in default browser?": no, the test's browser does
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    # toot asks /oauth/authorize/ (a trailing slash): the page answers there too.
    page = await browser.get(url.removeprefix(base))
    assert page.status_code in (200, 307), page.text[:300]
    oob = RegisteredApp(query["client_id"], "", query["redirect_uri"])
    code = await consent(browser, oob, query["scope"])
    process.stdin.write(code.encode() + b"\n")
    await process.stdin.drain()
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_toot_logs_in_posts_in_a_group_and_reads_timelines(
    live: tuple[str, Any], visitors: OpenVisitor, db: Pool, web_config: Config, tmp_path: Path
) -> None:
    base, app = live
    owner = await make_account(db, web_config, "ada")
    circle = await make_group(db, web_config, owner, "circle")
    await make_post(db, web_config, circle, owner, "Welcome, everyone")
    browser = visitors(on=app)
    assert (await browser.log_in("ada")).status_code == 303

    logged_in = await toot_login(tmp_path, base, browser)
    whoami = await run_toot(tmp_path, "whoami")
    posted = await run_toot(tmp_path, "post", "@circle Hello from the command line")
    home = await run_toot(tmp_path, "timelines", "home", "--no-pager", "--no-clear")
    public = await run_toot(tmp_path, "timelines", "public", "--no-pager", "--no-clear")

    assert "Successfully logged in" in logged_in
    assert "@ada" in whoami
    assert "Toot posted" in posted
    assert "Hello from the command line" in home and "Welcome, everyone" in home
    assert "Hello from the command line" in public
    async with db.acquire() as conn:
        content = await conn.fetchval(
            "SELECT content FROM posts WHERE author_id = $1 ORDER BY id DESC LIMIT 1", owner.id
        )
    assert content == "Hello from the command line"
