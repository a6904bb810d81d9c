"""OAuth 2 of the client API: the authorization code flow through the consent page, PKCE,
client credentials, revocation, and every refusal changing nothing."""

from __future__ import annotations

import httpx

from server.config import Config
from server.db import Pool
from server.services import accounts
from tests.api.conftest import REDIRECT, consent, exchange, pkce_pair, register_app, token_for
from tests.factories import make_account, snapshot
from tests.web.conftest import OpenVisitor, new_signed_in

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def test_code_flow_gives_a_token_the_api_accepts(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    code = await consent(browser, registered)
    response = await exchange(client, registered, code)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write follow"
    me = await client.get(
        "/api/v1/apps/verify_credentials",
        headers={"authorization": f"Bearer {body['access_token']}"},
    )
    assert me.status_code == 200 and me.json()["name"] == "Test app"
    async with db.acquire() as conn:
        stored = await conn.fetchval("SELECT token_hash FROM oauth_tokens")
    assert body["access_token"].encode() not in stored  # kept as its SHA-256 only
    assert len(stored) == 32


async def test_signed_out_person_signs_in_first_and_comes_back(
    client: httpx.AsyncClient,
    visitor,
    db: Pool,
    web_config: Config,  # type: ignore[no-untyped-def]
) -> None:
    registered = await register_app(client)
    page = await visitor.get(
        "/oauth/authorize",
        params={"client_id": registered.client_id, "redirect_uri": REDIRECT,
                "response_type": "code"},
    )  # fmt: skip
    assert page.status_code == 302
    next_url = httpx.URL(page.headers["location"]).params["next"]
    # The whole request comes back, every parameter of it.
    assert httpx.URL(next_url).params["redirect_uri"] == REDIRECT
    await make_account(db, web_config, "ada")
    back = await visitor.log_in("ada", next_url=next_url)
    assert back.headers["location"] == next_url
    consent = await visitor.get(back.headers["location"])
    assert consent.status_code == 200 and "Test app" in consent.text


async def test_code_used_twice_is_refused_and_revokes_its_token(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    code = await consent(browser, registered)
    first = await exchange(client, registered, code)
    token = first.json()["access_token"]

    second = await exchange(client, registered, code)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    revoked = await client.get(
        "/api/v1/apps/verify_credentials", headers={"authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 401
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM oauth_tokens") == 0


async def test_redirect_uri_the_app_did_not_register_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    before = await snapshot(db)

    page = await browser.get(
        "/oauth/authorize",
        params={"client_id": registered.client_id, "redirect_uri": "https://evil.example/",
                "response_type": "code", "scope": "read"},
    )  # fmt: skip
    forged = await browser.post(
        "/oauth/authorize",
        {"client_id": registered.client_id, "redirect_uri": "https://evil.example/",
         "response_type": "code", "scope": "read", "decision": "approve"},
    )  # fmt: skip

    assert page.status_code == 400 and "did not register this redirect" in page.text
    assert forged.status_code == 400 and "location" not in forged.headers
    assert await snapshot(db) == before


async def test_code_exchanged_with_another_redirect_uri_gives_no_token(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    code = await consent(browser, registered)

    response = await exchange(client, registered, code, redirect_uri="https://other.example/")

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM oauth_tokens") == 0


async def test_pkce_flow_needs_the_right_verifier(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"}

    wrong_code = await consent(browser, registered, **extra)
    wrong = await exchange(
        client, registered, wrong_code, client_secret=None, code_verifier=pkce_pair()[0]
    )
    missing_code = await consent(browser, registered, **extra)
    missing = await exchange(client, registered, missing_code, client_secret=None)
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM oauth_tokens") == 0

    # A public client (no secret) with the right verifier gets its token.
    code = await consent(browser, registered, **extra)
    right = await exchange(client, registered, code, client_secret=None, code_verifier=verifier)

    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    assert right.status_code == 200, right.text


async def test_code_without_pkce_needs_the_client_secret(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    code = await consent(browser, registered)

    response = await exchange(client, registered, code, client_secret=None)
    wrong = await exchange(client, registered, code, client_secret="not-the-secret")

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert wrong.status_code == 401


async def test_oob_app_is_shown_the_code(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client, redirect=OOB)
    code = await consent(browser, registered)

    response = await exchange(client, registered, code)

    assert response.status_code == 200


async def test_denied_consent_sends_the_app_access_denied_and_no_code(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    answer = await browser.post(
        "/oauth/authorize",
        {"client_id": registered.client_id, "redirect_uri": REDIRECT, "response_type": "code",
         "scope": "read", "state": "xyz", "decision": "deny"},
    )  # fmt: skip

    assert answer.status_code == 303
    assert answer.headers["location"] == REDIRECT + "?error=access_denied&state=xyz"
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM oauth_codes") == 0


async def test_revoked_token_gets_401(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    registered = await register_app(client)
    code = await consent(browser, registered)
    token = (await exchange(client, registered, code)).json()["access_token"]
    headers = {"authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=headers)).status_code == 200

    revoked = await client.post(
        "/oauth/revoke",
        data={"client_id": registered.client_id, "client_secret": registered.client_secret,
              "token": token},
    )  # fmt: skip
    after = await client.get("/api/v1/apps/verify_credentials", headers=headers)

    assert revoked.status_code == 200
    assert after.status_code == 401
    assert after.json() == {"error": "The access token is invalid"}


async def test_person_revokes_an_app_in_settings(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    token = await token_for(client, browser)
    page = await browser.get("/settings/apps")
    assert "Test app" in page.text
    async with db.acquire() as conn:
        token_id = await conn.fetchval("SELECT id FROM oauth_tokens")

    await browser.post(f"/settings/apps/{token_id}/revoke")

    after = await client.get(
        "/api/v1/apps/verify_credentials", headers={"authorization": f"Bearer {token}"}
    )
    assert after.status_code == 401


async def test_token_of_a_disabled_account_gets_401(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    token = await token_for(client, browser)
    async with db.acquire() as conn:
        await conn.execute("UPDATE accounts SET status = 'disabled'")

    after = await client.get(
        "/api/v1/apps/verify_credentials", headers={"authorization": f"Bearer {token}"}
    )

    assert after.status_code == 401


async def test_rejected_account_loses_its_tokens(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "ada")
    await token_for(client, browser)
    admin = await make_account(db, web_config, "moderation", is_admin=True)
    async with db.acquire() as conn:
        ada = await conn.fetchval("SELECT actor_id FROM accounts WHERE email = 'ada@example.org'")
        await conn.execute("UPDATE accounts SET status = 'pending' WHERE actor_id = $1", ada)

    await accounts.reject_account(db, admin, ada)

    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM oauth_tokens") == 0


async def test_client_credentials_give_an_app_token(client: httpx.AsyncClient) -> None:
    registered = await register_app(client)

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": registered.client_id,
              "client_secret": registered.client_secret, "scope": "read"},
    )  # fmt: skip
    wrong = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": registered.client_id,
              "client_secret": "nope", "scope": "read"},
    )  # fmt: skip

    assert response.status_code == 200
    app_headers = {"authorization": f"Bearer {response.json()['access_token']}"}
    verified = await client.get("/api/v1/apps/verify_credentials", headers=app_headers)
    assert verified.status_code == 200
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


async def test_app_registration_refuses_bad_input_and_writes_nothing(
    client: httpx.AsyncClient, db: Pool
) -> None:
    before = await snapshot(db)
    cases = [
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "", "redirect_uris": REDIRECT},
        {"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read admin:write"},
        {"client_name": "x" * 300, "redirect_uris": REDIRECT},
    ]
    statuses = [(await client.post("/api/v1/apps", data=case)).status_code for case in cases]

    assert statuses == [422] * len(cases)
    assert await snapshot(db) == before


async def test_metadata_and_cors(client: httpx.AsyncClient) -> None:
    metadata = await client.get("/.well-known/oauth-authorization-server")
    preflight = await client.options(
        "/api/v1/apps",
        headers={"origin": "https://elk.example", "access-control-request-method": "POST"},
    )

    assert metadata.json()["code_challenge_methods_supported"] == ["S256"]
    assert metadata.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["access-control-allow-headers"]


async def test_consent_page_speaks_french(
    client: httpx.AsyncClient, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    browser = await new_signed_in(visitors, db, web_config, "zoe", "fr")
    registered = await register_app(client)
    page = await browser.get(
        "/oauth/authorize",
        params={"client_id": registered.client_id, "redirect_uri": REDIRECT,
                "response_type": "code", "scope": "read write"},
    )  # fmt: skip

    assert "Autoriser une application" in page.text
    assert "https://app.example" in page.headers["content-security-policy"]
