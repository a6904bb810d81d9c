"""Posts: members write, authors edit, authors and moderators delete; each change queues a job."""

from __future__ import annotations

import json

import asyncpg
import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, NotFound
from server.services.groups import join_group, set_member_role
from server.services.posts import (
    FEDERATE_POST,
    PAGE_SIZE,
    create_post,
    delete_post,
    edit_post,
    get_post,
    list_group_posts,
    list_replies,
)
from tests.factories import count_rows, make_account, make_accounts, make_group, make_post, snapshot


async def jobs(db: Pool) -> list[tuple[str, dict[str, object]]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT kind, payload FROM jobs ORDER BY id")
    return [(r["kind"], json.loads(r["payload"])) for r in rows]


# Writing


async def test_member_creates_post_with_rendered_html_and_one_job(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await create_post(
        db,
        config,
        group,
        owner,
        content="Seeds on Saturday <b>9am</b>\n\nask @bob or @carol@remote.example",
        content_warning="  food  ",
    )
    assert (post.group_id, post.group_slug, post.author_id) == (group.id, "garden", owner.id)
    assert post.content_warning == "food"
    assert "&lt;b&gt;9am&lt;/b&gt;" in post.content_html
    assert 'href="http://127.0.0.1:8000/@bob"' in post.content_html
    assert 'href="https://remote.example/@carol"' in post.content_html
    assert await jobs(db) == [(FEDERATE_POST, {"post_id": post.id, "action": "create"})]


async def test_non_member_cannot_post_and_nothing_is_stored(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "garden")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await create_post(db, config, group, bob, content="let me in")
    assert await snapshot(db) == before


async def test_pending_member_cannot_post_and_nothing_is_stored(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "garden", join_policy="approval")
    await join_group(db, group, bob)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await create_post(db, config, group, bob, content="not yet")
    assert await snapshot(db) == before


BAD_POST_FIELDS = [
    ("content", {"content": ""}),
    ("content", {"content": " \n\n "}),
    ("content", {"content": "x" * 5001}),
    ("content", {"content": "nul \x00"}),
    ("content_warning", {"content_warning": "w" * 201}),
]


async def test_create_post_rejects_each_bad_field_and_stores_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    before = await snapshot(db)
    for field, values in BAD_POST_FIELDS:
        form = {"content": "fine", "content_warning": "", **values}
        with pytest.raises(Invalid) as caught:
            await create_post(db, config, group, owner, **form)
        assert set(caught.value.fields) == {field}, values
    assert await snapshot(db) == before


async def test_post_and_its_job_are_written_in_one_transaction(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    async with db.acquire() as conn:
        await conn.execute("ALTER TABLE jobs ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
    before = await snapshot(db)
    with pytest.raises(asyncpg.CheckViolationError):
        await create_post(db, config, group, owner, content="lost with its job")
    assert await snapshot(db) == before


# Replies


async def test_reply_is_listed_under_its_post_not_on_the_group_page(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "question")
    reply = await make_post(db, config, group, owner, "answer", in_reply_to_id=post.id)
    assert reply.in_reply_to_id == post.id
    assert [p.id for p in await list_replies(db, post)] == [reply.id]
    assert [p.id for p in (await list_group_posts(db, group, owner)).posts] == [post.id]
    assert await count_rows(db, "jobs") == 2


async def test_reply_to_post_of_another_group_or_unknown_post_is_not_found(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    garden, kitchen = [await make_group(db, config, owner, s) for s in ("garden", "kitchen")]
    elsewhere = await make_post(db, config, kitchen, owner, "in the kitchen")
    before = await snapshot(db)
    for parent in (elsewhere.id, elsewhere.id + 1000):
        with pytest.raises(NotFound):
            await create_post(db, config, garden, owner, content="hi", in_reply_to_id=parent)
    assert await snapshot(db) == before


# Editing and deleting


async def test_author_edits_post_and_a_job_is_queued(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "frist")
    edited = await edit_post(db, config, post, owner, content="first", content_warning=" cw ")
    assert (edited.content, edited.content_html, edited.content_warning) == (
        "first",
        "<p>first</p>",
        "cw",
    )
    assert edited.updated_at is not None
    assert [j[1]["action"] for j in await jobs(db)] == ["create", "update"]


async def test_only_the_author_edits_even_a_moderator_cannot(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "garden")
    await join_group(db, group, bob)
    post = await make_post(db, config, group, bob, "mine")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await edit_post(db, config, post, owner, content="yours now", content_warning="")
    assert await snapshot(db) == before


async def test_edit_rejects_bad_content_and_changes_nothing(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "kept")
    before = await snapshot(db)
    with pytest.raises(Invalid):
        await edit_post(db, config, post, owner, content="", content_warning="")
    with pytest.raises(Invalid):
        await edit_post(db, config, post, owner, content="ok", content_warning="w" * 201)
    assert await snapshot(db) == before


async def test_author_deletes_post_which_becomes_a_tombstone(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "oops")
    await delete_post(db, post, owner)
    with pytest.raises(NotFound):
        await get_post(db, post.id, owner)
    assert (await list_group_posts(db, group, owner)).posts == []
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT content, content_html, deleted_at FROM posts WHERE id = $1", post.id
        )
    assert (row["content"], row["content_html"]) == ("", "")
    assert row["deleted_at"] is not None
    assert [j[1] for j in await jobs(db)][-1] == {"post_id": post.id, "action": "delete"}


async def test_deleted_reply_is_not_listed(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "question")
    reply = await make_post(db, config, group, owner, "answer", in_reply_to_id=post.id)
    await delete_post(db, reply, owner)
    assert await list_replies(db, post) == []


async def test_moderator_deletes_someone_elses_post(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "garden")
    await join_group(db, group, bob)
    await join_group(db, group, carol)
    await set_member_role(db, group, owner, carol.id, "moderator")
    post = await make_post(db, config, group, bob, "spam")
    await delete_post(db, post, carol)
    with pytest.raises(NotFound):
        await get_post(db, post.id, carol)


async def test_member_cannot_delete_someone_elses_post(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "garden")
    await join_group(db, group, bob)
    post = await make_post(db, config, group, owner, "not yours")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await delete_post(db, post, bob)
    assert await snapshot(db) == before


# Reading


async def test_group_posts_come_newest_first_in_pages(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    made = [await make_post(db, config, group, owner, f"post {i}") for i in range(PAGE_SIZE + 5)]
    newest_first = [p.id for p in reversed(made)]
    first = await list_group_posts(db, group, None)
    assert [p.id for p in first.posts] == newest_first[:PAGE_SIZE]
    assert first.next_before == newest_first[PAGE_SIZE - 1]
    second = await list_group_posts(db, group, None, before=first.next_before)
    assert [p.id for p in second.posts] == newest_first[PAGE_SIZE:]
    assert second.next_before is None
    assert await count_rows(db, "jobs") == PAGE_SIZE + 5


async def test_a_full_last_page_has_no_next_page(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    for i in range(PAGE_SIZE):
        await make_post(db, config, group, owner, f"post {i}")
    page = await list_group_posts(db, group, None)
    assert len(page.posts) == PAGE_SIZE
    assert page.next_before is None


async def test_get_post_returns_post_and_group(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "garden")
    post = await make_post(db, config, group, owner, "hello")
    found, found_group = await get_post(db, post.id, None)
    assert found == post
    assert found_group.id == group.id
    with pytest.raises(NotFound):
        await get_post(db, post.id + 1000, None)
