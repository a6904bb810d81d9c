"""Pages of groups and posts: creating a group (and its form errors), writing, reading,
membership by policy, members-only groups, settings and avatars."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from server.config import Config
from server.db import Pool
from server.services.posts import PAGE_SIZE
from tests.factories import count_rows, make_account, make_group, make_member, make_post, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import Element, field_error, field_value, parse
from tests.web.visitor import Visitor

GROUP_FORM = {
    "slug": "gardening",
    "name": "Community gardening",
    "description": "We share seeds.",
    "visibility": "public",
    "join_policy": "open",
    "language": "en",
}


def post_texts(page: Element) -> list[str]:
    return [a.one("div", class_="content").text for a in page.find_all("article", class_="post")]


async def signed_in(visitors: OpenVisitor, db: Pool, config: Config, username: str) -> Visitor:
    await make_account(db, config, username)
    visitor = visitors()
    response = await visitor.log_in(username)
    assert response.status_code == 303
    return visitor


# The main path


async def test_new_person_creates_a_group_writes_and_reads_the_post(visitor: Visitor) -> None:
    assert (await visitor.sign_up("alice")).status_code == 303

    response = await visitor.post("/groups", GROUP_FORM)

    assert response.status_code == 303
    assert response.headers["location"] == "/groups/gardening"
    response = await visitor.post(
        "/groups/gardening/posts", {"content": "Tomato seedlings to give away!"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/groups/gardening#post-1"
    page = await visitor.page("/groups/gardening")
    assert page.one("h1").text == "Community gardening"
    assert post_texts(page) == ["Tomato seedlings to give away!"]
    article = page.one("article", class_="post")
    assert "@alice@127.0.0.1:8000" in article.text
    assert "1 member" in page.one("p", class_="meta").text
    home = await visitor.page("/")
    assert home.find("a", href="/groups/gardening") is not None


async def test_second_member_joins_and_posts_newest_first(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await signed_in(visitors, db, web_config, "alice")
    await alice.post("/groups", GROUP_FORM)
    await alice.post("/groups/gardening/posts", {"content": "First post"})
    bob = await signed_in(visitors, db, web_config, "bob")
    assert (await bob.page("/groups/gardening")).find("textarea", name="content") is None

    assert (await bob.post("/groups/gardening/join")).status_code == 303
    assert (
        await bob.post("/groups/gardening/posts", {"content": "Second post"})
    ).status_code == 303

    for visitor in (alice, bob):
        page = await visitor.page("/groups/gardening")
        assert post_texts(page) == ["Second post", "First post"]
        assert "2 members" in page.one("p", class_="meta").text


async def test_group_page_pages_through_older_posts(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "gardening")
    for i in range(PAGE_SIZE + 2):
        await make_post(db, web_config, group, owner, f"Post {i}")

    page = await visitor.page("/groups/gardening")
    assert post_texts(page) == [f"Post {i}" for i in range(PAGE_SIZE + 1, 1, -1)]
    older = page.one("a", rel="next").attrs["href"]
    page = await visitor.page(older)
    assert post_texts(page) == ["Post 1", "Post 0"]
    assert page.find("a", rel="next") is None
    assert (await visitor.get("/groups/gardening?before=abc")).status_code == 404


async def test_reply_is_shown_under_its_post(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await signed_in(visitors, db, web_config, "alice")
    await alice.post("/groups", GROUP_FORM)
    await alice.post("/groups/gardening/posts", {"content": "Who has a spade?"})
    post_href = (await alice.page("/groups/gardening")).one("a", class_="meta when").attrs["href"]
    post_id = post_href.rsplit("/", 1)[1]

    response = await alice.post(
        "/groups/gardening/posts", {"content": "I do.", "in_reply_to": post_id}
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/posts/{post_id}#post-")
    page = await alice.page(post_href)
    assert post_texts(page) == ["Who has a spade?", "I do."]


async def test_content_warning_hides_the_post_behind_a_summary(visitor: Visitor) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)
    await visitor.post(
        "/groups/gardening/posts",
        {"content": "Details of the accident", "content_warning": "Injury"},
    )

    article = (await visitor.page("/groups/gardening")).one("article", class_="post")

    details = article.one("details")
    assert details.one("summary").text == "Content warning: Injury"
    assert details.one("div", class_="content").text == "Details of the accident"


# Group form errors


async def test_group_form_with_errors_keeps_the_input_and_names_each_field(
    visitor: Visitor, db: Pool
) -> None:
    await visitor.sign_up("alice")
    form = {**GROUP_FORM, "slug": "Bad Slug!", "name": "N" * 81, "description": "Kept text"}

    response = await visitor.post("/groups", form)

    assert response.status_code == 422
    page = parse(response.text)
    assert field_value(page, "slug") == "Bad Slug!"
    assert field_error(page, "slug") == "1 to 30 characters among lower-case letters, digits and _."
    assert field_value(page, "name") == "N" * 81
    assert field_value(page, "description") == "Kept text"
    assert page.one("select", name="visibility").one("option", selected="").attrs["value"] == (
        "public"
    )
    assert await count_rows(db, "groups") == 0


async def test_group_form_reports_every_error_at_once(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    form = {
        "slug": "alice",  # taken (by the person): told along with the rest
        "name": "N" * 81,
        "description": "D" * 2001,
        "visibility": "secret",
        "join_policy": "everyone",
    }

    response = await visitor.post("/groups", form)

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "slug") == "This name is already taken."
    assert field_error(page, "name") == "80 characters at most."
    assert field_error(page, "description") == "2,000 characters at most."
    assert field_error(page, "visibility") == "Choose one of the options."
    assert field_error(page, "join_policy") == "Choose one of the options."
    assert field_value(page, "description") == "D" * 2001
    # The first field in error (the name, first in the form) has the focus, errors are alerts.
    assert "autofocus" in page.one("input", name="name").attrs
    assert "autofocus" not in page.one("input", name="slug").attrs
    assert page.one(id="e-name").attrs["role"] == "alert"
    assert await count_rows(db, "groups") == 0


async def test_group_form_with_missing_fields(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")

    response = await visitor.post("/groups", {})

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "slug") == "This field is required."
    assert field_error(page, "name") == "This field is required."
    assert field_error(page, "visibility") == "Choose one of the options."
    assert await count_rows(db, "groups") == 0


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("gardening", "This name is already taken."),
        ("GARDENING", "This name is already taken."),
        ("alice", "This name is already taken."),
        ("settings", "This name is reserved."),
        ("a" * 31, "1 to 30 characters among lower-case letters, digits and _."),
        ("café", "1 to 30 characters among lower-case letters, digits and _."),
        ("new/../x", "1 to 30 characters among lower-case letters, digits and _."),
    ],
    ids=["duplicate", "duplicate-other-case", "username", "reserved", "long", "accent", "path"],
)
async def test_group_address_must_be_free_and_well_formed(
    visitor: Visitor, db: Pool, slug: str, message: str
) -> None:
    await visitor.sign_up("alice")
    assert (await visitor.post("/groups", GROUP_FORM)).status_code == 303

    response = await visitor.post("/groups", {**GROUP_FORM, "slug": slug, "name": "Another"})

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "slug") == message
    assert field_value(page, "slug") == slug
    assert field_value(page, "name") == "Another"
    assert await count_rows(db, "groups") == 1


async def test_new_group_page_requires_login(visitor: Visitor, db: Pool) -> None:
    response = await visitor.get("/groups/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/groups/new"

    response = await visitor.post("/groups", GROUP_FORM)

    assert response.status_code == 403
    assert "You need to be signed in to do this." in parse(response.text).text
    assert await count_rows(db, "groups") == 0


# Post form errors


@pytest.mark.parametrize(
    ("content", "warning", "field", "message"),
    [
        ("", "", "content", "This field is required."),
        ("   \n  ", "", "content", "This field is required."),
        ("x" * 5001, "", "content", "5,000 characters at most."),
        ("Fine", "w" * 201, "content_warning", "200 characters at most."),
    ],
    ids=["empty", "blank", "long", "long-warning"],
)
async def test_post_form_errors_show_the_group_again_with_the_text_kept(
    visitor: Visitor, db: Pool, content: str, warning: str, field: str, message: str
) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)

    response = await visitor.post(
        "/groups/gardening/posts", {"content": content, "content_warning": warning}
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, field) == message
    assert field_value(page, "content") == content
    assert field_value(page, "content_warning") == warning
    assert page.one("h1").text == "Community gardening"
    assert await count_rows(db, "posts") == 0


async def test_reply_form_errors_show_the_post_again(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)
    await visitor.post("/groups/gardening/posts", {"content": "Question"})
    post_id = (await visitor.page("/groups/gardening")).one("article").attrs["id"].split("-")[1]

    response = await visitor.post(
        "/groups/gardening/posts", {"content": "", "in_reply_to": post_id}
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "content") == "This field is required."
    assert post_texts(page) == ["Question"]


async def test_non_member_cannot_post(visitors: OpenVisitor, db: Pool, web_config: Config) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "gardening")
    bob = await signed_in(visitors, db, web_config, "bob")

    response = await bob.post("/groups/gardening/posts", {"content": "Let me in"})

    assert response.status_code == 403
    assert "Only members of the group can post in it." in parse(response.text).text
    assert await count_rows(db, "posts") == 0


# Editing and deleting posts


async def test_author_edits_and_deletes_a_post(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)
    await visitor.post("/groups/gardening/posts", {"content": "Tomatos"})
    href = (await visitor.page("/groups/gardening")).one("a", class_="meta when").attrs["href"]
    edit_page = await visitor.page(href + "/edit")
    assert field_value(edit_page, "content") == "Tomatos"

    response = await visitor.post(href + "/edit", {"content": "Tomatoes"})
    assert response.status_code == 303
    page = await visitor.page(href)
    assert post_texts(page) == ["Tomatoes"]
    assert "(edited)" in page.one("article").text

    response = await visitor.post(href + "/edit", {"content": ""})
    assert response.status_code == 422
    assert field_error(parse(response.text), "content") == "This field is required."

    assert (await visitor.post(href + "/delete", {"confirm": "yes"})).status_code == 303
    assert post_texts(await visitor.page("/groups/gardening")) == []
    assert (await visitor.get(href)).status_code == 404


async def test_other_members_cannot_edit_or_delete_a_post(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "gardening")
    post = await make_post(db, web_config, group, owner, "Mine")
    bob_account = await make_account(db, web_config, "bob")
    await make_member(db, group, bob_account)
    bob = visitors()
    await bob.log_in("bob")
    page = await bob.page(f"/posts/{post.id}")
    assert page.find("form", action=f"/posts/{post.id}/delete") is None
    before = await snapshot(db)

    edit = await bob.post(f"/posts/{post.id}/edit", {"content": "Yours now"})
    delete = await bob.post(f"/posts/{post.id}/delete", {"confirm": "yes"})
    question = await bob.get(f"/posts/{post.id}/delete")
    assert question.status_code == 403

    assert edit.status_code == delete.status_code == 403
    assert await snapshot(db) == before


# Membership


async def test_approval_group_lets_in_after_a_moderator_says_yes(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "circle", join_policy="approval")
    alice = visitors()
    await alice.log_in("alice")
    bob = await signed_in(visitors, db, web_config, "bob")

    await bob.post("/groups/circle/join")
    page = await bob.page("/groups/circle")
    assert "Your request to join is waiting for a moderator." in page.text
    assert page.find("textarea", name="content") is None
    members = await alice.page("/groups/circle/members")
    requests = members.one("section", aria_labelledby="requests")
    (form,) = [f for f in requests.find_all("form") if f.attrs["action"].endswith("/decide")]
    assert "@bob" in requests.one("li").text
    assert (await alice.post(form.attrs["action"], {"decision": "approve"})).status_code == 303

    response = await bob.post("/groups/circle/posts", {"content": "Hello all"})
    assert response.status_code == 303
    assert post_texts(await alice.page("/groups/circle")) == ["Hello all"]


async def test_invite_only_group_lets_in_invited_people(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "circle", join_policy="invite")
    alice = visitors()
    await alice.log_in("alice")
    bob = await signed_in(visitors, db, web_config, "bob")
    response = await bob.post("/groups/circle/join")
    assert response.status_code == 403
    assert "This group can only be joined by invitation." in parse(response.text).text

    response = await alice.post("/groups/circle/members/invite", {"username": "nobody"})
    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "username") == "No such account on this instance."
    assert field_value(page, "username") == "nobody"
    assert (
        await alice.post("/groups/circle/members/invite", {"username": "Bob"})
    ).status_code == 303

    page = await bob.page("/groups/circle")
    assert "You are invited to this group." in page.text
    assert (await bob.post("/groups/circle/join")).status_code == 303
    assert (await bob.post("/groups/circle/posts", {"content": "Thanks!"})).status_code == 303


async def test_owner_makes_a_moderator_and_removes_a_member(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "gardening")
    bob = await make_account(db, web_config, "bob")
    carol = await make_account(db, web_config, "carol")
    await make_member(db, group, bob)
    await make_member(db, group, carol)
    alice = visitors()
    await alice.log_in("alice")

    response = await alice.post(f"/groups/gardening/members/{bob.id}/role", {"role": "moderator"})
    assert response.status_code == 303
    response = await alice.post(f"/groups/gardening/members/{carol.id}/remove")
    assert response.status_code == 200  # the question first: nobody removed yet
    assert "Remove carol from the group?" in parse(response.text).one("h1").text
    response = await alice.post(f"/groups/gardening/members/{carol.id}/remove", {"confirm": "yes"})
    assert response.status_code == 303

    page = await alice.page("/groups/gardening/members")
    items = {
        li.find_all("a")[0].text: li.text
        for li in page.one("section", aria_labelledby="list").find_all("li")
    }
    assert set(items) == {"alice", "bob"}
    assert "moderator" in items["bob"]
    response = await alice.post(f"/groups/gardening/members/{bob.id}/role", {"role": "king"})
    assert response.status_code == 422


async def test_last_owner_cannot_leave(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)

    response = await visitor.post("/groups/gardening/leave", {"confirm": "yes"})

    assert response.status_code == 409
    assert (
        "The last owner cannot leave: make someone else owner first." in parse(response.text).text
    )


# Members-only groups


async def test_members_only_group_hides_posts_and_members_from_non_members(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "circle", visibility="members")
    post = await make_post(db, web_config, group, owner, "Something private")
    await make_account(db, web_config, "bob")
    anonymous, bob, alice = visitors(), visitors(), visitors()
    await bob.log_in("bob")
    await alice.log_in("alice")

    for visitor in (anonymous, bob):
        page = await visitor.page("/groups/circle")
        assert post_texts(page) == []
        assert "This group shares its posts with members only." in page.text
        assert "Something private" not in (await visitor.get("/groups/circle")).text
        response = await visitor.get(f"/posts/{post.id}")
        assert response.status_code == 403
        assert "Something private" not in response.text
        assert (await visitor.get("/groups/circle/members")).status_code == 403
    assert "circle" not in (await anonymous.page("/")).text
    assert post_texts(await alice.page("/groups/circle")) == ["Something private"]
    assert (await alice.get(f"/posts/{post.id}")).status_code == 200


async def test_profile_shows_members_only_groups_to_their_members_alone(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    # Belonging to a members-only support group is itself private: the group's member list
    # is hidden from outsiders, so a profile must not list it to them either.
    alice = await make_account(db, web_config, "alice")
    private = await make_group(
        db, web_config, alice, "circle", name="Recovery circle", visibility="members"
    )
    await make_group(db, web_config, alice, "gardening", name="Gardening")
    bob_account = await make_account(db, web_config, "bob")
    await make_account(db, web_config, "carol")
    await make_member(db, private, bob_account)
    anonymous, bob, carol, herself = visitors(), visitors(), visitors(), visitors()
    await bob.log_in("bob")
    await carol.log_in("carol")
    await herself.log_in("alice")

    def listed(page: Element) -> set[str]:
        return {a.text for a in page.one("ul", class_="chips").find_all("a")}

    assert listed(await anonymous.page("/users/alice")) == {"Gardening"}
    assert listed(await carol.page("/users/alice")) == {"Gardening"}
    assert listed(await bob.page("/users/alice")) == {"Gardening", "Recovery circle"}
    assert listed(await herself.page("/users/alice")) == {"Gardening", "Recovery circle"}


# Group settings and avatar


async def test_moderator_changes_the_group_settings(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)
    page = await visitor.page("/groups/gardening/settings")
    assert field_value(page, "name") == "Community gardening"

    response = await visitor.post(
        "/groups/gardening/settings",
        {
            **GROUP_FORM,
            "name": "Gardeners",
            "description": "Seeds and tools",
            "visibility": "members",
        },
    )

    assert response.status_code == 303
    page = await visitor.page("/groups/gardening")
    assert page.one("h1").text == "Gardeners"
    assert "Members only" in page.one("p", class_="meta").text
    response = await visitor.post("/groups/gardening/settings", {**GROUP_FORM, "name": ""})
    assert response.status_code == 422
    assert field_error(parse(response.text), "name") == "This field is required."


async def test_group_settings_are_for_moderators_only(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "gardening")
    bob_account = await make_account(db, web_config, "bob")
    await make_member(db, group, bob_account)
    bob = visitors()
    await bob.log_in("bob")
    before = await snapshot(db)

    page = await bob.get("/groups/gardening/settings")
    update = await bob.post("/groups/gardening/settings", {**GROUP_FORM, "name": "Mine"})
    avatar = await bob.post(
        "/groups/gardening/avatar", files={"avatar": ("a.png", _png(), "image/png")}
    )

    assert page.status_code == 403
    assert "Only the group's moderators can do this." in parse(page.text).text
    assert page.text.count('name="name"') == 0
    assert update.status_code == avatar.status_code == 403
    assert await snapshot(db) == before


async def test_owner_uploads_a_group_avatar(visitor: Visitor, db: Pool) -> None:
    await visitor.sign_up("alice")
    await visitor.post("/groups", GROUP_FORM)

    response = await visitor.post(
        "/groups/gardening/avatar", files={"avatar": ("a.png", _png(), "image/png")}
    )
    assert response.status_code == 303
    src = (await visitor.page("/groups/gardening")).one("img", class_="avatar").attrs["src"]
    assert (await visitor.get(src)).headers["content-type"] == "image/png"

    response = await visitor.post(
        "/groups/gardening/avatar",
        files={"avatar": ("x.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")},
    )
    assert response.status_code == 422
    page = parse(response.text)
    assert page.one("p", id="e-avatar").text == "Send a PNG, JPEG, GIF or WebP image."
    assert page.one("img", class_="avatar").attrs["src"] == src


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "orange").save(out, format="PNG")
    return out.getvalue()


async def test_handle_address_leads_to_the_person_or_the_group(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "gardening")

    assert (await visitor.get("/@alice")).headers["location"] == "/users/alice"
    assert (await visitor.get("/@Gardening")).headers["location"] == "/groups/gardening"
