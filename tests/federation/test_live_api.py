"""Apps on live instances: a member of B searches with `resolve=true` for a group and a post of
A through B's client API, which fetches them over the network, then follows the group."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.federation.instances import LiveInstance, Member, live_instances, wait_until

REDIRECT = "https://app.example/callback"


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("live-api"), 2) as (a, b):
        yield a, b


def api_token(instance: LiveInstance, member: Member) -> str:
    """Register an app and go through the consent page as the signed-in member."""
    app = httpx.post(
        f"{instance.base_url}/api/v1/apps",
        data={"client_name": "Live", "redirect_uris": REDIRECT, "scopes": "read write follow"},
    ).json()
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
             "scope": "read write follow"}  # fmt: skip
    page = member.get("/oauth/authorize?" + urlencode(query)).text
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)
    }
    answer = member.client.post("/oauth/authorize", data={**fields, "decision": "approve"})
    assert answer.status_code == 303, answer.text[:300]
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    token = httpx.post(
        f"{instance.base_url}/oauth/token",
        data={"grant_type": "authorization_code", "client_id": app["client_id"],
              "client_secret": app["client_secret"], "redirect_uri": REDIRECT, "code": code},
    )  # fmt: skip
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def test_search_resolves_a_group_and_a_post_elsewhere_then_follows_and_reads_its_petition(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    owner, slug, reader = (f"{p}_{secrets.token_hex(3)}" for p in ("alice", "grp", "bob"))
    a.create_user(owner)
    a.create_group(slug, owner)
    b.create_user(reader)
    writer = a.browser(owner)
    text = f"Soupe solidaire {secrets.token_hex(3)}"
    sent = writer.post_form(
        f"/groups/{slug}/posts", {"content": text, "content_warning": ""}, page=f"/groups/{slug}"
    )
    assert sent.status_code == 303
    post_id = a.sql("SELECT id FROM posts WHERE content = $1", text)[0]["id"]
    token = api_token(b, b.browser(reader))
    api = httpx.Client(
        base_url=b.base_url, headers={"authorization": f"Bearer {token}"}, timeout=20
    )
    handle = f"@{slug}@{a.domain}"

    local_only = api.get("/api/v2/search", params={"q": handle}).json()
    anonymous = httpx.get(
        f"{b.base_url}/api/v2/search", params={"q": handle, "resolve": "true"}
    ).json()
    group = api.get("/api/v2/search", params={"q": handle, "resolve": "true"}).json()
    post = api.get(
        "/api/v2/search", params={"q": f"{a.base_url}/posts/{post_id}", "resolve": "true"}
    ).json()

    # Without resolve, or without a token, nothing is fetched: B knew neither.
    assert local_only["accounts"] == [] and anonymous["accounts"] == []
    (account,) = group["accounts"]
    assert account["acct"] == f"{slug}@{a.domain}" and account["group"] is True
    (status,) = post["statuses"]
    assert status["uri"] == f"{a.base_url}/posts/{post_id}" and text in status["content"]
    shown = api.get(f"/api/v1/statuses/{status['id']}").json()
    assert shown["id"] == status["id"]

    followed = api.post(f"/api/v1/accounts/{account['id']}/follow")
    assert followed.status_code == 200, followed.text

    def relationship() -> bool:
        found = api.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})
        return bool(found.json()[0]["following"])

    assert wait_until(relationship)
    follower = a.sql(
        "SELECT f.state FROM follows f JOIN actors fa ON fa.id = f.follower_id "
        "JOIN actors ta ON ta.id = f.target_id WHERE fa.name = $1 AND ta.name = $2",
        reader,
        slug,
    )
    assert follower == [{"state": "accepted"}]

    # Followed, the group's petition reaches B and reads as a status of the group in the app.
    published = writer.post_form(
        f"/groups/{slug}/petitions",
        {"title": "Rouvrez la halte de nuit", "addressee": "Préfecture du Rhône",
         "body": "Nous demandons un local chauffé.", "goal": "10", "deadline": ""},
        page=f"/groups/{slug}",
    )  # fmt: skip
    assert published.status_code == 303, published.text
    petition_url = a.base_url + published.headers["location"]

    def petition_in_home() -> dict[str, Any] | None:
        home = api.get("/api/v1/timelines/home").json()
        return next((s for s in home if s["card"] and s["card"]["url"] == petition_url), None)

    shown_petition = wait_until(petition_in_home)
    assert shown_petition["account"]["acct"] == f"{slug}@{a.domain}"
    assert "Préfecture du Rhône" in shown_petition["content"]
    api.close()


def test_resolve_refuses_what_is_not_there_and_keeps_nothing(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    reader = f"cyd_{secrets.token_hex(3)}"
    b.create_user(reader)
    token = api_token(b, b.browser(reader))
    headers = {"authorization": f"Bearer {token}"}
    before = b.sql("SELECT count(*) AS n FROM actors")[0]["n"]

    answers = [
        httpx.get(
            f"{b.base_url}/api/v2/search", params={"q": q, "resolve": "true"}, headers=headers
        )
        for q in (
            f"@nobody_here@{a.domain}",
            f"{a.base_url}/posts/999999999",
            f"{a.base_url}/about",  # a page, not an ActivityPub document
        )
    ]

    assert [r.status_code for r in answers] == [200, 200, 200]
    assert all(r.json()["accounts"] == r.json()["statuses"] == [] for r in answers)
    assert b.sql("SELECT count(*) AS n FROM actors")[0]["n"] == before
