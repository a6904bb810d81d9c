"""Whatever a person types is shown as text: for every field that is rendered, script payloads
come back visible and inert on every page that shows them (checked on the parsed tree)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import pytest

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_post
from tests.web.conftest import OpenVisitor
from tests.web.markup import Element, executable_markup, parse
from tests.web.visitor import Visitor

PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)>",
    "</textarea><script>alert(1)</script>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "<a href=' javascript:alert(1)'>x</a>",
)


@dataclasses.dataclass
class World:
    alice: Visitor  # signed in, owner of the group and author of the post
    anonymous: Visitor
    group_slug: str
    post_id: int


@pytest.fixture
async def world(visitors: OpenVisitor, db: Pool, web_config: Config) -> World:
    alice = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, alice, "circle", name="Circle")
    post = await make_post(db, web_config, group, alice, "A first post")
    await make_account(db, web_config, "bob")
    visitor = visitors()
    await visitor.log_in("alice")
    return World(visitor, visitors(), group.slug, post.id)


# The one script of the pages: our own static file, on the sign-up page (its time zone).
OWN_SCRIPT = '<script src="/static/timezone.js" defer></script>'


def check_inert(html: str, where: str) -> Element:
    """Fail if the page holds anything a browser would run; return the parsed page."""
    html = html.replace(OWN_SCRIPT, "", 1)
    assert "<script" not in html.lower(), where
    assert 'href="javascript:' not in html.lower(), where
    page = parse(html)
    assert executable_markup(page) == [], where
    return page


def shows(page: Element, payload: str) -> bool:
    """Tell whether the payload reached the page as text or as an attribute value."""
    wanted = " ".join(payload.split())
    if wanted in page.text:
        return True
    return any(payload in v for e in page.iter() for v in e.attrs.values())


async def pages(visitor: Visitor, *paths: str) -> list[tuple[str, str]]:
    result = []
    for path in paths:
        response = await visitor.get(path)
        assert response.status_code == 200, path
        result.append((path, response.text))
    return result


# Each field: submit the payload, return the pages (path, html) that show it.
Submit = Callable[[World, str], Awaitable[list[tuple[str, str]]]]


async def display_name(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"display_name": payload, "summary": "", "language": "", "timezone": "UTC"}
    assert (await w.alice.post("/settings", data)).status_code == 303
    paths = ("/settings", "/users/alice", f"/groups/{w.group_slug}", f"/posts/{w.post_id}")
    return await pages(w.alice, *paths, f"/groups/{w.group_slug}/members")


async def summary(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"display_name": "", "summary": payload, "language": "", "timezone": "UTC"}
    assert (await w.alice.post("/settings", data)).status_code == 303
    return await pages(w.alice, "/settings", "/users/alice") + await pages(
        w.anonymous, "/users/alice"
    )


async def timezone_echo(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"display_name": "", "summary": "", "language": "", "timezone": payload}
    response = await w.alice.post("/settings", data)
    assert response.status_code == 422
    return [("POST /settings", response.text)]


def _group_form(**values: str) -> dict[str, str]:
    base = {"name": "Circle", "description": "", "visibility": "public", "join_policy": "open",
            "language": "en"}  # fmt: skip
    return base | values


async def group_name(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.alice.post(f"/groups/{w.group_slug}/settings", _group_form(name=payload))
    assert response.status_code == 303
    paths = ("/", f"/groups/{w.group_slug}", f"/groups/{w.group_slug}/settings")
    return await pages(
        w.alice, *paths, f"/groups/{w.group_slug}/members", f"/posts/{w.post_id}", "/users/alice"
    )


async def group_description(w: World, payload: str) -> list[tuple[str, str]]:
    form = _group_form(description=payload)
    assert (await w.alice.post(f"/groups/{w.group_slug}/settings", form)).status_code == 303
    return await pages(w.alice, f"/groups/{w.group_slug}", f"/groups/{w.group_slug}/settings")


async def new_group_echo(w: World, payload: str) -> list[tuple[str, str]]:
    form = _group_form(slug=payload, name=payload, description=payload, visibility=payload)
    response = await w.alice.post("/groups", form)
    assert response.status_code == 422
    return [("POST /groups", response.text)]


async def post_content(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.alice.post(f"/groups/{w.group_slug}/posts", {"content": payload})
    assert response.status_code == 303
    page = parse((await w.alice.get(f"/groups/{w.group_slug}")).text)
    post_id = page.find_all("article")[0].attrs["id"].removeprefix("post-")
    return await pages(
        w.alice, f"/groups/{w.group_slug}", f"/posts/{post_id}", f"/posts/{post_id}/edit"
    ) + await pages(w.anonymous, f"/groups/{w.group_slug}")


async def post_edit(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"content": payload, "content_warning": payload}
    assert (await w.alice.post(f"/posts/{w.post_id}/edit", data)).status_code == 303
    return await pages(w.alice, f"/posts/{w.post_id}", f"/posts/{w.post_id}/edit")


async def content_warning(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"content": "Behind a warning", "content_warning": payload}
    assert (await w.alice.post(f"/groups/{w.group_slug}/posts", data)).status_code == 303
    return await pages(w.alice, f"/groups/{w.group_slug}")


async def post_form_echo(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"content": payload * 700, "content_warning": payload}
    response = await w.alice.post(f"/groups/{w.group_slug}/posts", data)
    assert response.status_code == 422
    return [("POST posts", response.text)]


async def reply(w: World, payload: str) -> list[tuple[str, str]]:
    data = {"content": payload, "in_reply_to": str(w.post_id)}
    assert (await w.alice.post(f"/groups/{w.group_slug}/posts", data)).status_code == 303
    return await pages(w.alice, f"/posts/{w.post_id}")


async def invite_echo(w: World, payload: str) -> list[tuple[str, str]]:
    path = f"/groups/{w.group_slug}/members/invite"
    response = await w.alice.post(path, {"username": payload})
    assert response.status_code == 422
    return [("POST invite", response.text)]


async def login_echo(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.anonymous.log_in(payload, "wrong password", next_url=payload)
    assert response.status_code == 422
    login_page = await w.anonymous.get("/login", params={"next": payload})
    return [("POST /login", response.text), ("GET /login?next=", login_page.text)]


async def signup_echo(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.anonymous.post(
        "/signup", {"username": payload, "email": payload, "password": "x"}
    )
    assert response.status_code == 422
    return [("POST /signup", response.text)]


async def follow_echo(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.alice.post("/following", {"handle": payload})
    assert response.status_code == 422
    return [("POST /following", response.text)]


async def remote_follow_echo(w: World, payload: str) -> list[tuple[str, str]]:
    response = await w.anonymous.post(
        f"/groups/{w.group_slug}/remote-follow", {"instance": payload}
    )
    assert response.status_code == 422
    return [("POST remote-follow", response.text)]


FIELDS: dict[str, Submit] = {
    "display name": display_name,
    "summary": summary,
    "time zone (echo)": timezone_echo,
    "group name": group_name,
    "group description": group_description,
    "new group form (echo)": new_group_echo,
    "post content": post_content,
    "post edit": post_edit,
    "content warning": content_warning,
    "post form (echo)": post_form_echo,
    "reply": reply,
    "invite username (echo)": invite_echo,
    "login username and next (echo)": login_echo,
    "signup username and e-mail (echo)": signup_echo,
    "follow address (echo)": follow_echo,
    "remote follow server (echo)": remote_follow_echo,
}


@pytest.mark.parametrize("field", list(FIELDS))
async def test_typed_text_is_shown_inert(world: World, field: str) -> None:
    submit = FIELDS[field]
    for payload in PAYLOADS:
        rendered = await submit(world, payload)
        assert rendered
        for where, html in rendered:
            page = check_inert(html, f"{field}: {where} with {payload!r}")
            assert shows(page, payload) or where.startswith("GET /login"), (field, where, payload)


async def test_tag_pages_take_only_word_characters(world: World) -> None:
    page = check_inert((await world.anonymous.get("/tags/Garden_2")).text, "tag")
    assert page.one("h1").text == "#garden_2"
    for payload in PAYLOADS:
        response = await world.anonymous.get("/tags/" + quote(payload, safe=""))
        assert response.status_code == 404, payload
        check_inert(response.text, payload)


async def test_admin_reset_form_echo_is_inert(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "root_admin", is_admin=True)
    admin = visitors()
    await admin.log_in("root_admin")
    for payload in PAYLOADS:
        response = await admin.post("/admin/password", {"username": payload, "new_password": "x"})
        assert response.status_code == 422
        page = check_inert(response.text, payload)
        assert shows(page, payload)


async def test_pending_registration_shown_to_the_admin_is_escaped(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    # An e-mail address may hold "&": shown escaped, it reads back exactly as typed.
    approval = dataclasses.replace(web_config, registrations="approval")
    email = "tom&amp;jerry@example.org"
    await make_account(db, approval, "pending", email=email, by_operator=False)
    await make_account(db, web_config, "root_admin", is_admin=True)
    admin = visitors()
    await admin.log_in("root_admin")

    page = check_inert((await admin.get("/admin")).text, "admin")

    assert email in page.one("li").text


async def test_check_inert_catches_each_kind_of_markup() -> None:
    # The checks above must be able to fail.
    for html in (
        "<p><script>alert(1)</script></p>",
        "<img src=x onerror=alert(1)>",
        '<a href=" javascript:alert(1)">x</a>',
        "<a href='JaVaScRiPt:alert(1)'>x</a>",
        '<form action="javascript:alert(1)"></form>',
        "<svg><animate onbegin=alert(1)></svg>",
        '<iframe src="data:text/html,x"></iframe>',
    ):
        with pytest.raises(AssertionError):
            check_inert(html, "sample")


async def test_mentions_and_links_in_posts_stay_safe(world: World, db: Pool) -> None:
    content = (
        'Hi @bob and @eve@evil.example"onmouseover=alert(1)\n\n'
        'See https://example.org/a?b=<c>&d="e" and www.example.org'
    )
    response = await world.alice.post(f"/groups/{world.group_slug}/posts", {"content": content})
    assert response.status_code == 303

    page = check_inert((await world.alice.get(f"/groups/{world.group_slug}")).text, "mentions")

    content_div = page.find_all("article")[0].one("div", class_="content")
    hrefs = [a.attrs["href"] for a in content_div.find_all("a")]
    assert hrefs[0] == "http://127.0.0.1:8000/@bob"
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert all(not name.startswith("on") for a in content_div.find_all("a") for name in a.attrs)


async def test_text_in_other_peoples_posts_is_inert_for_readers(
    world: World, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "carol")
    group = await make_group(db, web_config, owner, "open_group", name="<b>Open</b>")
    for payload in PAYLOADS:
        await make_post(db, web_config, group, owner, payload, content_warning=payload)

    for path in ("/", "/groups/open_group"):
        page = check_inert((await world.anonymous.get(path)).text, path)
        assert page.find("b") is None
        assert "<b>Open</b>" in page.text
