"""Atom feeds read by feedparser (a real feed reader's parser), announced by the pages; the
interaction URL WebFinger advertises; robots.txt and the favicon."""

from __future__ import annotations

from urllib.parse import quote

import feedparser

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_post
from tests.web.conftest import OpenVisitor


async def test_a_public_group_and_a_person_have_atom_feeds_their_pages_announce(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    group = await make_group(db, web_config, ana, "jardin", name="Jardin partagé")
    post = await make_post(db, web_config, group, ana, "Les <tomates> sont mûres & rouges")
    browser = visitors()

    for page_path in ("/groups/jardin", "/users/ana"):
        page = await browser.page(page_path)
        (link,) = [
            e for e in page.find_all("link") if e.attrs.get("type") == "application/atom+xml"
        ]
        response = await browser.get(link.attrs["href"])
        assert response.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        (entry,) = parsed.entries
        assert entry.link == f"{web_config.base_url}/posts/{post.id}"
        assert entry.title == "Les <tomates> sont mûres & rouges"
        assert "&lt;tomates&gt;" in entry.content[0].value


async def test_a_members_only_group_has_no_feed(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    group = await make_group(db, web_config, ana, "cercle", visibility="members")
    await make_post(db, web_config, group, ana, "Entre nous")
    browser = visitors()
    response = await browser.get("/groups/cercle/feed.atom")
    assert response.status_code == 404 and "Entre nous" not in response.text
    page = await browser.page("/users/ana/feed.atom", 200)
    assert "Entre nous" not in page.text


async def test_authorize_interaction_opens_ours_and_looks_up_the_others(
    visitors: OpenVisitor, web_config: Config
) -> None:
    browser = visitors()
    ours = await browser.get(
        "/authorize_interaction", params={"uri": f"{web_config.base_url}/groups/jardin"}
    )
    assert (ours.status_code, ours.headers["location"]) == (302, "/groups/jardin")
    theirs = await browser.get(
        "/authorize_interaction", params={"uri": "acct:camille@mobilizon.example"}
    )
    assert theirs.headers["location"] == "/search?q=" + quote("camille@mobilizon.example")
    away = await browser.get("/authorize_interaction", params={"uri": "//evil.test/x"})
    assert away.headers["location"].startswith("/search?q=")


async def test_robots_and_favicon(visitors: OpenVisitor) -> None:
    browser = visitors()
    robots = await browser.get("/robots.txt")
    assert "Disallow: /settings" in robots.text
    icon = await browser.get("/favicon.ico")
    assert icon.headers["content-type"] == "image/svg+xml" and b"<svg" in icon.content


async def test_follow_from_your_server_url_encodes_the_group_address(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    await make_group(db, web_config, ana, "jardin")
    browser = visitors()

    response = await browser.post("/groups/jardin/remote-follow", {"instance": "mastodon.social"})

    assert response.headers["location"] == (
        "https://mastodon.social/authorize_interaction?uri="
        + quote(f"{web_config.base_url}/groups/jardin", safe="")
    )
