"""Accessibility, proven in a real Chromium: axe-core on every page, in French and English, on a
desktop (1280 px) and a phone (390 px); a keyboard-only walk; and what axe cannot see (the first
screen of a phone, one-row menus, sideways scrolling at 320 px, target sizes).

axe-core is installed by `make test` (tests/web/axe/package.json) into a folder git ignores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import _execute, _run
from tests.web.test_browser import PASSWORD, browser, module_live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# ENTRAIDE_SCREENSHOTS=/tmp/entraide-shots keeps a full-page picture of every page checked there
# (they cost a fifth of the walk, so only when asked for).
SHOTS = Path(os.environ["ENTRAIDE_SCREENSHOTS"]) if os.environ.get("ENTRAIDE_SCREENSHOTS") else None
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
# Violations that block or seriously hinder someone (axe's own scale).
BLOCKING = ("serious", "critical")


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def follow(page: Page) -> None:
    """Press Enter on the focused link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def violations(page: Page) -> list[str]:
    """Run axe-core on the page; return its serious and critical findings, one line each."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact,
                        where: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return [f"{v['id']} ({v['impact']}) at {v['where']}" for v in found if v["impact"] in BLOCKING]


@pytest.fixture(scope="module")
def axe_installed() -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (it installs tests/web/axe)")


# Once for the module: every test reads the pages this walk leaves (logging in adds a session,
# nothing else is written), so each need not walk again.
@pytest.fixture(scope="module")
def walked(
    browser: Browser,  # noqa: F811
    module_live_server: str,  # noqa: F811
    module_pg_url: str,
    axe_installed: None,
) -> Iterator[str]:
    """Walk through sign-up, a new group and two posts with the keyboard alone; yield the URL."""
    live_server, pg_url = module_live_server, module_pg_url
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_server + "/signup")
        type_into(page, "#f-username", "alice")
        type_into(page, "#f-email", "alice@example.org")
        type_into(page, "#f-password", PASSWORD)
        follow(page)
        expect(page).to_have_url(live_server + "/")
        expect(page.get_by_role("status")).to_have_text("Welcome! Your account is ready.")
        tab_to(page, "a[href='/groups/new']")
        follow(page)
        # An empty form first: the error is announced and has the focus.
        tab_to(page, "button[type=submit]:not(.link)")
        follow(page)
        expect(page.locator("#e-name")).to_have_attribute("role", "alert")
        assert page.evaluate("document.activeElement.id") == "f-name"
        page.keyboard.type("Neighbourhood pantry")
        type_into(page, "#f-slug", "pantry")
        type_into(page, "#f-description", "We share food with neighbours. #bread")
        tab_to(page, "button[type=submit]:not(.link)")
        follow(page)
        expect(page).to_have_url(live_server + "/groups/pantry")
        for text in ("Fresh #bread on Saturday, come by!", "Who can lend a cargo bike?"):
            type_into(page, "#f-content", text)
            tab_to(page, "#write-section button[type=submit]")
            follow(page)
            expect(page.locator("article.post").first).to_contain_text(text)
        # A reply, and a like, still without a mouse.
        tab_to(page, "article.post a[href$='#replies']")
        follow(page)
        type_into(page, "#f-content", "I can, on Sunday.")
        tab_to(page, "#replies-section button[type=submit]")
        follow(page)
        expect(page.locator("article.post")).to_have_count(2)
        tab_to(page, "button.like")
        follow(page)
        expect(page.locator("button.like[aria-pressed=true]")).to_have_count(1)
    finally:
        context.close()
    # The pages of an administrator, a failing server and a waiting request to show too.
    _run(
        _execute(
            pg_url,
            "UPDATE accounts SET is_admin = true",
            "INSERT INTO hosts (host, failure_days, last_failure_at)"
            " VALUES ('a-very-long-server-name-that-keeps-failing.example', '{2026-12-01}', now())",
            # A need on the board, and Alice available now, for their pages.
            "INSERT INTO board_items (group_id, author_id, kind, category, title, details_html,"
            " area, valid_until) SELECT g.actor_id, a.id, 'need', 'food', 'Flour for the bakery',"
            " '<p>Two kilos.</p>', 'North', now() + interval '2 days'"
            " FROM groups g, actors a WHERE a.name = 'alice'",
            "INSERT INTO availabilities (group_id, actor_id, kind, until, note)"
            " SELECT g.actor_id, a.id, 'now', now() + interval '1 hour', 'To listen'"
            " FROM groups g, actors a WHERE a.name = 'alice'",
            "INSERT INTO goals (group_id, author_id, title, body_html)"
            " SELECT g.actor_id, a.id, 'Walk every day', '<p>For my back.</p>'"
            " FROM groups g, actors a WHERE a.name = 'alice'",
            "INSERT INTO goal_updates (goal_id, author_id, kind, content_html)"
            " SELECT 1, a.id, 'followup', '<p>Three days in a row.</p>' FROM actors a"
            " WHERE a.name = 'alice'",
        )
    )
    yield live_server


def pages(base: str) -> dict[str, str]:
    return {
        "home": "/",
        "group": "/groups/pantry",
        "members": "/groups/pantry/members",
        "group-settings": "/groups/pantry/settings",
        "post": "/posts/2",
        "reply": "/posts/3",
        "edit": "/posts/2/edit",
        "delete": "/posts/2/delete",
        "leave": "/groups/pantry/leave",
        "profile": "/users/alice",
        "settings": "/settings",
        "password": "/settings/password",
        "following": "/following",
        "notifications": "/notifications",
        "search": "/search?q=bread",
        "about": "/about",
        "about-edit": "/admin/about",
        "directory": "/directory",
        "notification-settings": "/settings/notifications",
        "muting": "/settings/muting",
        "email": "/settings/email",
        "new-group": "/groups/new",
        "tag": "/tags/bread",
        "admin": "/admin",
        "queue": "/admin/queue",
        "moderation": "/groups/pantry/moderation",
        "admin-moderation": "/admin/moderation",
        "report": "/posts/2/report",
        "not-found": "/groups/nowhere",
        "board": "/groups/pantry/board",
        "board-filtered": "/groups/pantry/board?kind=need&category=food&area=North",
        "board-item": "/board/1",
        "followed-board": "/board",
        "availability": "/groups/pantry/availability",
        "library": "/groups/pantry/library",
        "goals": "/groups/pantry/goals",
        "goal": "/goals/1",
    }


def checking_context(browser: Browser, locale: str, size: tuple[int, int]) -> BrowserContext:  # noqa: F811
    """Open a browser context whose every page loads axe-core (sent to Chromium once)."""
    # bypass_csp: the page's policy forbids any script, the checker's included.
    context = browser.new_context(
        locale=locale, viewport={"width": size[0], "height": size[1]}, bypass_csp=True
    )
    context.add_init_script(path=str(AXE))
    return context


def signed_in(browser: Browser, base: str, locale: str, size: tuple[int, int]) -> BrowserContext:  # noqa: F811
    context = checking_context(browser, locale, size)
    page = context.new_page()
    page.goto(base + "/login")
    page.locator("#f-username").fill("alice")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    page.close()
    return context


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_every_page_passes_axe_on_a_desktop_and_a_phone(
    browser: Browser,  # noqa: F811
    walked: str,
    locale: str,
) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    for width_name, size in WIDTHS.items():
        member = signed_in(browser, walked, locale, size)
        visitor = checking_context(browser, locale, size)
        # One tab each, going from page to page (a new tab per page cost as much as axe).
        tabs = {member: member.new_page(), visitor: visitor.new_page()}
        try:
            visits = [(member, name, path) for name, path in pages(walked).items()]
            visits += [
                (visitor, f"visitor-{name}", path)
                for name, path in {
                    "group": "/groups/pantry",
                    "login": "/login",
                    "board": "/groups/pantry/board",
                    "board-item": "/board/1",
                    "forgot": "/password/forgot",
                }.items()
            ]
            visits.append((visitor, "visitor-signup", "/signup"))
            for context, name, path in visits:
                page = tabs[context]
                page.goto(walked + path)
                if SHOTS:
                    page.screenshot(
                        path=str(SHOTS / f"{locale}-{width_name}-{name}.png"), full_page=True
                    )
                problems = violations(page)
                if problems:
                    found[f"{width_name} {name} {path}"] = problems
            # The sign-up form with every error shown.
            page = tabs[visitor]
            page.goto(walked + "/signup")
            page.locator("main button[type=submit]").click()
            page.wait_for_load_state()
            if problems := violations(page):
                found[f"{width_name} signup with errors"] = problems
        finally:
            member.close()
            visitor.close()
    assert found == {}


def test_a_phone_shows_the_menu_in_one_row_and_a_post_on_the_first_screen(
    browser: Browser,  # noqa: F811
    walked: str,
) -> None:
    context = signed_in(browser, walked, "fr-FR", WIDTHS["phone"])
    try:
        page = context.new_page()
        page.goto(walked + "/groups/pantry")
        nav = page.locator("header.site nav").bounding_box()
        first_post = page.locator("article.post").first.bounding_box()
        assert nav is not None and first_post is not None
        assert nav["height"] <= 64, nav  # one row (it was four)
        assert first_post["y"] < 844, first_post  # a post on the first screen
        # The writing box and the posts come before "follow from your instance".
        order = page.evaluate(
            """["#write-section", "section[aria-labelledby=posts]", "#fediverse-section"]
                .map(s => document.querySelector(s).getBoundingClientRect().top)"""
        )
        assert order == sorted(order)
    finally:
        context.close()


def test_the_admin_menu_stays_on_one_row_at_1280_px_in_french(
    browser: Browser,  # noqa: F811
    walked: str,
) -> None:
    context = signed_in(browser, walked, "fr-FR", WIDTHS["desktop"])
    try:
        page = context.new_page()
        page.goto(walked + "/admin")
        tops = page.evaluate(
            """[...document.querySelectorAll("header.site nav a, header.site nav button")]
                .map(e => e.getBoundingClientRect()).map(r => Math.round(r.top + r.height / 2))"""
        )
        assert max(tops) - min(tops) <= 8, tops  # every item on one line
    finally:
        context.close()


def test_admin_queue_does_not_scroll_sideways_at_320_px(
    browser: Browser,  # noqa: F811
    walked: str,
) -> None:
    context = signed_in(browser, walked, "en-US", (320, 700))
    try:
        page = context.new_page()
        page.goto(walked + "/admin/queue")
        expect(page.locator("table")).to_have_count(1)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320
    finally:
        context.close()


def test_targets_are_at_least_24_px(browser: Browser, walked: str) -> None:  # noqa: F811
    context = signed_in(browser, walked, "en-US", WIDTHS["phone"])
    try:
        small: list[str] = []
        for path in (
            "/groups/pantry",
            "/posts/2",
            "/groups/pantry/settings",
            "/groups/pantry/members",
        ):
            page = context.new_page()
            page.goto(walked + path)
            small += page.evaluate(
                """[...document.querySelectorAll(
                      "main button, main a.button, main input[type=checkbox], main summary")]
                    .filter(e => e.offsetParent !== null)
                    .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect()])
                    .filter(([, r]) => r.width < 24 || r.height < 24)
                    .map(([html, r]) => `${html} ${r.width}x${r.height}`)"""
            )
            page.close()
        assert small == []
    finally:
        context.close()


def test_the_site_header_style_stays_out_of_posts_and_profiles(
    browser: Browser,  # noqa: F811
    walked: str,
) -> None:
    context = signed_in(browser, walked, "en-US", WIDTHS["phone"])
    try:
        page = context.new_page()
        page.goto(walked + "/users/alice")
        styles = page.evaluate(
            """[...document.querySelectorAll("main header, main .group-title")].map(e => {
                const s = getComputedStyle(e);
                return [s.backgroundColor, s.borderBottomWidth];
            })"""
        )
        assert styles and all(s == ["rgba(0, 0, 0, 0)", "0px"] for s in styles), styles
    finally:
        context.close()
