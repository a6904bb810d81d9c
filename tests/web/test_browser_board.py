"""Mutual support in a real headless Chromium: a need posted, answered privately from another
account, marked fulfilled, gone from the board; an offer matching a need shown to its poster;
"available now" seen by another member; a resource added and pinned."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import Errors, browser, live_server, sign_up

__all__ = ["browser", "live_server"]  # the fixtures, shared with the other browser tests
pytestmark = pytest.mark.browser


def post_item(page: Page, kind: str, category: str, title: str) -> None:
    page.locator("#f-kind").select_option(kind)
    page.locator("#f-category").select_option(category)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Valid until").fill((date.today() + timedelta(days=4)).isoformat())
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_board_availability_and_library(browser: Browser, live_server: str) -> None:
    contexts = [browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
                for _ in range(2)]  # fmt: skip
    try:
        rose, malik = (c.new_page() for c in contexts)
        errors = Errors(rose)
        sign_up(rose, live_server, "rose")
        rose.get_by_role("link", name="New group").click()
        rose.get_by_label("Name", exact=True).fill("Voisins solidaires")
        rose.get_by_label("Short name").fill("voisins")
        rose.get_by_role("button", name="Create the group").click()
        sign_up(malik, live_server, "malik")
        malik.goto(live_server + "/groups/voisins")
        malik.get_by_role("button", name="Join").click()

        # Rose needs a ride; Malik, who offers one, is shown her need as a match.
        rose.get_by_role("link", name="Needs and offers").click()
        post_item(rose, "need", "transport", "A ride to the hospital")
        need_url = rose.url
        malik.goto(live_server + "/groups/voisins/board")
        post_item(malik, "offer", "transport", "Free car on Tuesdays")
        expect(malik.locator("#item-matches")).to_be_visible()
        expect(malik.get_by_role("link", name="Need · A ride to the hospital")).to_be_visible()

        # Malik answers privately, agreeing to be named.
        malik.goto(need_url)
        malik.get_by_label("Your answer").fill("I can drive you, call me.")
        malik.get_by_label("I agree to be named if I help").check()
        malik.get_by_role("button", name="Answer", exact=True).click()
        rose.reload()
        expect(rose.locator(".answer.private")).to_contain_text("I can drive you")
        rose.get_by_label("Who helped (if they agreed)").select_option(label="malik")
        rose.get_by_role("button", name="Mark fulfilled").click()
        expect(rose.locator("p.status")).to_contain_text("thanks to malik")
        rose.goto(live_server + "/groups/voisins/board")
        expect(
            rose.locator(".board-list").get_by_role("link", name="A ride to the hospital")
        ).to_have_count(0)
        expect(rose.locator(".board-met")).to_have_text("1 need met this month")

        # Rose is available now; Malik sees it.
        rose.get_by_role("link", name="Who is available").click()
        rose.get_by_label("For", exact=True).select_option("60")
        rose.get_by_label("A short note (optional)").first.fill("To listen, by phone")
        rose.get_by_role("button", name="Say I am available").click()
        malik.goto(live_server + "/groups/voisins/availability")
        expect(malik.locator(".available[data-now=yes]")).to_contain_text("To listen, by phone")

        # Rose adds a resource and pins it.
        rose.get_by_role("link", name="Library").click()
        rose.get_by_label("Title").fill("Tenants' rights")
        rose.get_by_label("Link").fill("https://example.org/rights")
        rose.get_by_label("Tags").fill("housing")
        rose.get_by_role("button", name="Add", exact=True).click()
        rose.get_by_role("button", name="Pin", exact=True).click()
        expect(rose.locator(".resource[data-pinned=yes]")).to_contain_text("Tenants' rights")
        assert errors.messages == []
    finally:
        for context in contexts:
            context.close()
