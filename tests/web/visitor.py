"""A person's browser for page tests: an httpx client on the ASGI app, keeping its cookies and
putting the CSRF token of its own forms into what it posts."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from tests.factories import PASSWORD
from tests.web.markup import Element, parse
from web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE

BASE_URL = "http://127.0.0.1:8000"


class Visitor:
    """One browser: its cookie jar, its language, its network address."""

    def __init__(
        self,
        app: Starlette,
        *,
        language: str = "en",
        address: str = "192.0.2.10",
        base_url: str = BASE_URL,
    ) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url=base_url,
            headers={"accept-language": language} if language else {},
        )
        self._token: tuple[str, str] | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def page(self, path: str, status: int = 200) -> Element:
        """GET a page, check its status and return it parsed."""
        response = await self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        return parse(response.text)

    async def token(self) -> str:
        """Return the token this browser's forms carry (read from a form, as a browser would)."""
        seed = self.client.cookies.get(CSRF_COOKIE)
        if self._token is None or self._token[0] != seed:
            page = parse((await self.client.get("/login")).text)
            # Every form of a page carries the same token (the logout form, the login form).
            values = {e.attrs["value"] for e in page.find_all("input", name=CSRF_FIELD)}
            assert len(values) == 1, values
            value = values.pop()
            self._token = (self.client.cookies.get(CSRF_COOKIE) or "", value)
        return self._token[1]

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        files: dict[str, Any] | None = None,
        token: str | None = None,
        with_token: bool = True,
        **kw: Any,
    ) -> httpx.Response:
        """Submit a form; the browser's own token unless another (or none) is given."""
        data = dict(data or {})
        if with_token:
            data[CSRF_FIELD] = token if token is not None else await self.token()
        return await self.client.post(path, data=data, files=files, **kw)

    async def sign_up(
        self, username: str, password: str = PASSWORD, email: str | None = None
    ) -> httpx.Response:
        email = email if email is not None else f"{username}@example.org"
        data = {"username": username, "email": email, "password": password}
        return await self.post("/signup", data)

    async def log_in(
        self, username: str, password: str = PASSWORD, next_url: str | None = None
    ) -> httpx.Response:
        data = {"username": username, "password": password}
        if next_url is not None:
            data["next"] = next_url
        return await self.post("/login", data)

    def plant_session(self, token: str) -> None:
        """Put a session cookie into this browser, as an attacker who can set cookies would."""
        host = self.client.base_url.host
        self.client.cookies.set(SESSION_COOKIE, token, domain=host)

    @property
    def session(self) -> str | None:
        return self.client.cookies.get(SESSION_COOKIE)

    async def signed_in_as(self) -> str | None:
        """Return the username the pages show as signed in, or None."""
        response = await self.client.get("/settings")
        if response.status_code != 200:
            return None
        nav = parse(response.text).one("nav")
        links = [
            a.attrs["href"] for a in nav.find_all("a") if a.attrs["href"].startswith("/users/")
        ]
        return links[0].removeprefix("/users/") if links else None
