"""Fixtures of the client API tests: the app and browsers of the page tests, plus an app's
OAuth dance through the consent page, as a person in a browser and an app on a phone do it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tests.web.conftest import (  # noqa: F401  (fixtures shared with the page tests)
    StartApp,
    app,
    quick_crypto,
    start_app,
    visitor,
    visitors,
    web_config,
)
from tests.web.markup import parse
from tests.web.visitor import BASE_URL, Visitor

REDIRECT = "https://app.example/callback"


@dataclass
class RegisteredApp:
    client_id: str
    client_secret: str
    redirect_uri: str


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """An app's HTTP client: no cookies, only what it is given."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.50", 40000)), base_url=BASE_URL
    ) as http:
        yield http


async def register_app(
    client: httpx.AsyncClient, scopes: str = "read write follow push", redirect: str = REDIRECT
) -> RegisteredApp:
    response = await client.post(
        "/api/v1/apps",
        data={"client_name": "Test app", "redirect_uris": redirect, "scopes": scopes},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return RegisteredApp(body["client_id"], body["client_secret"], redirect)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


async def consent(
    browser: Visitor, registered: RegisteredApp, scope: str = "read write follow", **extra: str
) -> str:
    """Open the consent page as the signed-in browser, approve it, return the code."""
    query: dict[str, str] = {
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "response_type": "code",
        "scope": scope,
        **extra,
    }
    page = await browser.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text[:300]
    form = parse(page.text).one("form", action="/oauth/authorize")
    fields = {
        e.attrs["name"]: e.attrs.get("value", "")
        for e in form.find_all("input")
        if e.attrs.get("type") == "hidden" and e.attrs["name"] != "csrf_token"
    }
    answer = await browser.post("/oauth/authorize", {**fields, "decision": "approve"})
    if registered.redirect_uri == "urn:ietf:wg:oauth:2.0:oob":
        return parse(answer.text).one("code", id="authorization-code").text
    assert answer.status_code == 303, answer.text[:300]
    location = answer.headers["location"]
    assert location.startswith(registered.redirect_uri)
    return parse_qs(urlsplit(location).query)["code"][0]


async def exchange(
    client: httpx.AsyncClient, registered: RegisteredApp, code: str, **extra: Any
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "redirect_uri": registered.redirect_uri,
        "code": code,
        **extra,
    }
    return await client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


async def token_for(
    client: httpx.AsyncClient, browser: Visitor, scope: str = "read write follow"
) -> str:
    """Return a token of the browser's signed-in person, through the whole flow."""
    registered = await register_app(client)
    code = await consent(browser, registered, scope)
    response = await exchange(client, registered, code)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def service_token(db: Any, account: Any, scope: str = "read write follow") -> str:
    """Return a token for an account straight from the OAuth service (no pages involved)."""
    from server.services import oauth

    registered = await oauth.register_app(
        db, name="Service app", redirect_uris=REDIRECT, scopes="read write follow push", website=""
    )
    request = await oauth.check_authorization_request(
        db,
        client_id=registered.app.client_id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope=scope,
    )
    code = await oauth.authorize(db, request, account)
    issued = await oauth.exchange_code(
        db,
        client_id=registered.app.client_id,
        client_secret=registered.client_secret,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=None,
    )
    return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def live(start_app: StartApp) -> AsyncIterator[tuple[str, Any]]:  # noqa: F811
    """Serve the app on a loopback port in this event loop; yield its URL and the app."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served = await start_app(base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(served, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, task.exception() if task.done() else "the server did not start"
    try:
        yield base, served
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
