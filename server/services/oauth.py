"""OAuth 2 for the client API: apps, consent, codes (with PKCE), tokens, scopes, revocation.

The protocol is RFC 6749's authorization code and client credentials grants, RFC 7636's S256
PKCE and RFC 7009's revocation, with Mastodon's scopes and defaults, since Mastodon's apps are
the clients. Every secret handed out (client secret, code, token) is stored as its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from server.db import Pool
from server.errors import DomainError, Invalid, NotFound
from server.models import AccessToken, Account, OAuthApp
from server.storage import accounts as account_store
from server.storage import oauth as store

# Mastodon: "Displays an authorization code to the user instead of redirecting to a web page."
OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)  # Doorkeeper's default, which Mastodon keeps
# Mastodon's scopes (docs.joinmastodon.org/api/oauth-scopes); admin ones are not offered.
SUB_SCOPES = {
    "read": (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
        "mutes", "notifications", "search", "statuses",
    ),
    "write": (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
        "follows", "lists", "media", "mutes", "notifications", "reports", "statuses",
    ),
}  # fmt: skip
# `follow` is the older name of these four (Mastodon keeps it for old apps).
FOLLOW_SCOPES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
SCOPES = frozenset(
    {"read", "write", "follow", "push", "profile"}
    | {f"{top}:{sub}" for top, subs in SUB_SCOPES.items() for sub in subs}
)
MAX_APP_NAME = 200
MAX_REDIRECT_URIS = 10
# RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class OAuthError(DomainError):
    """An error of the protocol, with its RFC 6749 §5.2 code (`invalid_grant`, ...)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class RegisteredApp:
    app: OAuthApp
    client_secret: str  # shown once, at registration


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked request for consent: which app, which scopes, where the code goes."""

    app: OAuthApp
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str
    code_challenge: str | None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    scopes: tuple[str, ...]
    created_at: datetime


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_scopes(value: str) -> tuple[str, ...]:
    """Split a space-separated scope string, keeping the order and dropping repeats."""
    return tuple(dict.fromkeys(value.split()))


def has_scope(granted: tuple[str, ...], needed: str) -> bool:
    """Tell whether granted scopes cover a needed one (`read` covers `read:statuses`)."""
    if needed in granted:
        return True
    top = needed.split(":", 1)[0]
    if top != needed and top in granted:
        return True
    return "follow" in granted and needed in FOLLOW_SCOPES


def _check_redirect_uri(uri: str) -> bool:
    if uri == OOB:
        return True
    if len(uri) > 2000 or any(c.isspace() for c in uri) or "#" in uri:
        return False
    parts = urlsplit(uri)
    # Apps register custom schemes (tusky://, ivory://) as well as https pages.
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme not in ("http", "https"))


async def register_app(
    db: Pool, *, name: str, redirect_uris: str, scopes: str, website: str
) -> RegisteredApp:
    """Register an app (anyone may, as on Mastodon) and return it with its secret."""
    uris = [u for u in redirect_uris.split() if u]
    requested = parse_scopes(scopes or "read")
    errors: dict[str, str] = {}
    if not name.strip() or len(name) > MAX_APP_NAME:
        errors["client_name"] = "Give the app a name of at most 200 characters."
    if not uris or len(uris) > MAX_REDIRECT_URIS or not all(map(_check_redirect_uri, uris)):
        errors["redirect_uris"] = "Give one or more valid redirect URIs."
    if not requested or not set(requested) <= SCOPES:
        errors["scopes"] = "Some of these scopes do not exist."
    if website and (len(website) > 2000 or urlsplit(website).scheme not in ("http", "https")):
        errors["website"] = "Give a web address starting with https://."
    if errors:
        raise Invalid(errors)
    secret = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        app = await store.insert_app(
            conn,
            client_id=secrets.token_urlsafe(32),
            client_secret_hash=_hash(secret),
            name=name.strip(),
            website=website or None,
            redirect_uris=uris,
            scopes=list(requested),
        )
    return RegisteredApp(app, secret)


async def check_authorization_request(
    db: Pool,
    *,
    client_id: str,
    redirect_uri: str,
    response_type: str,
    scope: str,
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> AuthorizationRequest:
    """Check what an app asks consent for; the page shows it, or refuses it with a reason."""
    async with db.acquire() as conn:
        app = await store.find_app(conn, client_id) if 0 < len(client_id) < 100 else None
    if app is None:
        raise NotFound("This app is not registered here.")
    # RFC 6749 §4.1.2.1: never redirect to a URI the app did not register.
    if redirect_uri not in app.redirect_uris:
        raise Invalid({"redirect_uri": "This app did not register this redirect address."})
    if response_type != "code":
        raise Invalid({"response_type": "This kind of authorization is not supported."})
    scopes = parse_scopes(scope or "read")
    if not set(scopes) <= SCOPES or not all(has_scope(app.scopes, s) for s in scopes):
        raise Invalid({"scope": "The app asks for more than it registered for."})
    if code_challenge and (code_challenge_method != "S256" or len(code_challenge) != 43):
        raise Invalid({"code_challenge": "Only S256 challenges are supported."})
    return AuthorizationRequest(app, scopes, redirect_uri, state[:500], code_challenge or None)


async def authorize(db: Pool, request: AuthorizationRequest, account: Account) -> str:
    """Record a person's consent and return the one-time code for the app."""
    code = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        await store.insert_code(
            conn,
            code_hash=_hash(code),
            app_id=request.app.id,
            account_id=account.id,
            redirect_uri=request.redirect_uri,
            scopes=list(request.scopes),
            code_challenge=request.code_challenge,
            expires_at=datetime.now(UTC) + CODE_LIFETIME,
        )
    return code


async def _client(db: Pool, client_id: str, client_secret: str | None) -> OAuthApp:
    """Return the app; with a secret given, only if it is the right one."""
    async with db.acquire() as conn:
        app = await store.find_app(conn, client_id) if 0 < len(client_id) < 100 else None
        stored = await store.find_app_secret_hash(conn, client_id) if app else None
    if app is None or stored is None:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    if client_secret is not None and not hmac.compare_digest(stored, _hash(client_secret)):
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return app


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def exchange_code(
    db: Pool,
    *,
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> IssuedToken:
    """Trade a code for a person's token (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
    app = await _client(db, client_id, client_secret)
    invalid = OAuthError("invalid_grant", "The authorization code is invalid or was used.")
    if not code or len(code) > 100:
        raise invalid
    code_hash = _hash(code)
    async with db.acquire() as conn, conn.transaction():
        used = await store.use_code(conn, code_hash)
        if used is None:
            raise invalid
        grant, reused = used
        if reused:
            # RFC 6749 §4.1.2: a code used twice revokes the tokens it gave. Committed even
            # though the request fails, hence no exception inside this transaction.
            await store.delete_code_tokens(conn, code_hash)
    if reused or grant.app_id != app.id or grant.expires_at <= datetime.now(UTC):
        raise invalid
    if grant.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "The redirect URI does not match the authorization.")
    if grant.code_challenge is not None:
        if not code_verifier or not _VERIFIER.match(code_verifier):
            raise OAuthError("invalid_grant", "A PKCE code verifier is required.")
        if not hmac.compare_digest(_challenge(code_verifier), grant.code_challenge):
            raise OAuthError("invalid_grant", "The PKCE code verifier does not match.")
    elif client_secret is None:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    token = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        account = await account_store.get_account(conn, grant.account_id)
        if account is None or account.status != "active":
            raise invalid
        created = await store.insert_token(
            conn,
            token_hash=_hash(token),
            app_id=app.id,
            account_id=grant.account_id,
            scopes=list(grant.scopes),
            code_hash=code_hash,
        )
    return IssuedToken(token, grant.scopes, created)


async def issue_app_token(
    db: Pool, *, client_id: str, client_secret: str, scope: str
) -> IssuedToken:
    """Give an app a token of its own, tied to no person (client credentials grant)."""
    app = await _client(db, client_id, client_secret)
    scopes = parse_scopes(scope or "read")
    if not set(scopes) <= SCOPES or not all(has_scope(app.scopes, s) for s in scopes):
        raise OAuthError("invalid_scope", "The requested scope is not allowed for this app.")
    token = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        created = await store.insert_token(
            conn,
            token_hash=_hash(token),
            app_id=app.id,
            account_id=None,
            scopes=list(scopes),
            code_hash=None,
        )
    return IssuedToken(token, scopes, created)


async def revoke_token(db: Pool, *, client_id: str, client_secret: str | None, token: str) -> None:
    """Revoke one of the app's tokens (RFC 7009: an unknown token is no error)."""
    app = await _client(db, client_id, client_secret)
    if token and len(token) <= 100:
        async with db.acquire() as conn:
            await store.delete_token(conn, _hash(token), app.id)


async def authenticate_token(db: Pool, token: str) -> tuple[AccessToken, Account | None] | None:
    """Return a live token and its person (None for an app token), or None."""
    if not token or len(token) > 100:
        return None
    async with db.acquire() as conn:
        return await store.find_token_and_account(conn, _hash(token))


async def get_app(db: Pool, client_id: str) -> OAuthApp:
    async with db.acquire() as conn:
        app = await store.find_app(conn, client_id)
    if app is None:
        raise NotFound("This app is not registered here.")
    return app


async def list_account_tokens(db: Pool, account: Account) -> list[AccessToken]:
    """Return the apps a person let in, newest first (for their settings)."""
    async with db.acquire() as conn:
        return await store.list_account_tokens(conn, account.id)


async def revoke_account_token(db: Pool, account: Account, token_id: int) -> None:
    """Let a person take an app's access back."""
    async with db.acquire() as conn:
        if not await store.delete_account_token(conn, account.id, token_id):
            raise NotFound("This app has no access to your account.")
