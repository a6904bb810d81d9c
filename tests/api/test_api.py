"""The client API's endpoints in Mastodon's shapes: instance, accounts, timelines and their
pagination, statuses, follows, notifications, search; scopes; bad input changing nothing."""

from __future__ import annotations

import re

import httpx
import pytest

from server.config import Config
from server.db import Pool
from server.models import Account, Group
from server.services import posts
from tests.api.conftest import bearer, service_token
from tests.factories import make_account, make_group, make_member, make_post, snapshot


@pytest.fixture
async def world(db: Pool, web_config: Config) -> dict[str, object]:
    owner = await make_account(db, web_config, "ada")
    member = await make_account(db, web_config, "bea")
    outsider = await make_account(db, web_config, "cyd")
    circle = await make_group(db, web_config, owner, "circle", name="The Circle")
    secret = await make_group(db, web_config, owner, "secret", visibility="members")
    await make_member(db, circle, member)
    return {"owner": owner, "member": member, "outsider": outsider, "circle": circle,
            "secret": secret}  # fmt: skip


async def test_instance_and_custom_emojis(client: httpx.AsyncClient) -> None:
    v1 = (await client.get("/api/v1/instance")).json()
    v2 = (await client.get("/api/v2/instance")).json()
    emojis = await client.get("/api/v1/custom_emojis")

    assert v1["version"].startswith("4.") and "Entraide" in v1["version"]
    assert v2["configuration"]["statuses"]["max_characters"] == 5000
    assert v2["languages"] == ["fr", "en"]
    assert emojis.json() == []


async def test_verify_credentials_and_a_group_as_an_account(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])

    me = (await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    group = (await client.get("/api/v1/accounts/lookup", params={"acct": "circle"})).json()
    person = (await client.get(f"/api/v1/accounts/{me['id']}")).json()

    assert me["username"] == "bea" and me["group"] is False and "source" in me
    assert group["group"] is True and group["display_name"] == "The Circle"
    assert group["followers_count"] == 2  # its two members
    assert person["acct"] == "bea"


async def test_home_timeline_pages_with_links_as_mastodon_does(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    made = [await make_post(db, web_config, circle, owner, f"Post {n}") for n in range(5)]
    ids = [str(p.id) for p in made]
    headers = bearer(await service_token(db, world["member"]))

    first = await client.get("/api/v1/timelines/home", params={"limit": 2}, headers=headers)
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["link"])
    )
    older = await client.get(links["next"], headers=headers)
    newer_than_first = await client.get(
        "/api/v1/timelines/home", params={"min_id": ids[0], "limit": 2}, headers=headers
    )
    since = await client.get(
        "/api/v1/timelines/home", params={"since_id": ids[0], "limit": 2}, headers=headers
    )

    assert [s["id"] for s in older.json()] == [ids[2], ids[1]]
    # min_id: the page just after it; since_id: the newest page after it (Mastodon's rules)
    assert [s["id"] for s in newer_than_first.json()] == [ids[2], ids[1]]
    assert [s["id"] for s in since.json()] == [ids[4], ids[3]]
    assert first.json()[0]["account"]["username"] == "ada"
    assert first.json()[0]["mentions"][0]["acct"] == "circle"


async def test_members_only_posts_stay_out_of_others_timelines(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    secret, owner = world["secret"], world["owner"]
    assert isinstance(secret, Group) and isinstance(owner, Account)
    hidden = await make_post(db, web_config, secret, owner, "Members only")
    headers = bearer(await service_token(db, world["outsider"]))

    public = (await client.get("/api/v1/timelines/public")).json()
    status = await client.get(f"/api/v1/statuses/{hidden.id}", headers=headers)
    group_id = secret.id
    statuses = (await client.get(f"/api/v1/accounts/{group_id}/statuses", headers=headers)).json()

    assert all(s["id"] != str(hidden.id) for s in public)
    assert status.status_code == 404 and status.json() == {"error": "Record not found"}
    assert statuses == []


async def test_post_to_a_group_by_mention_then_reply_like_edit_delete(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    headers = bearer(await service_token(db, world["member"]))

    created = await client.post(
        "/api/v1/statuses",
        json={"status": "@circle Who can help on Saturday?", "spoiler_text": "moving"},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    status = created.json()
    assert status["spoiler_text"] == "moving" and status["sensitive"] is True
    assert "Who can help" in status["content"] and "@circle" not in status["content"]
    reply = await client.post(
        "/api/v1/statuses",
        data={"status": "I can!", "in_reply_to_id": status["id"]},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    liked = await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=headers)
    again = await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=headers)
    context = (await client.get(f"/api/v1/statuses/{status['id']}/context")).json()
    edited = await client.put(
        f"/api/v1/statuses/{status['id']}", json={"status": "Edited"}, headers=headers
    )
    unliked = await client.post(f"/api/v1/statuses/{status['id']}/unfavourite", headers=headers)
    deleted = await client.delete(f"/api/v1/statuses/{reply.json()['id']}", headers=headers)

    assert liked.json()["favourited"] is True and liked.json()["favourites_count"] == 1
    assert again.json()["favourites_count"] == 1
    assert [d["id"] for d in context["descendants"]] == [reply.json()["id"]]
    assert edited.json()["content"] == "<p>Edited</p>" and edited.json()["edited_at"]
    assert unliked.json()["favourited"] is False
    assert deleted.status_code == 200 and deleted.json()["text"] == "I can!"
    async with db.acquire() as conn:
        jobs = await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'federate_post'")
    assert jobs == 4  # create, reply, edit, delete: the same jobs as the web's forms


async def test_follow_joins_a_group_and_relationships_say_so(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    circle = world["circle"]
    assert isinstance(circle, Group)
    headers = bearer(await service_token(db, world["outsider"]))

    followed = await client.post(f"/api/v1/accounts/{circle.id}/follow", headers=headers)
    rel = await client.get(
        "/api/v1/accounts/relationships", params={"id[]": str(circle.id)}, headers=headers
    )
    left = await client.post(f"/api/v1/accounts/{circle.id}/unfollow", headers=headers)

    assert followed.json()["following"] is True
    assert rel.json()[0]["following"] is True
    assert left.json()["following"] is False


async def test_notifications_of_likes_and_replies(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner, member = world["circle"], world["owner"], world["member"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    assert isinstance(member, Account)
    post = await make_post(db, web_config, circle, owner, "Thanks all")
    await posts.toggle_like(db, web_config, post, member)
    await make_post(db, web_config, circle, member, "You're welcome", in_reply_to_id=post.id)
    headers = bearer(await service_token(db, owner))

    listed = (await client.get("/api/v1/notifications", headers=headers)).json()
    count = (await client.get("/api/v1/notifications/unread_count", headers=headers)).json()
    await client.post(f"/api/v1/notifications/{listed[0]['id']}/dismiss", headers=headers)
    after_dismiss = (await client.get("/api/v1/notifications", headers=headers)).json()
    await client.post("/api/v1/notifications/clear", headers=headers)
    after_clear = (await client.get("/api/v1/notifications", headers=headers)).json()

    assert sorted(n["type"] for n in listed) == ["favourite", "mention"]
    assert all(n["account"]["username"] == "bea" for n in listed)
    assert count == {"count": 2}
    assert len(after_dismiss) == 1
    assert after_clear == []


async def test_search_finds_groups_people_and_posts(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    await make_post(db, web_config, circle, owner, "Soup kitchen on Sunday")

    found = (await client.get("/api/v2/search", params={"q": "circ"})).json()
    words = (await client.get("/api/v2/search", params={"q": "kitchen"})).json()

    assert [a["acct"] for a in found["accounts"]] == ["circle"]
    assert "Soup kitchen" in words["statuses"][0]["content"]


async def test_read_token_cannot_post(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    headers = bearer(await service_token(db, world["member"], scope="read"))
    before = await snapshot(db)

    response = await client.post("/api/v1/statuses", json={"status": "@circle hi"}, headers=headers)

    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}
    assert await snapshot(db) == before


async def test_no_token_gets_401_and_rate_limit_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/timelines/home")
    unknown = await client.get("/api/v1/nothing_here")

    assert response.status_code == 401
    assert response.json() == {"error": "The access token is invalid"}
    assert response.headers["x-ratelimit-limit"] == "300"
    assert int(response.headers["x-ratelimit-remaining"]) < 300
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found"}


async def test_status_of_100000_characters_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    headers = bearer(await service_token(db, world["member"]))
    before = await snapshot(db)

    response = await client.post(
        "/api/v1/statuses", json={"status": "@circle " + "a" * 100_000}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["error"].startswith("Validation failed")
    assert await snapshot(db) == before


async def test_reply_to_a_post_the_person_cannot_see_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    secret, owner = world["secret"], world["owner"]
    assert isinstance(secret, Group) and isinstance(owner, Account)
    hidden = await make_post(db, web_config, secret, owner, "Members only")
    headers = bearer(await service_token(db, world["member"]))
    before = await snapshot(db)

    response = await client.post(
        "/api/v1/statuses",
        json={"status": "Let me in", "in_reply_to_id": str(hidden.id)},
        headers=headers,
    )

    assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    assert await snapshot(db) == before


async def test_visibility_the_group_does_not_allow_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    owner, secret = world["owner"], world["secret"]
    assert isinstance(owner, Account) and isinstance(secret, Group)
    headers = bearer(await service_token(db, owner))
    before = await snapshot(db)

    public_in_members_group = await client.post(
        "/api/v1/statuses", json={"status": "@secret hi", "visibility": "public"}, headers=headers
    )
    direct_in_public_group = await client.post(
        "/api/v1/statuses", json={"status": "@circle hi", "visibility": "direct"}, headers=headers
    )

    assert public_in_members_group.status_code == 422
    assert direct_in_public_group.status_code == 422
    assert "visibility" in public_in_members_group.json()["error"]
    assert await snapshot(db) == before
    # The group's own visibility is accepted.
    ok = await client.post(
        "/api/v1/statuses", json={"status": "@secret hi", "visibility": "private"}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["visibility"] == "private"


async def test_status_addressing_no_group_of_the_person_is_refused(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    headers = bearer(await service_token(db, world["outsider"]))
    before = await snapshot(db)

    nowhere = await client.post("/api/v1/statuses", json={"status": "hello"}, headers=headers)
    not_member = await client.post(
        "/api/v1/statuses", json={"status": "@circle hello"}, headers=headers
    )

    assert nowhere.status_code == 422 and not_member.status_code == 422
    assert await snapshot(db) == before


async def test_reply_in_a_group_the_person_has_not_joined_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    circle, owner = world["circle"], world["owner"]
    assert isinstance(circle, Group) and isinstance(owner, Account)
    post = await make_post(db, web_config, circle, owner, "Open to all readers")
    headers = bearer(await service_token(db, world["outsider"]))
    before = await snapshot(db)

    response = await client.post(
        "/api/v1/statuses", json={"status": "Me too", "in_reply_to_id": str(post.id)},
        headers=headers,
    )  # fmt: skip

    assert response.status_code == 403
    assert response.json() == {"error": "Only members of the group can post in it."}
    assert await snapshot(db) == before
