"""A collective's first hour: the rough edges a new person hit, each kept from coming back.

Editing someone else's post, one-click deletions, replies cut from their thread, likes that lose
the page, errors far from their field, words nobody understands, times an hour off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import socket
from typing import Any

import pytest
from starlette.applications import Starlette

from federation.jobs import job_handlers
from server.config import Config
from server.db import Pool
from server.services import posts as post_service
from server.storage import jobs as store_jobs
from server.worker import run_job
from tests.factories import count_rows, make_account, make_group, make_member, make_post, snapshot
from tests.web.conftest import OpenVisitor, StartApp, signed_in
from tests.web.markup import Element, field_error, field_value, parse


def cards(page: Element) -> list[Element]:
    return page.find_all("article", class_="post")


# 1. The edit form is for the author alone


async def test_edit_form_is_not_shown_to_someone_who_may_not_edit(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob = (
        await make_account(db, web_config, "alice"),
        await make_account(db, web_config, "bob"),
    )
    group = await make_group(db, web_config, alice, "pantry")
    await make_member(db, group, bob)
    post = await make_post(db, web_config, group, alice, "A private thought of Alice")
    bob_browser = await signed_in(visitors, "bob")

    response = await bob_browser.get(f"/posts/{post.id}/edit")

    assert response.status_code == 403
    assert "A private thought of Alice" not in response.text
    assert parse(response.text).find("textarea") is None


# 2. Deleting, removing, leaving: a question first


async def test_deleting_a_post_asks_first_and_changes_nothing_until_confirmed(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, alice, "pantry")
    post = await make_post(db, web_config, group, alice, "Bread on Saturday")
    browser = await signed_in(visitors, "alice")
    page = await browser.page(f"/posts/{post.id}")
    # No form deletes in one click: a link leads to the question.
    assert page.find("form", action=f"/posts/{post.id}/delete") is None
    link = page.one("a", href=f"/posts/{post.id}/delete")
    assert link.text == "Delete this post"
    before = await snapshot(db)

    question = await browser.page(f"/posts/{post.id}/delete")
    one_click = await browser.post(f"/posts/{post.id}/delete")

    assert question.one("h1").text == "Delete this post?"
    assert "Bread on Saturday" in question.one("blockquote").text
    assert question.one("a", href=f"/posts/{post.id}").text == "Cancel"
    assert one_click.status_code == 200
    assert await snapshot(db) == before
    response = await browser.post(f"/posts/{post.id}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    page = await browser.page(response.headers["location"])
    assert page.one(role="status").text == "The post was deleted."
    assert cards(page) == []


async def test_leaving_a_group_asks_first(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob = (
        await make_account(db, web_config, "alice"),
        await make_account(db, web_config, "bob"),
    )
    group = await make_group(db, web_config, alice, "pantry", name="Pantry")
    await make_member(db, group, bob)
    browser = await signed_in(visitors, "bob")
    page = await browser.page("/groups/pantry")
    assert page.find("form", action="/groups/pantry/leave") is None
    before = await snapshot(db)

    question = await browser.page("/groups/pantry/leave")
    one_click = await browser.post("/groups/pantry/leave")

    assert question.one("h1").text == "Leave Pantry?"
    assert one_click.status_code == 200
    assert await snapshot(db) == before
    response = await browser.post("/groups/pantry/leave", {"confirm": "yes"})
    assert response.status_code == 303
    assert (await browser.page("/groups/pantry")).one(role="status").text == "You left the group."


# 3. A reply keeps its context, even when what it answers is deleted


async def test_a_reply_shows_what_it_answers_and_keeps_its_thread_after_a_deletion(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob = (
        await make_account(db, web_config, "alice"),
        await make_account(db, web_config, "bob"),
    )
    group = await make_group(db, web_config, alice, "pantry")
    await make_member(db, group, bob)
    question = await make_post(db, web_config, group, alice, "Who has a ladder?")
    answer = await make_post(db, web_config, group, bob, "I do", in_reply_to_id=question.id)
    browser = await signed_in(visitors, "alice")

    page = await browser.page(f"/posts/{answer.id}")
    parent = page.one("aside", class_="parent")
    assert "Who has a ladder?" in parent.text
    assert page.one("h1").text == "Post by bob"

    await post_service.delete_post(db, question, alice)
    thread = await browser.page(f"/posts/{question.id}")
    reply = await browser.page(f"/posts/{answer.id}")

    assert "This post was deleted" in thread.one("p", class_="tombstone").text
    assert "Who has a ladder?" not in thread.text
    assert [c.one("div", class_="content").text for c in cards(thread)] == ["I do"]
    assert "A post that was deleted." in reply.one("aside", class_="parent").text
    assert reply.one("aside", class_="parent").find("a", href=f"/posts/{question.id}")
    # Without replies, a deleted post is gone.
    await post_service.delete_post(db, answer, bob)
    assert (await browser.get(f"/posts/{question.id}")).status_code == 404


# 4. Liking keeps the page, and says its state


async def test_liking_from_the_group_page_comes_back_to_the_post_and_says_so(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, alice, "pantry")
    post = await make_post(db, web_config, group, alice, "Bread")
    browser = await signed_in(visitors, "alice")
    button = (await browser.page("/groups/pantry")).one("button", class_="like")
    assert button.attrs["aria-pressed"] == "false"
    assert button.text == "♥ Like, 0"

    form = (await browser.page("/groups/pantry")).one("form", action=f"/posts/{post.id}/like")
    next_url = form.one("input", name="next").attrs["value"]
    response = await browser.post(f"/posts/{post.id}/like", {"next": next_url})

    assert response.status_code == 303
    assert response.headers["location"] == f"/groups/pantry#post-{post.id}"
    button = (await browser.page("/groups/pantry")).one("button", class_="like")
    assert button.attrs["aria-pressed"] == "true"
    assert button.text == "♥ Like, 1"
    # Elsewhere is not a place to go back to.
    response = await browser.post(f"/posts/{post.id}/like", {"next": "https://evil.example/"})
    assert response.headers["location"] == f"/#post-{post.id}"


# 5. A post's errors: next to the field, focused, with the limit; the URL still works


async def test_a_too_long_post_says_the_limit_next_to_the_focused_field(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await make_account(db, web_config, "alice")
    await make_group(db, web_config, alice, "pantry")
    browser = await signed_in(visitors, "alice")

    response = await browser.post("/groups/pantry/posts", {"content": "x" * 5001})

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "content") == "5,000 characters at most."
    textarea = page.one("textarea", name="content")
    assert "autofocus" in textarea.attrs
    assert page.one(id="e-content").attrs["role"] == "alert"
    # Going back to the address of the form is the group's page, not an error.
    again = await browser.get("/groups/pantry/posts")
    assert again.status_code == 303
    assert again.headers["location"] == "/groups/pantry"
    french = await signed_in(visitors, "alice", "fr")
    await french.post("/settings", {"language": "fr", "timezone": "Europe/Paris"})
    response = await french.post("/groups/pantry/posts", {"content": "x" * 5001})
    # The French way: a narrow non-breaking space between thousands.
    assert field_error(parse(response.text), "content") == "5 000 caractères au maximum."
    assert "5\u202f000 caractères" in response.text
    assert await count_rows(db, "posts") == 0


# 6. Every error at once, one wording for "required"


async def test_signup_reports_a_taken_name_with_the_other_errors(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    visitor = visitors()

    response = await visitor.post(
        "/signup", {"username": "alice", "email": "not an address", "password": "short"}
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "username") == "This name is already taken."
    assert field_error(page, "email") == "This is not an e-mail address."
    # The hint says the rule; the error does not repeat the field's name.
    assert field_error(page, "password") == "At least 10 characters."
    assert page.find("p", id="h-password") is None
    assert "autofocus" in page.one("input", name="username").attrs


# 7. Words a person understands


async def test_group_form_and_following_use_handles_not_addresses(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    browser = await signed_in(visitors, "alice")
    french = await signed_in(visitors, "alice", "fr")

    new_group = await browser.page("/groups/new")
    following = await browser.page("/following")
    new_group_fr = await french.page("/groups/new")
    following_fr = await french.page("/following")

    assert new_group.one("label", for_="f-slug").text == "Short name"
    assert "fediverse handle" in new_group.one(id="h-slug").text
    assert following.one("label", for_="f-handle").text == "Fediverse handle"
    labels_fr = [new_group_fr.one("label", for_="f-slug").text]
    labels_fr.append(following_fr.one("label", for_="f-handle").text)
    assert labels_fr == ["Nom court", "Identifiant sur le fédivers"]
    assert all("Adresse" not in label for label in labels_fr)


# 8. The administration's page in French


async def test_admin_pages_speak_french_and_show_every_setting(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "rootadmin", is_admin=True)
    browser = await signed_in(visitors, "rootadmin", "fr")
    await browser.post("/settings", {"language": "fr", "timezone": "Europe/Paris"})

    queue_response = await browser.get("/admin/queue")
    admin_response = await browser.get("/admin")
    queue, admin = parse(queue_response.text), parse(admin_response.text)

    settings = {
        dt.one("code").text: dt.one("span", class_="value").text for dt in queue.find_all("dt")
    }
    assert settings["ENTRAIDE_LOG_FORMAT"] == "text"
    assert all(settings.values()), settings
    descriptions = [dd.text for dd in queue.find_all("dd")]
    assert (
        "Langue de l'interface quand ni le compte ni le navigateur ne choisissent : fr ou en."
        in descriptions
    )
    assert "Aucun serveur en échec." in queue.text
    assert "Aucune inscription en attente." in admin.text
    for response in (queue_response, admin_response):
        # French typography: a non-breaking space before a colon, never none or a plain one.
        words = re.sub(r"<[^>]+>", "", response.text)
        assert re.findall(r".{20}(?<![\u00a0\u202f]):(?=\s)", words) == []


# 10. A person's page lists their posts


async def test_profile_lists_the_posts_the_reader_may_read(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await make_account(db, web_config, "alice")
    public = await make_group(db, web_config, alice, "pantry")
    private = await make_group(db, web_config, alice, "circle", visibility="members")
    await make_post(db, web_config, public, alice, "Open to all")
    await make_post(db, web_config, private, alice, "Between us")
    stranger = visitors()
    herself = await signed_in(visitors, "alice")

    def texts(page: Element) -> list[str]:
        return [c.one("div", class_="content").text for c in cards(page)]

    assert texts(await stranger.page("/users/alice")) == ["Open to all"]
    assert texts(await herself.page("/users/alice")) == ["Between us", "Open to all"]


# 12. Times in the reader's zone, to the minute


async def test_visitors_see_the_instance_zone_and_sign_up_takes_the_browser_zone(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    app = await start_app(timezone="America/Montreal")
    alice = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, alice, "pantry")
    post = await make_post(db, web_config, group, alice, "Hello")
    visitor = visitors(on=app)

    shown = (await visitor.page("/groups/pantry")).one("time").text
    response = await visitor.post(
        "/signup",
        {"username": "bob", "email": "bob@example.org", "password": "a long password",
         "timezone": "Asia/Tokyo"},
    )  # fmt: skip
    stranger = visitors(on=app)
    await stranger.post(
        "/signup",
        {"username": "carol", "email": "c@example.org", "password": "a long password",
         "timezone": "Nowhere/Atlantis"},
    )  # fmt: skip

    montreal = post.created_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Montreal"))
    assert montreal.strftime("%-I:%M") in shown
    assert shown.count(":") == 1  # no seconds
    assert response.status_code == 303
    async with db.acquire() as conn:
        zones = dict(
            await conn.fetch(
                "SELECT a.name, c.timezone FROM accounts c JOIN actors a ON a.id = c.actor_id"
            )
        )
    assert zones["bob"] == "Asia/Tokyo"
    assert zones["carol"] == "America/Montreal"  # an unknown zone: the instance's
    signup = await visitors(on=app).get("/signup")
    page = parse(signup.text)
    assert page.one("input", name="timezone").attrs.get("data-browser-timezone") == ""
    assert page.one("script").attrs["src"] == "/static/timezone.js"
    assert "script-src 'self'" in signup.headers["content-security-policy"]
    other = await visitors(on=app).get("/login")
    assert "script-src 'none'" in other.headers["content-security-policy"]


# 13. Deleting one's account and a group


async def test_account_deletion_is_on_the_settings_page(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    browser = await signed_in(visitors, "alice")

    page = await browser.page("/settings")

    section = page.one("section", aria_labelledby="delete")
    assert section.one("form").attrs["action"] == "/settings/delete"
    response = await browser.post("/settings/delete", {"password": "wrong password!"})
    assert response.status_code == 422
    assert field_error(parse(response.text), "password") == "Wrong password."


async def test_an_owner_deletes_a_group_after_a_question(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob = (
        await make_account(db, web_config, "alice"),
        await make_account(db, web_config, "bob"),
    )
    group = await make_group(db, web_config, alice, "pantry", name="Pantry")
    await make_member(db, group, bob)
    await make_post(db, web_config, group, bob, "Bread")
    owner, member = await signed_in(visitors, "alice"), await signed_in(visitors, "bob")
    settings = await owner.page("/groups/pantry/settings")
    assert settings.one("a", href="/groups/pantry/delete").text == "Delete the group"
    before = await snapshot(db)

    refused = await member.post("/groups/pantry/delete", {"confirm": "yes"})
    question = await owner.page("/groups/pantry/delete")
    unconfirmed = await owner.post("/groups/pantry/delete")

    assert refused.status_code == 403
    assert question.one("h1").text == "Delete Pantry?"
    assert unconfirmed.status_code == 200
    assert await snapshot(db) == before
    response = await owner.post("/groups/pantry/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert (await owner.page("/")).one(role="status").text == "The group was deleted."
    assert (await owner.get("/groups/pantry")).status_code == 404
    assert await count_rows(db, "posts") == 0
    # Peers are told: a Delete of the group actor is queued; its document answers 410.
    async with db.acquire() as conn:
        kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM jobs")]
    assert "send_account_delete" in kinds
    gone = await owner.get("/groups/pantry", headers={"accept": "application/activity+json"})
    assert gone.status_code == 410
    # The name stays taken: no new group inherits what peers remember.
    again = await owner.post(
        "/groups", {"slug": "pantry", "name": "New", "visibility": "public", "join_policy": "open"}
    )
    assert field_error(parse(again.text), "slug") == "This name is already taken."


# 14. Actions where people look


async def test_the_feed_shows_reply_counts_and_actions_without_the_timestamp(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob = (
        await make_account(db, web_config, "alice"),
        await make_account(db, web_config, "bob"),
    )
    group = await make_group(db, web_config, alice, "pantry")
    await make_member(db, group, bob)
    post = await make_post(db, web_config, group, bob, "Bread")
    await make_post(db, web_config, group, alice, "Yes!", in_reply_to_id=post.id)
    await make_post(db, web_config, group, bob, "Great", in_reply_to_id=post.id)
    author, moderator = await signed_in(visitors, "bob"), await signed_in(visitors, "alice")

    mine = cards(await author.page("/groups/pantry"))[0].one("footer")
    theirs = cards(await moderator.page("/groups/pantry"))[0].one("footer")
    thread = await moderator.page(f"/posts/{post.id}")

    assert mine.one("a", href=f"/posts/{post.id}#replies").text == "2 replies"
    assert mine.find("a", href=f"/posts/{post.id}/edit") is not None
    assert mine.find("a", href=f"/posts/{post.id}/delete") is not None
    assert theirs.find("a", href=f"/posts/{post.id}/edit") is None
    assert theirs.find("a", href=f"/posts/{post.id}/delete") is not None  # a moderator
    # Delivery figures: one compact line for organizers, no box.
    assert thread.find("section", aria_labelledby="federation") is None
    assert "Sent to other servers:" in thread.one("p", class_="meta federation").text
    assert (await author.page(f"/posts/{post.id}")).find("p", class_="meta federation") is None


# 15. Saying it worked


async def test_creating_a_group_joining_and_approving_say_it_worked_once(
    visitors: OpenVisitor, db: Pool, web_config: Config, start_app: StartApp
) -> None:
    app = await start_app(registrations="approval")
    await make_account(db, web_config, "rootadmin", is_admin=True)
    bob = await make_account(db, web_config, "bob")
    waiting = await make_account(
        db, dataclasses.replace(web_config, registrations="approval"), "newbie", by_operator=False
    )
    admin, member = visitors(on=app), visitors(on=app)
    await admin.log_in("rootadmin")
    await member.log_in("bob")
    assert bob.status == "active"

    created = await admin.post(
        "/groups",
        {
            "slug": "pantry",
            "name": "Pantry",
            "visibility": "public",
            "join_policy": "open",
            "language": "en",
        },
    )
    first = await admin.page(created.headers["location"])
    second = await admin.page("/groups/pantry")
    joined = await member.post("/groups/pantry/join")
    approved = await admin.post(f"/admin/accounts/{waiting.id}", {"decision": "approve"})

    assert "Your group is ready" in first.one(role="status").text
    assert second.find(role="status") is None  # once only
    assert (await member.page(joined.headers["location"])).one(role="status").text == (
        "Welcome to the group!"
    )
    assert (await admin.page(approved.headers["location"])).one(role="status").text == (
        "The account is approved; its owner can log in now."
    )
    assert field_value(await admin.page("/groups/new"), "name") == ""


# 11. A follow that cannot be made says so, to the person and in the log


async def test_a_follow_of_an_unknown_server_tells_the_person_and_the_log(
    app: Starlette,
    visitors: OpenVisitor,
    db: Pool,
    web_config: Config,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def no_such_host(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # No query leaves the machine: the resolver answers "no such name" as for .invalid.
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_host)
    await make_account(db, web_config, "alice")
    browser = await signed_in(visitors, "alice")
    response = await browser.post("/following", {"handle": "@nobody@example.invalid"})
    assert response.headers["location"] == "/following?queued=1"
    async with db.acquire() as conn:
        jobs = await store_jobs.claim_jobs(conn, limit=10, lease_seconds=60)
    [job] = [j for j in jobs if j.kind == "resolve_and_follow"]

    with caplog.at_level(logging.WARNING):
        await run_job(db, job_handlers(app.state.federation), job)

    assert any("@nobody@example.invalid" in r.getMessage() for r in caplog.records)
    alert = (await browser.page("/following?queued=1")).one(role="alert")
    assert "Could not follow @nobody@example.invalid" in alert.text
    assert "its server could not be reached" in alert.text
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0
    # Trying again clears the old failures.
    await browser.post("/following", {"handle": "@somebody@example.org"})
    assert (await browser.page("/following")).find(role="alert") is None


# What axe cannot see: which person a row's button is for, whose post a link opens


async def test_row_buttons_and_post_links_say_whom_they_are_about(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, bob, carol = [await make_account(db, web_config, n) for n in ("alice", "bob", "carol")]
    group = await make_group(db, web_config, alice, "pantry", join_policy="approval")
    await make_member(db, group, carol)  # a request: the group wants approval
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO memberships (group_id, actor_id) VALUES ($1, $2)", group.id, bob.id
        )
    await make_post(db, web_config, group, bob, "Bread")
    browser = await signed_in(visitors, "alice")

    members = await browser.page("/groups/pantry/members")
    feed = await browser.page("/groups/pantry")

    names = [b.text for b in members.find_all("button")] + [
        a.text for a in members.find_all("a", class_="button secondary")
    ]
    assert "Approve carol" in names and "Reject carol" in names
    assert "Change role of bob" in names and "Remove bob" in names
    assert members.one("label", for_=f"role-{bob.id}").text == "Role of bob"
    link = cards(feed)[0].one("a", class_="meta when")
    assert link.text.endswith(", post by bob")
