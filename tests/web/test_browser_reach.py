"""In headless Chromium: the notification centre and its count, preferences, search, the
directory, and a forgotten password reset through the e-mail the test SMTP server received."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from server.config import Config
from server.db import create_pool
from server.services import posts
from tests.conftest import _run
from tests.factories import make_account, make_group, make_member, make_post
from tests.mailserver import Inbox, smtp_server
from tests.web.test_browser import PASSWORD, browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def inbox_and_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Inbox]]:
    with smtp_server(tmp_path, monkeypatch) as found:
        yield found


@pytest.fixture
def web_config(config: Config, inbox_and_url: tuple[str, Inbox]) -> Config:
    return dataclasses.replace(config, language="en", smtp_url=inbox_and_url[0])


def seed(pg_url: str, config: Config) -> int:
    """Ana's garden group: Bea likes and answers her post; return the post's id."""

    async def go() -> int:
        pool = await create_pool(pg_url)
        try:
            ana = await make_account(pool, config, "ana", email="ana@example.org")
            bea = await make_account(pool, config, "bea")
            group = await make_group(pool, config, ana, "jardin", name="Jardin partagé")
            await make_member(pool, group, bea)
            post = await make_post(pool, config, group, ana, "Les tomates sont mûres")
            await posts.toggle_like(pool, config, post, bea)
            await make_post(pool, config, group, bea, "J'arrive", in_reply_to_id=post.id)
            return post.id
        finally:
            await pool.close()

    result: int = _run(go())
    return result


def test_notifications_preferences_search_directory_and_a_password_reset_by_e_mail(
    browser: Browser,  # noqa: F811
    live_server: str,  # noqa: F811
    pg_url: str,
    web_config: Config,
    inbox_and_url: tuple[str, Inbox],
) -> None:
    post_id = seed(pg_url, web_config)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.locator("#f-username").fill("ana")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()

    badge = page.locator("header a.notifications .badge")
    expect(badge).to_contain_text("2")
    page.locator("header a.notifications").click()
    page.get_by_role("button", name=re.compile("bea replied to your post")).click()
    expect(page).to_have_url(f"{live_server}/posts/{post_id + 1}")  # the reply
    expect(badge).to_contain_text("1")

    page.goto(live_server + "/settings/notifications")
    page.locator("#f-kind-like").select_option("email")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-kind-like")).to_have_value("email")

    page.goto(live_server + "/search")
    page.locator("#f-q").fill("tomate mure")
    page.locator("main button[type=submit]").click()
    expect(page.locator(f'main a[href="/posts/{post_id}"]')).to_be_visible()

    page.goto(live_server + "/directory")
    expect(page.locator('main a[href="/groups/jardin"]')).to_be_visible()
    context.close()

    visitor = browser.new_context(locale="en-US")
    page = visitor.new_page()
    page.goto(live_server + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.locator("#f-email").fill("ana@example.org")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main .notice")).to_be_visible()
    inbox = inbox_and_url[1]
    deadline = time.monotonic() + 30
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    (message,) = inbox.messages
    text = message.get_body(("plain",))
    assert text is not None
    link = re.search(r"http://\S+/password/reset/\S+", str(text.get_content()))
    assert link is not None
    page.goto(link.group(0))
    page.locator("#f-new_password").fill("a brand new garden secret")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(live_server + "/login")
    page.locator("#f-username").fill("ana")
    page.locator("#f-password").fill("a brand new garden secret")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(live_server + "/")
    visitor.close()
