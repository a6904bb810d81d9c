"""What every client API endpoint shares: bearer tokens and scopes, parameters, Mastodon's errors,
rate-limit headers and CORS.

API requests carry their credentials in the Authorization header, never in a cookie, so a page of
another site cannot make a browser send one: they need no CSRF token. `api_endpoint` marks its
endpoints `token_authenticated`, and the CSRF test admits those (and only those) among POST routes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import DomainError, Invalid
from server.models import AccessToken, Account
from server.services import oauth
from server.services.oauth import OAuthError

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
MAX_FIELDS = 100

# Mastodon's own sentences, which apps show or match on.
INVALID_TOKEN = "The access token is invalid"
OUT_OF_SCOPE = "This action is outside the authorized scopes"
USER_REQUIRED = "This method requires an authenticated user"

# Mastodon allows 300 requests per 5 minutes per token (or per address without one).
RATE_LIMIT = 300
RATE_WINDOW = 300


class ApiError(Exception):
    """An error answered as Mastodon does: `{"error": message}` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Caller:
    """Who is calling: a person's token, an app's token, or nobody."""

    token: AccessToken | None
    account: Account | None


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _domain_error(exc: DomainError) -> JSONResponse:
    if isinstance(exc, OAuthError):
        return error_response(exc.status, exc.error, error_description=exc.message)
    if isinstance(exc, Invalid):
        # Mastodon: 422 {"error": "Validation failed: Text can't be blank"}
        details = "; ".join(f"{name}: {message}" for name, message in exc.fields.items())
        return error_response(422, f"Validation failed: {details}")
    return error_response(exc.status, exc.message)


class RateLimiter:
    """A fixed window per token (or address), counted in this process.

    Each web process counts on its own: with N processes a caller gets up to N times the
    limit. That is a looser limit, never a wrong answer, and costs no database write per read.
    """

    def __init__(self, limit: int = RATE_LIMIT, window: int = RATE_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._counts: dict[str, int] = {}
        self._window_start = 0

    def hit(self, key: str) -> tuple[int, int]:
        """Count a request; return (remaining, reset as a Unix time)."""
        now = int(time.time())
        start = now - now % self.window
        if start != self._window_start:
            self._counts.clear()
            self._window_start = start
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return self.limit - count, start + self.window


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "api_rate_limiter", None)
    if limiter is None:
        limiter = request.app.state.api_rate_limiter = RateLimiter()
    return limiter


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _authenticate(request: Request) -> Caller:
    token = bearer(request)
    if token is None:
        return Caller(None, None)
    found = await oauth.authenticate_token(request.app.state.db, token)
    if found is None:
        raise ApiError(401, INVALID_TOKEN)
    return Caller(*found)


def api_endpoint(
    handler: Handler, *, scope: str | None = None, user: bool = False, public: bool = False
) -> Handler:
    """Wrap a handler: authenticate the bearer token, check its scope, answer errors as JSON.

    `scope`: what the token must cover (a token is then required unless `public`).
    `user`: the token must be a person's, not an app's.
    """

    async def endpoint(request: Request) -> Response:
        remaining, reset = RATE_LIMIT, 0
        try:
            caller = await _authenticate(request)
            request.state.caller = caller
            key = f"t{caller.token.id}" if caller.token else f"a{client_host(request)}"
            remaining, reset = _limiter(request).hit(key)
            if remaining < 0:
                raise ApiError(429, "Too many requests")
            if scope is not None and caller.token is None and not public:
                raise ApiError(401, INVALID_TOKEN)
            if (
                scope is not None
                and caller.token is not None
                and not oauth.has_scope(caller.token.scopes, scope)
            ):
                raise ApiError(403, OUT_OF_SCOPE)
            if user and caller.account is None:
                raise ApiError(422 if caller.token else 401, USER_REQUIRED)
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc.status, exc.message)
        except DomainError as exc:
            response = _domain_error(exc)
        response.headers["x-ratelimit-limit"] = str(RATE_LIMIT)
        response.headers["x-ratelimit-remaining"] = str(max(remaining, 0))
        if reset:
            response.headers["x-ratelimit-reset"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(reset))
            )
        response.headers["cache-control"] = "private, no-store"
        return response

    endpoint.__name__ = handler.__name__
    endpoint.__module__ = handler.__module__
    endpoint.token_authenticated = True  # type: ignore[attr-defined]
    return endpoint


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def caller(request: Request) -> Caller:
    found: Caller = request.state.caller
    return found


def me(request: Request) -> Account:
    """Return the person behind the token (the endpoint was declared `user=True`)."""
    account = caller(request).account
    assert account is not None
    return account


async def params(request: Request) -> dict[str, Any]:
    """Return the query and body parameters merged, as Mastodon reads them.

    Apps send JSON, url-encoded forms or multipart forms; `name[]` fields are lists.
    """
    values: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _put(values, key, value)
    if request.method in ("POST", "PUT", "PATCH"):
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ApiError(400, "The request body is not valid JSON") from exc
            if not isinstance(body, dict):
                raise ApiError(400, "The request body must be a JSON object")
            values.update(body)
        elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            async with request.form(max_fields=MAX_FIELDS, max_files=4) as form:
                _read_form(values, form)
    for value in values.values():
        if isinstance(value, str) and "\x00" in value:
            raise ApiError(400, "Parameters cannot contain NUL characters")
    return values


def _read_form(values: dict[str, Any], form: FormData) -> None:
    for key, value in form.multi_items():
        if isinstance(value, str):
            _put(values, key, value)


def _put(values: dict[str, Any], key: str, value: str) -> None:
    if key.endswith("[]"):
        values.setdefault(key[:-2], []).append(value)
    else:
        values[key] = value


def text(values: dict[str, Any], name: str, default: str = "") -> str:
    value = values.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int):
        raise ApiError(422, f"Validation failed: {name} must be text")
    return str(value)


def flag(values: dict[str, Any], name: str) -> bool:
    value = values.get(name)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "on"))


def optional_id(values: dict[str, Any], name: str) -> int | None:
    """Read an id parameter: Mastodon's ids are strings of digits."""
    value = values.get(name)
    if value in (None, ""):
        return None
    value = str(value)
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ApiError(404, "Record not found")
    return int(value)


def id_list(values: dict[str, Any], name: str) -> list[int]:
    """Read a list of ids (`media_ids[]=1&media_ids[]=2`, or a JSON array)."""
    value = values.get(name)
    if value in (None, "", []):
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > 20:
        raise ApiError(422, f"Validation failed: {name}: too many")
    ids = []
    for item in items:
        text = str(item)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise ApiError(422, f"Validation failed: {name}: not ids")
        ids.append(int(text))
    return ids


def path_id(request: Request, name: str = "id") -> int:
    value = optional_id(dict(request.path_params), name)
    if value is None:
        raise ApiError(404, "Record not found")
    return value


# Paths browser apps (Elk, Phanpy) call from another origin.
CORS_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization")


class ApiRequests:
    """Let browser apps call the API from their own origin, as Mastodon does (`*`), and take
    paths with a trailing slash as Mastodon's router does (Mastodon.py asks `/api/v1/instance/`).

    CORS for any origin is safe because API credentials are bearer tokens the app holds, never
    cookies: a foreign page gains nothing a request from its own server would not have.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(CORS_PREFIXES):
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        if path.endswith("/") and path.startswith("/api/"):
            scope = {**scope, "path": path.rstrip("/"), "raw_path": path.rstrip("/").encode()}
        if scope["method"] == "OPTIONS":
            await _preflight(send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"access-control-allow-origin", b"*"))
                headers.append((b"access-control-expose-headers", EXPOSED))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)


EXPOSED = b"link, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset"


async def _preflight(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                (b"access-control-allow-headers", b"authorization, content-type, idempotency-key"),
                (b"access-control-max-age", b"86400"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
