"""The OAuth consent page in a real headless Chromium: a signed-out person is sent to sign in,
comes back to the consent page, authorizes, and the browser follows the redirect to the app
(which the page's Content-Security-Policy must allow as a form target)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Route

from tests.web.test_browser import PASSWORD, Errors, browser, live_server  # noqa: F401

pytestmark = pytest.mark.browser

REDIRECT = "https://app.example/callback"


def test_person_signs_in_and_authorizes_an_app_in_a_browser(
    browser: Browser,  # noqa: F811
    live_server: str,  # noqa: F811
) -> None:
    registered = httpx.post(
        live_server + "/api/v1/apps",
        data={"client_name": "Phone app", "redirect_uris": REDIRECT, "scopes": "read write"},
    ).json()
    authorize = "/oauth/authorize?" + urlencode(
        {"client_id": registered["client_id"], "redirect_uri": REDIRECT,
         "response_type": "code", "scope": "read write", "state": "s1"}
    )  # fmt: skip
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors = Errors(page)
    arrived: list[str] = []

    def app_page(route: Route) -> None:  # the app's own page, never reached over the network
        arrived.append(route.request.url)
        route.fulfill(status=200, body="back in the app", content_type="text/plain")

    page.route("https://app.example/**", app_page)
    page.goto(live_server + "/signup")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("button", name="Log out").click()

    page.goto(live_server + authorize)
    assert urlsplit(page.url).path == "/login"
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert "Phone app wants to use your account @ada." in page.content()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("https://app.example/**")

    query = parse_qs(urlsplit(arrived[0]).query)
    assert query["state"] == ["s1"]
    token = httpx.post(
        live_server + "/oauth/token",
        data={"grant_type": "authorization_code", "code": query["code"][0],
              "client_id": registered["client_id"],
              "client_secret": registered["client_secret"], "redirect_uri": REDIRECT},
    ).json()["access_token"]  # fmt: skip
    me = httpx.get(
        live_server + "/api/v1/accounts/verify_credentials",
        headers={"authorization": f"Bearer {token}"},
    )
    assert me.json()["username"] == "ada"
    assert errors.messages == []
    context.close()
