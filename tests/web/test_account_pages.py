"""Pages of people: sign-up per registration mode, sessions and their cookies, login limits,
logout, password change, profile settings and avatars."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from server.config import Config
from server.db import Pool
from tests.factories import PASSWORD, count_rows, make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor, StartApp
from tests.web.markup import field_error, field_value, parse
from tests.web.visitor import Visitor
from web.security import SESSION_COOKIE


def cookie_attributes(set_cookie: str) -> tuple[str, set[str]]:
    """Return a Set-Cookie header's value and its attributes, lower-cased, without values."""
    first, *attributes = (part.strip() for part in set_cookie.split(";"))
    return first.partition("=")[2], {a.partition("=")[0].lower() for a in attributes} | {
        a.lower() for a in attributes if a.lower().startswith("samesite=")
    }


def session_set_cookie(headers: list[str]) -> str:
    found = [h for h in headers if h.startswith(SESSION_COOKIE + "=")]
    assert len(found) == 1, headers
    return found[0]


def png(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def stored_avatars(config: Config) -> list[Path]:
    folder = config.uploads_dir / "avatars"
    return sorted(folder.iterdir()) if folder.exists() else []


# Sign-up and the session cookie


async def test_signup_opens_a_session_in_an_httponly_samesite_lax_cookie(
    visitor: Visitor,
) -> None:
    response = await visitor.sign_up("alice")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    value, attributes = cookie_attributes(
        session_set_cookie(response.headers.get_list("set-cookie"))
    )
    assert len(value) >= 40
    assert {"httponly", "samesite=lax", "path"} <= attributes
    assert "secure" not in attributes  # plain http on loopback: a Secure cookie would be lost
    assert await visitor.signed_in_as() == "alice"


async def test_session_cookie_is_secure_on_an_https_instance(
    start_app: StartApp, visitors: OpenVisitor
) -> None:
    app = await start_app(base_url="https://entraide.example")
    visitor = visitors(on=app, base_url="https://entraide.example")

    response = await visitor.sign_up("alice")

    assert response.status_code == 303
    _, attributes = cookie_attributes(session_set_cookie(response.headers.get_list("set-cookie")))
    assert {"httponly", "samesite=lax", "secure"} <= attributes


async def test_signup_in_approval_mode_waits_for_an_admin_then_login_works(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    app = await start_app(registrations="approval")
    newcomer, admin = visitors(on=app), visitors(on=app)
    signup_page = await newcomer.page("/signup")
    assert "An administrator approves each new account." in signup_page.text

    response = await newcomer.sign_up("bob")

    assert response.status_code == 200
    assert "Your account is waiting for approval by an administrator." in parse(response.text).text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    refused = await newcomer.log_in("bob")
    assert refused.status_code == 403
    assert field_error(parse(refused.text), "username") == (
        "Your account is waiting for approval by an administrator."
    )

    await make_account(db, web_config, "root_admin", is_admin=True)
    assert (await admin.log_in("root_admin")).status_code == 303
    admin_page = await admin.page("/admin")
    pending = admin_page.one("li")
    assert "@bob" in pending.text
    action = pending.one("form").attrs["action"]
    response = await admin.post(action, {"decision": "approve"})
    assert response.status_code == 303
    assert "@bob" not in (await admin.page("/admin")).text

    assert (await newcomer.log_in("bob")).status_code == 303
    assert await newcomer.signed_in_as() == "bob"


async def test_admin_can_turn_down_a_registration(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    app = await start_app(registrations="approval")
    newcomer, admin = visitors(on=app), visitors(on=app)
    await newcomer.sign_up("bob")
    await make_account(db, web_config, "root_admin", is_admin=True)
    await admin.log_in("root_admin")
    action = (await admin.page("/admin")).one("li").one("form").attrs["action"]

    assert (await admin.post(action, {"decision": "reject"})).status_code == 303

    response = await newcomer.log_in("bob")
    assert response.status_code == 403
    assert field_error(parse(response.text), "username") == "This account is disabled."


async def test_admin_pages_refuse_people_who_are_not_admins(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "carol")
    pending = await make_account(db, web_config, "dave")
    visitor = visitors()
    await visitor.log_in("carol")

    assert (await visitor.get("/admin")).status_code == 403
    before = await snapshot(db)
    response = await visitor.post(f"/admin/accounts/{pending.id}", {"decision": "reject"})
    assert response.status_code == 403
    assert "Only administrators can do this." in parse(response.text).text
    assert await snapshot(db) == before


async def test_closed_mode_refuses_signup(
    start_app: StartApp, visitors: OpenVisitor, db: Pool
) -> None:
    app = await start_app(registrations="closed")
    visitor = visitors(on=app)
    page = await visitor.page("/signup")
    assert "Registrations are closed on this instance." in page.text
    assert page.find("form", action="/signup") is None

    response = await visitor.sign_up("mallory")

    assert response.status_code == 403
    assert "Registrations are closed on this instance." in parse(response.text).text
    assert await count_rows(db, "accounts") == 0


# Login, its limit, logout and sessions


async def test_login_is_refused_with_429_after_five_failures(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    for _ in range(5):
        response = await visitor.log_in("alice", "not the password")
        assert response.status_code == 422
        page = parse(response.text)
        assert field_error(page, "password") == "Wrong username or password."
        assert field_value(page, "username") == "alice"
        assert field_value(page, "password") == ""

    response = await visitor.log_in("alice", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in parse(response.text).text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert await count_rows(db, "sessions") == 0


async def test_login_with_unknown_name_says_the_same_as_a_wrong_password(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    unknown = await visitor.log_in("nobody", PASSWORD)
    wrong = await visitor.log_in("alice", "not the password")

    assert unknown.status_code == wrong.status_code == 422
    assert field_error(parse(unknown.text), "password") == field_error(
        parse(wrong.text), "password"
    )


async def test_logged_out_session_cookie_is_worthless(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    alice = visitors()
    await alice.log_in("alice")
    stolen = alice.session
    assert stolen is not None

    response = await alice.post("/logout")

    assert response.status_code == 303
    value, attributes = cookie_attributes(
        session_set_cookie(response.headers.get_list("set-cookie"))
    )
    assert value in ("", '""')
    assert "max-age" in attributes or "expires" in attributes
    assert alice.session is None
    thief = visitors()
    thief.plant_session(stolen)
    assert await thief.signed_in_as() is None
    response = await thief.get("/settings")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings"
    assert await count_rows(db, "sessions") == 0


async def test_login_replaces_a_session_cookie_planted_before_it(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await make_account(db, web_config, "mallory")
    # The attacker plants their own live session in the victim's browser (session fixation).
    mallory = visitors()
    await mallory.log_in("mallory")
    planted = mallory.session
    assert planted is not None
    victim = visitors()
    victim.plant_session(planted)

    await victim.log_in("alice")

    assert victim.session is not None
    assert victim.session != planted
    assert await victim.signed_in_as() == "alice"
    # The planted token neither follows the victim's login nor stays usable.
    assert await mallory.signed_in_as() is None


async def test_login_replaces_an_unknown_planted_token(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    victim = visitors()
    victim.plant_session("chosen-by-the-attacker-" + "x" * 20)

    await victim.log_in("alice")

    assert victim.session not in (None, "chosen-by-the-attacker-" + "x" * 20)
    attacker = visitors()
    attacker.plant_session("chosen-by-the-attacker-" + "x" * 20)
    assert await attacker.signed_in_as() is None


# Password


async def test_password_change_closes_other_sessions_and_keeps_this_one(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    laptop, phone = visitors(), visitors()
    await laptop.log_in("alice")
    await phone.log_in("alice")
    new_password = "a brand new passphrase"

    response = await laptop.post(
        "/settings/password", {"current_password": PASSWORD, "new_password": new_password}
    )

    assert response.status_code == 303
    assert await laptop.signed_in_as() == "alice"
    assert await phone.signed_in_as() is None
    assert (await phone.log_in("alice", PASSWORD)).status_code == 422
    assert (await phone.log_in("alice", new_password)).status_code == 303


async def test_password_change_with_wrong_current_password_shows_the_error(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")

    response = await visitor.post(
        "/settings/password",
        {"current_password": "wrong password", "new_password": "a brand new passphrase"},
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "current_password") == "Wrong password."
    assert field_error(page, "new_password") is None
    assert field_value(page, "current_password") == ""
    assert "wrong password" not in response.text
    assert await visitor.signed_in_as() == "alice"


async def test_password_change_refuses_a_short_password(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")

    response = await visitor.post(
        "/settings/password", {"current_password": PASSWORD, "new_password": "short"}
    )

    assert response.status_code == 422
    assert field_error(parse(response.text), "new_password") == "At least 10 characters."


async def test_account_deletion_asks_for_the_password(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")
    before = await snapshot(db)

    response = await visitor.post("/settings/delete", {"password": "not my password"})

    assert response.status_code == 422
    assert field_error(parse(response.text), "password") == "Wrong password."
    assert await snapshot(db) == before
    assert await visitor.signed_in_as() == "alice"


async def test_deleted_account_is_signed_out_and_gone(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    alice, other_browser = visitors(), visitors()
    await alice.log_in("alice")
    await other_browser.log_in("alice")

    response = await alice.post("/settings/delete", {"password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert alice.session is None
    assert await other_browser.signed_in_as() is None
    assert (await alice.get("/users/alice")).status_code == 404
    before = await count_rows(db, "sessions")
    response = await alice.log_in("alice")
    assert response.status_code == 403
    assert field_error(parse(response.text), "username") == "This account was deleted."
    assert await count_rows(db, "sessions") == before
    assert (await alice.sign_up("alice", email="again@example.org")).status_code == 422


# Profile settings


async def test_profile_settings_are_saved_and_shown_on_the_profile(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")

    response = await visitor.post(
        "/settings",
        {
            "display_name": "Alice Martin",
            "summary": "Gardener.\n\nSee https://example.org/garden",
            "language": "",
            "timezone": "Europe/Paris",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/settings?saved=1"
    settings = await visitor.page("/settings?saved=1")
    assert settings.one(role="status").text == "Saved."
    assert field_value(settings, "display_name") == "Alice Martin"
    assert field_value(settings, "timezone") == "Europe/Paris"
    profile = await visitor.page("/users/alice")
    assert profile.one("h1").text == "Alice Martin"
    link = profile.one("a", href="https://example.org/garden")
    assert "nofollow" in link.attrs["rel"]
    assert [p.text for p in profile.one("div", class_="content").find_all("p")] == [
        "Gardener.",
        "See https://example.org/garden",
    ]


async def test_profile_settings_with_errors_keep_the_input(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    account = await make_account(db, web_config, "alice")
    await visitor.log_in("alice")

    response = await visitor.post(
        "/settings",
        {
            "display_name": "D" * 81,
            "summary": "Still typed",
            "language": "de",
            "timezone": "Mars/Olympus",
        },
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_value(page, "display_name") == "D" * 81
    assert field_error(page, "display_name") == "80 characters at most."
    assert field_value(page, "summary") == "Still typed"
    assert field_error(page, "summary") is None
    assert field_error(page, "language") == "Choose one of the options."
    assert field_value(page, "timezone") == "Mars/Olympus"
    assert field_error(page, "timezone") == "Unknown time zone."
    profile = await visitor.page("/users/alice")
    assert profile.one("h1").text == account.display_name


# Avatars


async def test_avatar_upload_stores_a_reencoded_png(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")
    # Metadata a person may not know their camera wrote must not be published.
    original = io.BytesIO()
    Image.new("RGB", (800, 600), "teal").save(original, format="PNG", pnginfo=_gps_note())

    response = await visitor.post(
        "/settings/avatar", files={"avatar": ("me.png", original.getvalue(), "image/png")}
    )

    assert response.status_code == 303
    images = (await visitor.page("/settings")).find_all("img", class_="avatar")
    assert len(images) == 1
    src = images[0].attrs["src"]
    assert src.startswith("/media/avatars/") and src.endswith(".png")
    served = await visitor.get(src)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "PNG"
    assert max(image.size) <= 400
    assert b"48.85N" not in served.content
    assert len(stored_avatars(web_config)) == 1
    profile = await visitor.page("/users/alice")
    assert profile.one("img", class_="avatar").attrs["src"] == src


def _gps_note() -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "48.85N 2.35E")
    return info


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        (
            "evil.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            "Send a PNG, JPEG, GIF or WebP image.",
        ),
        (
            "evil.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "image/png",
            "Send a PNG, JPEG, GIF or WebP image.",
        ),
        (
            "notes.txt",
            b"just some text, not an image",
            "text/plain",
            "Send a PNG, JPEG, GIF or WebP image.",
        ),
        ("truncated.png", png()[:40], "image/png", "Send a PNG, JPEG, GIF or WebP image."),
        (
            "huge.png",
            png() + b"\0" * (2 * 1024 * 1024),
            "image/png",
            "The image is too large (2 MB at most).",
        ),
    ],
    ids=["svg-script", "svg-named-png", "text", "truncated-png", "over-2-mb"],
)
async def test_avatar_upload_refuses_what_is_not_a_safe_image(
    visitor: Visitor,
    db: Pool,
    web_config: Config,
    name: str,
    data: bytes,
    content_type: str,
    message: str,
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")
    before = await snapshot(db)

    response = await visitor.post("/settings/avatar", files={"avatar": (name, data, content_type)})

    assert response.status_code == 422
    page = parse(response.text)
    assert page.one("p", id="e-avatar").text == message
    assert page.find("img", class_="avatar") is None
    assert await snapshot(db) == before
    assert stored_avatars(web_config) == []


async def test_avatar_upload_over_the_body_limit_is_refused_with_413(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")
    before = await snapshot(db)

    response = await visitor.post(
        "/settings/avatar",
        files={"avatar": ("huge.png", png() + b"\0" * (10 * 1024 * 1024), "image/png")},
    )

    assert response.status_code == 413
    assert await snapshot(db) == before
    assert stored_avatars(web_config) == []


async def test_avatar_form_without_a_file_says_what_to_send(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alice")
    await visitor.log_in("alice")

    response = await visitor.post("/settings/avatar", {"avatar": "not a file"})

    assert response.status_code == 422
    assert parse(response.text).one("p", id="e-avatar").text == (
        "Send a PNG, JPEG, GIF or WebP image."
    )


async def test_avatar_names_outside_the_store_are_not_served(visitor: Visitor) -> None:
    for name in ("..%2F..%2Fsecret_key", "0" * 32 + ".svg", "x" * 32 + ".png", "passwd"):
        assert (await visitor.get(f"/media/avatars/{name}")).status_code == 404


# Sign-up form errors


async def test_signup_errors_are_shown_next_to_their_fields_with_the_input_kept(
    visitor: Visitor,
) -> None:
    response = await visitor.post(
        "/signup", {"username": "alice", "email": "not-an-address", "password": "secret pass 1"}
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_value(page, "username") == "alice"
    assert field_error(page, "username") is None
    assert field_value(page, "email") == "not-an-address"
    assert field_error(page, "email") == "This is not an e-mail address."
    # A password is never sent back to the browser.
    assert field_value(page, "password") == ""
    assert "secret pass 1" not in response.text
    assert page.one("p", id="e-email").text == "This is not an e-mail address."


async def test_signup_with_missing_fields_names_each_one(visitor: Visitor, db: Pool) -> None:
    response = await visitor.post("/signup", {})

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "username") == "This field is required."
    assert field_error(page, "email") == "This field is required."
    assert field_error(page, "password") == "This field is required."
    assert await count_rows(db, "accounts") == 0


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("a" * 31, "1 to 30 characters among lower-case letters, digits and _."),
        ("alice smith", "1 to 30 characters among lower-case letters, digits and _."),
        ("../admin", "1 to 30 characters among lower-case letters, digits and _."),
        ("admin", "This name is reserved."),
    ],
)
async def test_signup_refuses_malformed_usernames(
    visitor: Visitor, db: Pool, username: str, message: str
) -> None:
    response = await visitor.sign_up(username)

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "username") == message
    assert field_value(page, "username") == username
    assert await count_rows(db, "accounts") == 0


async def test_signup_refuses_a_name_taken_by_a_group_and_a_used_email(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    await make_group(db, web_config, owner, "gardening")

    response = await visitor.sign_up("gardening")
    assert response.status_code == 422
    assert field_error(parse(response.text), "username") == "This name is already taken."

    response = await visitor.sign_up("bob", email="ALICE@example.org")
    assert response.status_code == 422
    assert field_error(parse(response.text), "email") == "This e-mail address is already used."
    assert await count_rows(db, "accounts") == 1


async def test_profile_of_unknown_or_pending_person_is_not_found(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    await make_account(
        db, dataclasses.replace(web_config, registrations="approval"), "bob", by_operator=False
    )
    assert (await visitor.get("/users/nobody")).status_code == 404
    assert (await visitor.get("/users/bob")).status_code == 404


async def test_export_downloads_own_posts_memberships_and_follows_only(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    visitor = visitors()
    import json
    import zipfile

    from tests.factories import make_post

    await visitor.sign_up("exporter")
    other = await make_account(db, web_config)
    group = await make_group(db, web_config, other)
    from server.services import accounts as account_service
    from server.services import groups as group_service

    me = await account_service.get_account_by_username(db, "exporter")
    await group_service.join_group(db, group, me)
    await make_post(db, web_config, group, me, "Mon message à moi")
    await make_post(db, web_config, group, other, "Le message de quelqu'un d'autre")

    response = await visitor.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "account.json", "follows.json", "memberships.json", "posts.json",
    ]  # fmt: skip
    posts = json.loads(archive.read("posts.json"))
    assert [p["content"] for p in posts] == ["Mon message à moi"]
    memberships = json.loads(archive.read("memberships.json"))
    assert [m["group_name"] for m in memberships] == [group.slug]
    assert json.loads(archive.read("account.json"))["username"] == "exporter"
    anonymous = await visitors().get("/settings/export")
    assert anonymous.status_code in (302, 303)
