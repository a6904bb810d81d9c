"""Pages in a real headless Chromium against a live uvicorn server: two people share a group,
the French interface, keyboard access, and no stylesheet or policy errors."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from entraide.app import build_app
from server.config import Config

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/entraide-group.png"
PASSWORD = "correct horse battery staple"


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Once per module, not per session: while Playwright's sync API is open its event loop counts
# as running in this thread, and the asyncio tests of other modules could not start theirs.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live_server(pg_url: str, web_config: Config) -> Iterator[str]:
    """Serve the app on the test's own database; yield its base URL."""
    with serving(pg_url, web_config) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def module_live_server(module_pg_url: str, module_web_config: Config) -> Iterator[str]:
    """Serve the app on the module's database, for tests that build on what others left."""
    with serving(module_pg_url, module_web_config) as base_url:
        yield base_url


@contextmanager
def serving(pg_url: str, web_config: Config) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = dataclasses.replace(web_config, base_url=base_url)
    app = build_app(config, db_url=pg_url)  # with its worker, as an instance runs
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", ws="none", http="h11")
    )
    # Not the main thread: uvicorn installs no signal handlers; `should_exit` stops it.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


class Errors:
    """Console errors of a page: a Content-Security-Policy violation shows up here."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._record)
        page.on("pageerror", lambda error: self.messages.append(str(error)))

    def _record(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # Browsers ask for /favicon.ico on their own; the instance has none (a plain 404).
        if message.type == "error" and not url.endswith("/favicon.ico"):
            self.messages.append(f"{message.text} {url}")


def sign_up(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail").fill(f"{username}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(base_url + "/")
    expect(page.get_by_role("link", name=username)).to_be_visible()


def publish(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Publish").click()


def post_texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("article.post .content").all_inner_texts()]


def test_two_people_share_a_group_newest_post_first(browser: Browser, live_server: str) -> None:
    alice_context = browser.new_context(locale="en-US")
    bob_context = browser.new_context(locale="en-US")
    try:
        alice = alice_context.new_page()
        errors = Errors(alice)
        sign_up(alice, live_server, "alice")
        alice.get_by_role("link", name="New group").click()
        alice.get_by_label("Name", exact=True).fill("Neighbourhood pantry")
        alice.get_by_label("Short name").fill("pantry")
        alice.get_by_label("Description").fill("We share food with neighbours.")
        alice.get_by_role("button", name="Create the group").click()
        expect(alice).to_have_url(live_server + "/groups/pantry")
        expect(alice.get_by_role("heading", level=1)).to_have_text("Neighbourhood pantry")
        publish(alice, "Fresh bread on Saturday, come by!")
        expect(alice.locator("article.post")).to_have_count(1)
        assert post_texts(alice) == ["Fresh bread on Saturday, come by!"]

        bob = bob_context.new_page()
        sign_up(bob, live_server, "bob")
        bob.goto(live_server + "/groups/pantry")
        expect(bob.get_by_label("Message")).to_have_count(0)  # not a member yet
        bob.get_by_role("button", name="Join").click()
        publish(bob, "I can bring jam.")
        expect(bob.locator("article.post")).to_have_count(2)
        assert post_texts(bob) == ["I can bring jam.", "Fresh bread on Saturday, come by!"]

        alice.reload()
        assert post_texts(alice) == ["I can bring jam.", "Fresh bread on Saturday, come by!"]
        expect(alice.locator("p.meta").first).to_contain_text("2 members")
        # The stylesheet loaded (not blocked by the page's own policy).
        background = alice.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(251, 250, 247)"
        alice.set_viewport_size({"width": 900, "height": 900})
        alice.screenshot(path=SCREENSHOT, full_page=True)
        assert errors.messages == []
    finally:
        alice_context.close()
        bob_context.close()


def test_french_interface_for_a_french_browser(browser: Browser, live_server: str) -> None:
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
        expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
        page.get_by_role("link", name="S'inscrire").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire")
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.locator("#e-username")).to_have_text("Ce champ est obligatoire.")
        page.goto(live_server + "/groups/nowhere")
        expect(page.get_by_role("heading", level=1)).to_have_text("Introuvable")
    finally:
        context.close()


def test_tab_from_the_top_focuses_the_skip_link(browser: Browser, live_server: str) -> None:
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(live_server + "/login")

        page.keyboard.press("Tab")

        focused = page.evaluate(
            "[document.activeElement.className, document.activeElement.textContent,"
            " document.activeElement.getAttribute('href')]"
        )
        assert focused == ["skip", "Skip to content", "#main"]
        # Hidden until focused, then on screen.
        box = page.locator("a.skip").bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0
        page.keyboard.press("Enter")
        expect(page).to_have_url(live_server + "/login#main")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "f-username"
    finally:
        context.close()
