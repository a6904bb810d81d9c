"""Behind a reverse proxy: whose address login failures count against, and the scheme of the
URLs the app builds. The proxy here is a browser at 127.0.0.1 sending what Caddy or nginx send;
tests/deploy/test_deploy_guide.py does it again behind a real Caddy."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from server.services.accounts import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from tests.factories import PASSWORD, count_rows, make_account
from tests.web.conftest import OpenVisitor
from tests.web.visitor import Visitor
from web.security import DEVICE_COOKIE

PROXY = "127.0.0.1"


def behind_proxy(visitors: OpenVisitor, client: str, **kw: str) -> Visitor:
    """Open a browser whose requests reach the app through the local proxy."""
    visitor = visitors(address=PROXY, **kw)
    visitor.client.headers["x-forwarded-for"] = client
    visitor.client.headers["x-forwarded-proto"] = "https"
    return visitor


async def test_failed_logins_through_the_proxy_count_against_each_client(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    guesser = behind_proxy(visitors, "198.51.100.7")
    for i in range(MAX_FAILURES_PER_ADDRESS):
        response = await guesser.log_in(f"guess{i}", "not the password")
        assert response.status_code == 422
    assert (await guesser.log_in("alice")).status_code == 429

    # Everyone comes from the proxy's address, but another client is not blocked.
    assert (await behind_proxy(visitors, "203.0.113.8").log_in("alice")).status_code == 303


async def test_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    guesser = visitors(address="192.0.2.66")
    for i in range(MAX_FAILURES_PER_ADDRESS):
        # A new "client" each time: were the header believed, no address would ever fill up.
        guesser.client.headers["x-forwarded-for"] = f"198.51.100.{i}"
        assert (await guesser.log_in(f"guess{i}", "wrong")).status_code == 422
    assert (await guesser.log_in("alice")).status_code == 429
    assert await count_rows(db, "sessions") == 0


async def test_strangers_lock_the_account_but_not_its_owner_known_browser(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    owner = behind_proxy(visitors, "203.0.113.1")
    assert (await owner.log_in("alice")).status_code == 303
    assert owner.client.cookies.get(DEVICE_COOKIE)
    await owner.post("/logout")

    for i in range(MAX_FAILURES_PER_ACCOUNT):
        stranger = behind_proxy(visitors, f"198.51.100.{i}")
        assert (await stranger.log_in("alice", "wrong")).status_code == 422
    # From a browser the account never logged in from, even with the password: locked.
    new_browser = behind_proxy(visitors, "203.0.113.2")
    assert (await new_browser.log_in("alice")).status_code == 429
    # A device cookie of another account, or a forged one, does not help.
    new_browser.client.cookies.set(DEVICE_COOKIE, owner.client.cookies[DEVICE_COOKIE] + "0")
    assert (await new_browser.log_in("alice")).status_code == 429
    # The owner's browser still gets in.
    response = await owner.log_in("alice")
    assert response.status_code == 303, response.text
    assert await owner.signed_in_as() == "alice"


async def test_device_cookie_of_one_account_does_not_open_another(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await make_account(db, web_config, "bob")
    mallory = behind_proxy(visitors, "198.51.100.99")
    # Mallory knows bob's password (her own account, say) and gets a device cookie for bob.
    assert (await mallory.log_in("bob")).status_code == 303
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await mallory.log_in("alice", "wrong")).status_code == 422
    assert (await mallory.log_in("alice", PASSWORD)).status_code == 429


async def test_trailing_slash_redirect_keeps_https_behind_a_tls_proxy(
    visitors: OpenVisitor,
) -> None:
    proxied = behind_proxy(visitors, "203.0.113.1", base_url="http://entraide.example")
    response = await proxied.get("/tags/x/")
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"] == "https://entraide.example/tags/x"

    # The same header from a client that is not a proxy changes nothing.
    direct = visitors(address="192.0.2.66", base_url="http://entraide.example")
    response = await direct.get("/tags/x/", headers={"x-forwarded-proto": "https"})
    assert response.headers["location"] == "http://entraide.example/tags/x"
