"""Mastodon.py, a client written by others, against a live instance on loopback: it registers
an app, goes through the consent page, reads home, posts in a group, replies, favourites,
reads notifications, searches and pages, as the apps people carry do."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from mastodon import Mastodon, MastodonAPIError
from PIL import Image

from server.config import Config
from server.db import Pool
from server.services import petitions
from tests.api.conftest import RegisteredApp, consent
from tests.factories import make_account, make_event, make_group, make_member, make_post
from tests.web.conftest import OpenVisitor

REDIRECT = "https://app.example/callback"
SCOPES = ["read", "write", "follow"]


async def test_mastodon_py_signs_in_reads_posts_replies_likes_and_searches(
    live: tuple[str, Any], visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    base, app = live
    owner = await make_account(db, web_config, "ada")
    member = await make_account(db, web_config, "bea")
    circle = await make_group(db, web_config, owner, "circle", name="The Circle")
    await make_member(db, circle, member)
    welcome = await make_post(db, web_config, circle, owner, "Welcome to the #circle")
    for n in range(4):
        await make_post(db, web_config, circle, owner, f"Older news {n}")
    browser = visitors(on=app)
    assert (await browser.log_in("bea")).status_code == 303

    # The app registers and sends the person to the consent page, which they approve.
    client_id, client_secret = await asyncio.to_thread(
        Mastodon.create_app, "Mastodon.py", scopes=SCOPES, redirect_uris=REDIRECT,
        api_base_url=base,
    )  # fmt: skip
    # The client reads the instance's version when made: off the event loop the server runs on.
    api = await asyncio.to_thread(
        Mastodon, client_id=client_id, client_secret=client_secret, api_base_url=base,
        version_check_mode="created",
    )  # fmt: skip
    url = await asyncio.to_thread(
        api.auth_request_url, redirect_uris=REDIRECT, scopes=SCOPES, allow_http=True
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path == "/oauth/authorize" and query["client_id"] == client_id
    extra = {k: v for k, v in query.items() if k in ("state", "code_challenge",
                                                     "code_challenge_method")}  # fmt: skip
    code = await consent(
        browser, RegisteredApp(client_id, client_secret, REDIRECT), query["scope"], **extra
    )
    await asyncio.to_thread(
        api.log_in, code=code, redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True
    )

    me = await asyncio.to_thread(api.account_verify_credentials)
    assert me.username == "bea"
    home = await asyncio.to_thread(api.timeline_home, limit=3)
    assert [s.content for s in home] == [f"<p>Older news {n}</p>" for n in (3, 2, 1)]
    older = await asyncio.to_thread(api.fetch_next, home)
    assert older is not None and len(older) == 2
    assert str(older[-1].id) == str(welcome.id)  # Mastodon.py's ids are its own type
    assert [t.name for t in older[-1].tags] == ["circle"]

    posted = await asyncio.to_thread(api.status_post, "@circle Hello from an app")
    reply = await asyncio.to_thread(api.status_post, "Thank you!", in_reply_to_id=welcome.id)
    liked = await asyncio.to_thread(api.status_favourite, welcome.id)
    assert posted.visibility == "public" and posted.mentions[0].acct == "circle"
    assert str(reply.in_reply_to_id) == str(welcome.id)
    assert liked.favourited is True and liked.favourites_count == 1

    # The owner answers the member's post: a notification for the member.
    await make_post(db, web_config, circle, owner, "Hello you", in_reply_to_id=posted.id)
    notes = await asyncio.to_thread(api.notifications)
    assert [(n.type, n.account.acct) for n in notes] == [("mention", "ada")]

    found = await asyncio.to_thread(api.search_v2, "circle")
    assert found.accounts[0].acct == "circle" and found.accounts[0].group is True
    context = await asyncio.to_thread(api.status_context, welcome.id)
    assert [s.id for s in context.descendants] == [reply.id]
    group = await asyncio.to_thread(api.account_lookup, "circle")
    statuses = await asyncio.to_thread(api.account_statuses, group.id, limit=40)
    assert {str(posted.id), str(welcome.id)} <= {str(s.id) for s in statuses}


async def test_mastodon_py_with_a_read_token_cannot_post(
    live: tuple[str, Any], visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    base, app = live
    owner = await make_account(db, web_config, "ada")
    await make_group(db, web_config, owner, "circle")
    browser = visitors(on=app)
    await browser.log_in("ada")
    client_id, client_secret = await asyncio.to_thread(
        Mastodon.create_app, "Reader", scopes=["read"], redirect_uris=REDIRECT, api_base_url=base
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    code = await consent(browser, RegisteredApp(client_id, client_secret, REDIRECT), "read")
    await asyncio.to_thread(
        api.log_in, code=code, redirect_uri=REDIRECT, scopes=["read"], allow_http=True
    )

    with pytest.raises(MastodonAPIError) as refused:
        await asyncio.to_thread(api.status_post, "@circle hi")

    assert refused.value.args[1] == 403
    assert "outside the authorized scopes" in str(refused.value)
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM posts") == 0


async def test_mastodon_py_uploads_a_picture_and_posts_it(
    live: tuple[str, Any], visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    base, app = live
    owner = await make_account(db, web_config, "ada")
    await make_group(db, web_config, owner, "circle")
    browser = visitors(on=app)
    await browser.log_in("ada")
    client_id, client_secret = await asyncio.to_thread(
        Mastodon.create_app, "Pictures", scopes=SCOPES, redirect_uris=REDIRECT, api_base_url=base
    )
    api = await asyncio.to_thread(
        Mastodon, client_id=client_id, client_secret=client_secret, api_base_url=base,
        version_check_mode="created",
    )  # fmt: skip
    code = await consent(browser, RegisteredApp(client_id, client_secret, REDIRECT), "read write")
    await asyncio.to_thread(
        api.log_in, code=code, redirect_uri=REDIRECT, scopes=["read", "write"], allow_http=True
    )
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 90)).save(picture, format="PNG")

    media = await asyncio.to_thread(
        api.media_post, picture.getvalue(), mime_type="image/png", description="A green card",
        focus=(0.5, -0.5),
    )  # fmt: skip
    posted = await asyncio.to_thread(api.status_post, "@circle The card", media_ids=[media])
    fetched = await asyncio.to_thread(api.status, posted.id)

    assert media.type == "image" and media.meta.focus.x == 0.5
    assert [a.description for a in fetched.media_attachments] == ["A green card"]
    assert fetched.media_attachments[0].url == media.url
    with pytest.raises(MastodonAPIError) as refused:  # posted once, it is the status's
        await asyncio.to_thread(api.status_post, "@circle Again", media_ids=[media])
    assert refused.value.args[1] == 422


async def test_mastodon_py_reads_events_and_petitions_as_statuses_with_cards(
    live: tuple[str, Any], visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    base, app = live
    owner = await make_account(db, web_config, "ada")
    circle = await make_group(db, web_config, owner, "circle")
    event = await make_event(db, circle, owner, title="Shared meal", place_name="Town hall")
    petition = await petitions.create_petition(
        db, web_config, circle, owner, title="Save the library", body="It matters.",
        addressee="The mayor", goal="500",
    )  # fmt: skip
    browser = visitors(on=app)
    await browser.log_in("ada")
    client_id, client_secret = await asyncio.to_thread(
        Mastodon.create_app, "Reader", scopes=["read"], redirect_uris=REDIRECT, api_base_url=base
    )
    api = await asyncio.to_thread(
        Mastodon, client_id=client_id, client_secret=client_secret, api_base_url=base,
        version_check_mode="created",
    )  # fmt: skip
    code = await consent(browser, RegisteredApp(client_id, client_secret, REDIRECT), "read")
    await asyncio.to_thread(
        api.log_in, code=code, redirect_uri=REDIRECT, scopes=["read"], allow_http=True
    )

    home = await asyncio.to_thread(api.timeline_home)
    one = await asyncio.to_thread(api.status, home[1].id)
    context = await asyncio.to_thread(api.status_context, home[1].id)

    assert [s.card.url for s in home] == [f"{base}/petitions/{petition.id}",
                                          f"{base}/events/{event.id}"]  # fmt: skip
    assert [s.card.title for s in home] == ["Save the library", "Shared meal"]
    assert home[0].account.acct == "circle" and home[0].account.group is True
    assert "To: The mayor" in home[0].content and "Where: Town hall" in one.content
    assert context.ancestors == [] and context.descendants == []
