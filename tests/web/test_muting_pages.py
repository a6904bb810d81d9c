"""The page of one's mutes and blocks: adding one from a profile or by handle, what it hides on
the group page, undoing it; French and English; a bad handle changes nothing."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_member, make_post, snapshot
from tests.web.conftest import OpenVisitor


async def test_a_mute_from_a_profile_hides_the_person_on_the_group_page_until_undone(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    bea = await make_account(db, web_config, "bea")
    group = await make_group(db, web_config, ana, "jardin", name="Jardin")
    await make_member(db, group, bea)
    await make_post(db, web_config, group, bea, "Message de bea")
    browser = visitors("fr")
    await browser.log_in("ana")
    profile = await browser.page("/users/bea")
    form = profile.one("form", action="/settings/muting")
    assert [b.text for b in form.find_all("button")] == ["Masquer", "Bloquer"]

    response = await browser.post("/settings/muting", {"handle": "bea", "action": "mute"})
    assert response.status_code == 303
    page = await browser.page(response.headers["location"])
    assert "Masqué·e." in page.text
    assert "@bea@" in page.one("ul", id="muted-list").text
    assert "Message de bea" not in (await browser.page("/groups/jardin")).text

    undo = page.one("ul", id="muted-list").one("form").attrs["action"]
    assert undo == f"/settings/muting/{bea.id}/unmute"
    await browser.post(undo, {})
    assert "Message de bea" in (await browser.page("/groups/jardin")).text


async def test_a_block_by_handle_is_listed_and_lifted_in_english(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "ana")
    bea = await make_account(db, web_config, "bea")
    browser = visitors("en")
    await browser.log_in("ana")

    response = await browser.post("/settings/muting", {"handle": "@bea", "action": "block"})
    page = await browser.page(response.headers["location"])
    assert "Blocked." in page.text
    blocked = page.one("ul", id="blocked-list")
    assert "@bea@" in blocked.text
    await browser.post(blocked.one("form").attrs["action"], {})
    page = await browser.page("/settings/muting")
    assert "You blocked no one." in page.text
    assert bea.id  # the person is still there, only the block is gone


async def test_an_unknown_handle_or_action_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "ana")
    browser = visitors("fr")
    await browser.log_in("ana")
    before = await snapshot(db)

    unknown = await browser.post(
        "/settings/muting", {"handle": "x@nowhere.example", "action": "mute"}
    )
    shout = await browser.post("/settings/muting", {"handle": "ana", "action": "shout"})
    empty = await browser.post("/settings/muting", {})

    assert unknown.status_code == shout.status_code == empty.status_code == 422
    assert "est connu ici sous cet identifiant" in unknown.text
    assert await snapshot(db) == before
