"""What every page shares: the language, error pages, the redirect after login, security
headers, and form fields that keep their attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from server.config import Config
from server.db import Pool
from tests.factories import count_rows, make_account, make_group, make_post
from tests.web.conftest import OpenVisitor, StartApp
from tests.web.markup import field_error, parse
from tests.web.visitor import Visitor

# Languages


async def test_french_interface_from_accept_language(visitors: OpenVisitor) -> None:
    visitor = visitors("fr-CA,fr;q=0.9,en;q=0.5")

    page = await visitor.page("/login")

    assert page.one("html").attrs["lang"] == "fr"
    assert page.one("h1").text == "Se connecter"
    assert page.one("a", class_="skip").text == "Aller au contenu"
    assert page.one("label", for_="f-username").text == "Nom d'utilisateur·ice"


async def test_english_wins_when_the_browser_prefers_it(visitors: OpenVisitor) -> None:
    visitor = visitors("de-DE,en;q=0.8,fr;q=0.5")

    page = await visitor.page("/login")

    assert page.one("html").attrs["lang"] == "en"
    assert page.one("h1").text == "Log in"


async def test_instance_language_applies_when_the_browser_says_nothing(
    start_app: StartApp, visitors: OpenVisitor
) -> None:
    app = await start_app(language="fr")
    visitor = visitors("", on=app)

    page = await visitor.page("/signup")

    assert page.one("html").attrs["lang"] == "fr"
    assert page.one("h1").text == "S'inscrire"


async def test_account_language_wins_over_the_browser(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    visitor = visitors("en")
    await visitor.log_in("alice")

    response = await visitor.post(
        "/settings", {"display_name": "", "summary": "", "language": "fr", "timezone": "UTC"}
    )

    assert response.status_code == 303
    page = await visitor.page("/settings?saved=1")
    assert page.one("html").attrs["lang"] == "fr"
    assert page.one("h1").text == "Paramètres"
    assert page.one(role="status").text == "Enregistré."
    await visitor.post(
        "/settings", {"display_name": "", "summary": "", "language": "en", "timezone": "UTC"}
    )
    visitor.client.headers["accept-language"] = "fr"
    assert (await visitor.page("/settings")).one("h1").text == "Settings"


async def test_form_errors_are_translated(visitors: OpenVisitor) -> None:
    visitor = visitors("fr")

    response = await visitor.post("/signup", {"username": "Bad Name", "email": "", "password": ""})

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "email") == "Ce champ est obligatoire."
    assert field_error(page, "password") == "Ce champ est obligatoire."
    assert "1 à 30" in (field_error(page, "username") or "")


async def test_counts_follow_each_language_plural_rule(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "gardening")
    english, french = visitors("en"), visitors("fr")

    assert "1 member" in (await english.page("/")).one("li").text
    assert "1 membre" in (await french.page("/")).one("li").text


async def test_dates_are_shown_in_the_account_time_zone(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "gardening")
    post = await make_post(db, web_config, group, owner, "Hello")
    await visitor.log_in("alice")
    await visitor.post(
        "/settings",
        {"display_name": "", "summary": "", "language": "", "timezone": "Pacific/Kiritimati"},
    )

    time = (await visitor.page("/groups/gardening")).one("time")

    assert time.attrs["datetime"] == post.created_at.isoformat()
    # UTC+14: the day or at least the hour differs from UTC's; to the minute, no seconds.
    kiritimati = post.created_at.astimezone(ZoneInfo("Pacific/Kiritimati"))
    expected = format_datetime(kiritimati, "MMM d, y, h:mm a", locale="en")
    assert " ".join(time.text.split()) == " ".join(expected.split())
    assert post.created_at.astimezone(UTC).strftime("%-I:%M") not in time.text


# Error pages


@pytest.mark.parametrize(
    ("language", "title", "message"),
    [
        ("en", "Not found", "This page does not exist."),
        ("fr", "Introuvable", "Cette page n'existe pas."),
    ],
)
@pytest.mark.parametrize("path", ["/groups/nowhere", "/no/such/page", "/users/nobody", "/posts/99"])
async def test_not_found_page_in_each_language(
    visitors: OpenVisitor, language: str, title: str, message: str, path: str
) -> None:
    visitor = visitors(language)

    response = await visitor.get(path)

    assert response.status_code == 404
    page = parse(response.text)
    assert page.one("html").attrs["lang"] == language
    assert page.one("h1").text == title
    assert page.one(role="alert").text in (message, _post_not_found[language])


_post_not_found = {"en": "This post does not exist.", "fr": "Cette publication n'existe pas."}


@pytest.mark.parametrize(
    ("language", "title", "message"),
    [
        ("en", "Not allowed", "This group shares its posts with members only."),
        ("fr", "Non autorisé", "Ce groupe ne partage ses publications qu'avec ses membres."),
    ],
)
async def test_forbidden_page_in_each_language(
    visitors: OpenVisitor, db: Pool, web_config: Config, language: str, title: str, message: str
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "circle", visibility="members")
    post = await make_post(db, web_config, group, owner, "Private")
    visitor = visitors(language)

    response = await visitor.get(f"/posts/{post.id}")

    assert response.status_code == 403
    page = parse(response.text)
    assert page.one("html").attrs["lang"] == language
    assert page.one("h1").text == title
    assert page.one(role="alert").text == message


async def test_error_pages_know_who_is_signed_in_and_their_language(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    visitor = visitors("en")
    await visitor.log_in("alice")
    await visitor.post(
        "/settings", {"display_name": "", "summary": "", "language": "fr", "timezone": "UTC"}
    )

    for response in (
        await visitor.get("/no/such/page"),
        await visitor.post("/groups", {"slug": "x"}, token="forged"),
        await visitor.client.post("/users/alice"),
    ):
        page = parse(response.text)
        assert response.status_code in (403, 404, 405)
        assert page.one("html").attrs["lang"] == "fr", response.status_code
        assert page.find("a", href="/users/alice") is not None, response.status_code


async def test_method_not_allowed_page(visitor: Visitor) -> None:
    response = await visitor.client.post("/users/alice")

    assert response.status_code == 405
    assert parse(response.text).one(role="alert").text == (
        "This page does not accept this kind of request."
    )


async def test_pages_carry_security_headers(visitor: Visitor) -> None:
    for response in (await visitor.get("/"), await visitor.get("/nowhere")):
        policy = response.headers["content-security-policy"]
        assert "script-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "form-action 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


# The redirect after login


async def test_login_required_page_comes_back_after_login(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    response = await visitor.get("/settings/password")
    assert response.status_code == 303
    login_url = response.headers["location"]
    assert login_url == "/login?next=/settings/password"
    page = await visitor.page(login_url)
    next_value = page.one("input", name="next").attrs["value"]

    response = await visitor.log_in("alice", next_url=next_value)

    assert response.status_code == 303
    assert response.headers["location"] == "/settings/password"


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "//evil.example/settings",
        "https://evil.example",
        "https://evil.example/login",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/ /evil.example",
    ],
)
async def test_login_never_redirects_to_another_site(
    visitor: Visitor, db: Pool, web_config: Config, next_url: str
) -> None:
    await make_account(db, web_config, "alice")
    page = await visitor.page("/login?next=" + _quote(next_url))
    assert _is_local(page.one("input", name="next").attrs["value"])

    response = await visitor.log_in("alice", next_url=next_url)

    assert response.status_code == 303
    assert _is_local(response.headers["location"]), response.headers["location"]


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _is_local(location: str) -> bool:
    """Tell whether a browser would stay on this site following `location` from a page here."""
    from urllib.parse import urljoin, urlsplit

    # Browsers drop tabs and newlines in URLs and read backslashes as slashes (WHATWG URL).
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    target = urlsplit(urljoin("http://127.0.0.1:8000/login", cleaned.strip()))
    return target.scheme == "http" and target.netloc == "127.0.0.1:8000"


@pytest.mark.parametrize(
    "next_url",
    [
        "/groups\r\nSet-Cookie: entraide_session=planted",
        "/groups\nLocation: https://evil.example",
        "/groups%0d%0aSet-Cookie:%20entraide_session=planted",
    ],
)
async def test_next_cannot_inject_headers(
    visitor: Visitor, db: Pool, web_config: Config, next_url: str
) -> None:
    await make_account(db, web_config, "alice")

    response = await visitor.log_in("alice", next_url=next_url)

    assert response.status_code == 303
    location = response.headers.get_list("location")
    assert len(location) == 1
    assert "\r" not in location[0] and "\n" not in location[0]
    assert _is_local(location[0])
    cookies = response.headers.get_list("set-cookie")
    assert not any("planted" in c for c in cookies)
    assert visitor.session != "planted"


async def test_local_next_with_query_is_kept(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")

    response = await visitor.log_in("alice", next_url="/groups/gardening?before=10")

    assert response.headers["location"] == "/groups/gardening?before=10"


# Form fields


async def test_form_fields_keep_each_attribute(visitor: Visitor) -> None:
    # Attributes written back to back ("requiredautocomplete=...") would be one unknown
    # attribute to a browser: no validation hint, no autofill, no error announced.
    response = await visitor.post("/signup", {"username": "Bad Name", "email": "a@b.cd"})
    page = parse(response.text)

    username = page.one("input", name="username")
    assert username.attrs["type"] == "text"
    assert username.attrs["maxlength"] == "30"
    assert "required" in username.attrs
    assert username.attrs["autocomplete"] == "username"
    assert username.attrs["aria-invalid"] == "true"
    assert username.attrs["aria-describedby"] == "e-username h-username"
    password = page.one("input", name="password")
    assert password.attrs["autocomplete"] == "new-password"
    assert "value" not in password.attrs
    known = {
        "id", "name", "type", "value", "maxlength", "required", "autocomplete",
        "aria-invalid", "aria-describedby", "rows", "list", "accept",
        "autofocus", "data-browser-timezone",
    }  # fmt: skip
    for element in page.find_all("input") + page.find_all("textarea") + page.find_all("select"):
        assert set(element.attrs) <= known, element.attrs


# Request limits


async def test_body_over_the_limit_is_refused_even_without_a_length(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "gardening")
    await visitor.log_in("alice")
    token = await visitor.token()

    async def chunks() -> AsyncIterator[bytes]:
        yield f"csrf_token={token}&content=hello".encode()
        for i in range(25):  # 10 MB in all, more than the 9 MB allowed, in fields under 1 MB
            yield f"&field{i}=".encode() + b"x" * 400_000

    response = await visitor.client.post(
        "/groups/gardening/posts",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await count_rows(db, "posts") == 0


async def test_form_with_too_many_fields_is_refused(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")
    fields = {f"f{i}": "x" for i in range(60)}

    response = await visitor.post("/settings", fields)

    assert response.status_code == 400
