"""Anonymous posts across two live instances: the group publishes them, and who wrote one is
reachable by the group's moderators alone, through a view that logs each look."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.test_live import browser, copy_on_b, followed_group, unique


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("anonymous"), 2) as (a, b):
        yield a, b


def test_anonymous_post_author_reaches_no_one_but_a_moderator_who_looks(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)  # public, followed from B: the widest audience
    author_name = f"zoe{secrets.token_hex(4)}"
    a.create_user(author_name)
    author = browser(a, author_name)
    author.post_form(f"/groups/{group.slug}/join", {}, page=f"/groups/{group.slug}")
    response = group.owner.post_form(
        f"/groups/{group.slug}/anonymous", {"anonymous_posts": "on"},
        page=f"/groups/{group.slug}/moderation",
    )  # fmt: skip
    assert response.status_code == 303, response.text
    text = f"Je suis victime de violences {secrets.token_hex(4)}"
    response = author.post_form(
        f"/groups/{group.slug}/posts", {"content": text, "anonymous": "on"},
        page=f"/groups/{group.slug}",
    )  # fmt: skip
    assert response.status_code == 303, response.text
    [post] = a.sql("SELECT id, author_id FROM posts WHERE content = $1", text)
    assert post["author_id"] == group.group_id_on_a
    post_uri = f"{a.base_url}/posts/{post['id']}"
    copy = wait_until(lambda: copy_on_b(b, post_uri))

    # Nothing a non-moderator can reach names the author: pages, JSON, headers, B's copy.
    member_name = unique("ana")
    a.create_user(member_name)
    member = browser(a, member_name)
    member.post_form(f"/groups/{group.slug}/join", {}, page=f"/groups/{group.slug}")
    reachable = [
        httpx.get(post_uri, timeout=10),
        httpx.get(post_uri, headers={"Accept": "application/activity+json"}, timeout=10),
        httpx.get(f"{post_uri}/activity", headers={"Accept": "application/activity+json"}),
        httpx.get(f"{post_uri}/announce", headers={"Accept": "application/activity+json"}),
        httpx.get(f"{a.base_url}/api/v1/statuses/{post['id']}", timeout=10),
        httpx.get(f"{a.base_url}/api/v1/timelines/public", timeout=10),
        member.get(f"/posts/{post['id']}"),
        member.get(f"/groups/{group.slug}"),
        group.follower.get(f"/posts/{copy['id']}"),
        group.follower.get("/following"),
    ]
    for response in reachable:
        assert author_name not in response.text, response.url
        assert all(author_name not in v for v in response.headers.values())
    outgoing = a.sql("SELECT payload::text AS body FROM outbox_activities WHERE post_id = $1",
                     post["id"])  # fmt: skip
    assert outgoing and all(author_name not in row["body"] for row in outgoing)
    [on_b] = b.sql("SELECT a.name FROM posts p JOIN actors a ON a.id = p.author_id"
                   " WHERE p.id = $1", copy["id"])  # fmt: skip
    assert on_b["name"] == group.slug
    assert author_name not in b.log()
    assert "See who wrote it" not in member.get(f"/posts/{post['id']}").text
    refused = member.post_form(f"/posts/{post['id']}/author", {}, page=f"/posts/{post['id']}")
    assert refused.status_code == 403 and author_name not in refused.text
    # The log lines written since the post name it by number only.
    assert author_name not in a.log().split(f"/groups/{group.slug}/posts", 1)[-1]

    # A moderator looks, and the look is logged.
    revealed = group.owner.post_form(f"/posts/{post['id']}/author", {}, page=f"/posts/{post['id']}")
    assert revealed.status_code == 200 and f"@{author_name}" in revealed.text
    log = a.sql("SELECT action, target FROM moderation_log WHERE action = 'reveal_author'")
    assert log == [{"action": "reveal_author", "target": f"post {post['id']}"}]


def test_anonymous_post_waits_for_approval_when_the_group_asks(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    group.owner.post_form(
        f"/groups/{group.slug}/anonymous", {"anonymous_posts": "approval"},
        page=f"/groups/{group.slug}/moderation",
    )  # fmt: skip
    text = f"Besoin de parler {secrets.token_hex(4)}"
    response = group.owner.post_form(
        f"/groups/{group.slug}/posts", {"content": text, "anonymous": "on"},
        page=f"/groups/{group.slug}",
    )  # fmt: skip
    assert response.status_code == 303
    assert a.sql("SELECT 1 FROM posts WHERE content = $1", text) == []
    assert text not in httpx.get(f"{a.base_url}/groups/{group.slug}").text
    page = group.owner.get(f"/groups/{group.slug}/moderation").text
    assert text in page
    [pending] = a.sql("SELECT id FROM anonymous_posts WHERE state = 'pending'")
    response = group.owner.post_form(
        f"/groups/{group.slug}/anonymous/{pending['id']}/decide", {"decision": "approve"},
        page=f"/groups/{group.slug}/moderation",
    )  # fmt: skip
    assert response.status_code == 303
    [post] = a.sql("SELECT id FROM posts WHERE content = $1", text)
    wait_until(lambda: copy_on_b(b, f"{a.base_url}/posts/{post['id']}"))
    assert a.sql("SELECT content FROM anonymous_posts WHERE id = $1", pending["id"]) == [
        {"content": ""}
    ]
