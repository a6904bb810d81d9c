"""The notification centre: the unread count in the header, opening and marking read, and the
preferences page; someone else's notification is left alone."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from server.services import groups, posts
from tests.factories import make_account, make_group, make_member, make_post, snapshot
from tests.web.conftest import OpenVisitor


async def test_the_header_counts_unread_and_opening_one_marks_it_read(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    bea = await make_account(db, web_config, "bea")
    group = await make_group(db, web_config, ana, "jardin", name="Jardin")
    await make_member(db, group, bea)
    post = await make_post(db, web_config, group, ana, "Arrosage samedi")
    await posts.toggle_like(db, web_config, post, bea)
    await make_post(db, web_config, group, bea, "J'y serai", in_reply_to_id=post.id)
    browser = visitors("fr")
    await browser.log_in("ana")

    page = await browser.page("/notifications")
    badge = page.one("a", class_="notifications")
    assert "2" in badge.text and "non lues" in badge.text
    items = [li for li in page.find_all("li") if "notification" in li.attrs.get("class", "")]
    assert [i.one("button").text for i in items] == [
        "Nouveau : bea a répondu à votre publication",
        "Nouveau : bea a aimé votre publication",
    ]
    first = items[0].one("form").attrs["action"]

    response = await browser.post(first, {"next": f"/posts/{post.id}"})
    assert (response.status_code, response.headers["location"]) == (303, f"/posts/{post.id}")
    page = await browser.page("/notifications")
    assert "1" in page.one("a", class_="notifications").text

    await browser.post("/notifications/read")
    page = await browser.page("/notifications")
    assert not page.find_all("span", class_="badge")
    assert not [li for li in page.find_all("li") if "unread" in li.attrs.get("class", "")]


async def test_preferences_are_saved_and_a_bad_value_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "ana")
    browser = visitors()
    await browser.log_in("ana")
    page = await browser.page("/settings/notifications")
    assert len(page.find_all("select")) >= 17

    response = await browser.post("/settings/notifications", {"kind-like": "email"})
    assert response.status_code == 303
    page = await browser.page("/settings/notifications")
    options = page.one("select", id="f-kind-like").find_all("option")
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["email"]

    before = await snapshot(db)
    response = await browser.post("/settings/notifications", {"kind-like": "pigeon"})
    assert response.status_code == 422
    assert await snapshot(db) == before


async def test_nobody_marks_read_another_persons_notification_or_is_sent_away(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    await make_account(db, web_config, "bea")
    group = await make_group(db, web_config, ana, join_policy="approval")
    bea_account = await make_account(db, web_config, "cam")
    await groups.join_group(db, group, bea_account)
    async with db.acquire() as conn:
        theirs = await conn.fetchval("SELECT id FROM notifications")
    browser = visitors()
    await browser.log_in("bea")
    before = await snapshot(db)

    response = await browser.post(f"/notifications/{theirs}/read", {"next": "https://evil.test"})

    assert (response.status_code, response.headers["location"]) == (303, "/notifications")
    assert await snapshot(db) == before
