"""Cookies, CSRF tokens, request limits and the client behind the proxy, for the human side."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.proxies import Network, forwarded_client, forwarded_scheme

SESSION_COOKIE = "entraide_session"
CSRF_COOKIE = "entraide_csrf"
CSRF_FIELD = "csrf_token"
# Proof that this browser once logged in to an account: it spares its owner the account's lock.
DEVICE_COOKIE = "entraide_device"
MAX_FORM_FIELDS = 50
MAX_BODY = 9 * 1024 * 1024  # four 2 MB pictures of a post and the form around them
MAX_FILES = 4  # the pictures of a post


class CsrfError(Exception):
    """The form did not carry the token bound to this browser."""


def csrf_seed(request: Request) -> str:
    """Return this browser's CSRF seed, creating one for this response if absent."""
    seed: str | None = getattr(request.state, "csrf_seed", None)
    if seed is None:
        seed = request.cookies.get(CSRF_COOKIE) or ""
        if len(seed) != 43:
            seed = secrets.token_urlsafe(32)
            request.state.new_csrf_seed = seed
        request.state.csrf_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    """Return the token to put in forms: an HMAC of the browser's seed with the secret key."""
    secret = request.app.state.config.secret_key.encode()
    return hmac.new(secret, csrf_seed(request).encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, form: FormData) -> None:
    """Raise CsrfError unless the form's token matches this browser's seed."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not seed or not isinstance(sent, str):
        raise CsrfError
    secret = request.app.state.config.secret_key.encode()
    expected = hmac.new(secret, seed.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sent):
        raise CsrfError


def set_cookies(request: Request, response: Response) -> None:
    """Write the cookies decided during the request (new CSRF seed, session change)."""
    secure = request.app.state.config.secure
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=secure, max_age=31536000
        )
    device: str | None = getattr(request.state, "set_device", None)
    if device:
        response.set_cookie(
            DEVICE_COOKIE, device, httponly=True, samesite="lax", secure=secure, max_age=31536000
        )
    session: str | None = getattr(request.state, "set_session", None)
    if session is not None:
        if session:
            response.set_cookie(
                SESSION_COOKIE,
                session,
                httponly=True,
                samesite="lax",
                secure=secure,
                max_age=30 * 86400,
            )
        else:
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure)


def _device_mac(request: Request, username: str, nonce: str) -> str:
    secret = request.app.state.config.secret_key.encode()
    message = f"device\0{username.strip().lower()}\0{nonce}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def remember_device(request: Request, username: str) -> None:
    """Give this browser, on the response, a token proving it logged in to `username`.

    OWASP's "device cookies": failures from strangers lock an account, not its owner's browser.
    """
    nonce = secrets.token_urlsafe(16)
    request.state.set_device = f"{nonce}.{_device_mac(request, username, nonce)}"


def is_known_device(request: Request, username: str) -> bool:
    """Tell whether this browser holds a token of an earlier login to `username`."""
    nonce, _, mac = request.cookies.get(DEVICE_COOKIE, "").partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _device_mac(request, username, nonce))


FormHandler = Callable[[Request, FormData], Awaitable[Response]]


def form_endpoint(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a POST handler: parse the form within limits and check CSRF before anything."""

    async def endpoint(request: Request) -> Response:
        async with request.form(max_fields=MAX_FORM_FIELDS, max_files=MAX_FILES) as form:
            check_csrf(request, form)
            # Nobody types NUL, and PostgreSQL text refuses it: the form cannot be read (400).
            if any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items()):
                raise HTTPException(400)
            return await handler(request, form)

    endpoint.__name__ = handler.__name__
    endpoint.csrf_checked = True  # type: ignore[attr-defined]
    return endpoint


def signed_link_endpoint(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a POST handler whose URL carries its own authority: a signature made with the
    secret key for one account and one purpose (an e-mail's unsubscribe link).

    No CSRF token: RFC 8058's one-click POST comes from a mail program that never saw our
    pages. A forged request can only do what the signed URL already allows, and only someone
    who holds that URL (the e-mail's reader) can make one. The form is still read within
    limits.
    """

    async def endpoint(request: Request) -> Response:
        async with request.form(max_fields=MAX_FORM_FIELDS, max_files=0) as form:
            if any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items()):
                raise HTTPException(400)
            return await handler(request, form)

    endpoint.__name__ = handler.__name__
    endpoint.signed_link = True  # type: ignore[attr-defined]
    return endpoint


class BodyLimit:
    """Refuse request bodies over a size before the app reads them (413)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _too_large(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(send)


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"15")],
        }
    )
    await send({"type": "http.response.body", "body": b"Body too large."})


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """Join every line of a header into one comma-separated list (RFC 9110 §5.3)."""
    return ",".join(v.decode("latin-1") for k, v in headers if k == name)


def client_address(request: Request) -> str:
    """Return the client's address: the TCP peer, or what a trusted proxy says it forwards."""
    peer = request.client.host if request.client else None
    trusted = request.app.state.config.trusted_proxies
    return forwarded_client(trusted, peer, _header(request.scope["headers"], b"x-forwarded-for"))


class ForwardedScheme:
    """Take the scheme from a trusted proxy's X-Forwarded-Proto, so that URLs the app builds
    (the trailing-slash redirect among them) say https:// behind a TLS proxy.

    Only the scheme: the client stays the TCP peer, so that code can still tell a trusted
    proxy (server/proxies.py `is_trusted_proxy`) from a client.
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            proto = _header(scope["headers"], b"x-forwarded-proto")
            if proto:
                scheme = forwarded_scheme(self.trusted, scope["client"][0], proto, scope["scheme"])
                scope = {**scope, "scheme": scheme}
        await self.app(scope, receive, send)


def safe_next(value: Any) -> str:
    """Return a local path to go to after login; anything else (other hosts, schemes) is /."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        # No control characters: browsers drop tabs and newlines in URLs ("/\t/x" is "//x").
        and value.isprintable()
        and len(value) < 500
    ):
        return value
    return "/"
