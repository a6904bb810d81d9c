"""Accounts: sign-up per registration mode, login and its rate limits, passwords, approval."""

from __future__ import annotations

import dataclasses

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from server.services import accounts, sessions
from server.services.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    authenticate,
    register_account,
)
from server.storage import sessions as session_store
from tests.factories import PASSWORD, count_rows, make_account, make_group, snapshot

ADDRESS = "192.0.2.1"


def with_mode(config: Config, mode: str) -> Config:
    return dataclasses.replace(config, registrations=mode)


async def register(db: Pool, config: Config, username: str = "alice", **kw: str) -> None:
    values = {"email": f"{username}@example.org", "password": PASSWORD, **kw}
    await register_account(db, config, username=username, **values)


# Sign-up


async def test_register_in_open_mode_creates_active_account(db: Pool, config: Config) -> None:
    account = await register_account(
        db, config, username=" Alice ", email="Alice@Example.org", password=PASSWORD
    )
    assert account.username == "alice"
    assert account.display_name == "alice"
    assert account.email == "Alice@Example.org"
    assert account.status == "active"
    assert not account.is_admin
    async with db.acquire() as conn:
        keys = await conn.fetchrow(
            "SELECT kind, private_key_pem, public_key_pem FROM actors WHERE id = $1", account.id
        )
    assert keys["kind"] == "person"
    assert keys["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert keys["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


async def test_register_stores_a_hash_not_the_password(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    async with db.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT password_hash FROM accounts WHERE actor_id = $1", account.id
        )
    assert stored.startswith("scrypt$")
    assert PASSWORD not in stored


async def test_register_in_approval_mode_creates_pending_account(db: Pool, config: Config) -> None:
    account = await register_account(
        db, with_mode(config, "approval"), username="bob", email="b@example.org", password=PASSWORD
    )
    assert account.status == "pending"


async def test_register_in_closed_mode_is_forbidden_and_stores_nothing(
    db: Pool, config: Config
) -> None:
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await register(db, with_mode(config, "closed"))
    assert await snapshot(db) == before


@pytest.mark.parametrize("mode", ["approval", "closed"])
async def test_operator_creates_active_accounts_in_every_mode(
    db: Pool, config: Config, mode: str
) -> None:
    account = await make_account(db, with_mode(config, mode), "carol", is_admin=True)
    assert account.status == "active"
    assert account.is_admin


async def test_register_rejects_duplicate_username_in_any_case(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await register(db, config, "ALICE", email="other@example.org")
    assert set(caught.value.fields) == {"username"}
    assert await snapshot(db) == before


async def test_register_rejects_duplicate_email_in_any_case(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice", email="alice@example.org")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await register(db, config, "bob", email="ALICE@example.org")
    assert set(caught.value.fields) == {"email"}
    assert await snapshot(db) == before


async def test_register_rejects_username_equal_to_existing_group_slug(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "owner")
    await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await register(db, config, "gardening")
    assert set(caught.value.fields) == {"username"}
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("username", {"username": ""}),
        ("username", {"username": "a" * 31}),
        ("username", {"username": "al ice"}),
        ("username", {"username": "alice!"}),
        ("username", {"username": "élodie"}),
        ("username", {"username": "al-ice"}),
        ("username", {"username": "admin"}),
        ("username", {"username": "inbox"}),
        ("email", {"email": ""}),
        ("email", {"email": "not-an-address"}),
        ("email", {"email": "a@b"}),
        ("email", {"email": "a" * 250 + "@example.org"}),
        ("email", {"email": "<script>@example.org"}),
        ("password", {"password": "short"}),
        ("password", {"password": "x" * 257}),
    ],
)
async def test_register_rejects_malformed_or_too_long_field_and_stores_nothing(
    db: Pool, config: Config, field: str, values: dict[str, str]
) -> None:
    form = {"username": "alice", "email": "alice@example.org", "password": PASSWORD, **values}
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await register_account(db, config, **form)
    assert set(caught.value.fields) == {field}
    assert await snapshot(db) == before


async def test_register_reports_every_bad_field_at_once(db: Pool, config: Config) -> None:
    with pytest.raises(Invalid) as caught:
        await register_account(db, config, username="A B", email="nope", password="short")
    assert set(caught.value.fields) == {"username", "email", "password"}
    assert await count_rows(db, "actors") == 0


# Login


async def test_authenticate_returns_account_for_right_password(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    found = await authenticate(db, username=" Alice ", password=PASSWORD, address=ADDRESS)
    assert found == account


async def test_authenticate_refuses_wrong_password_and_unknown_name_alike(
    db: Pool, config: Config
) -> None:
    await make_account(db, config, "alice")
    with pytest.raises(Invalid) as wrong:
        await authenticate(db, username="alice", password="wrong password", address=ADDRESS)
    with pytest.raises(Invalid) as unknown:
        await authenticate(db, username="nobody", password=PASSWORD, address=ADDRESS)
    assert wrong.value.fields == unknown.value.fields == {"password": "Wrong username or password."}
    assert await count_rows(db, "login_attempts") == 2


async def test_authenticate_limits_failures_per_account(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    for i in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(Invalid):
            await authenticate(db, username="alice", password="wrong", address=f"198.51.100.{i}")
    # Even the right password, from yet another address, waits out the window.
    with pytest.raises(RateLimited):
        await authenticate(db, username="ALICE", password=PASSWORD, address="203.0.113.9")


async def test_owner_known_device_gets_in_while_strangers_lock_the_account(
    db: Pool, config: Config
) -> None:
    await make_account(db, config, "alice")
    for i in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(Invalid):
            await authenticate(db, username="alice", password="wrong", address=f"198.51.100.{i}")
    with pytest.raises(RateLimited):
        await authenticate(db, username="alice", password=PASSWORD, address="203.0.113.9")
    # A browser that logged in before is not held by the strangers' failures...
    assert await authenticate(
        db, username="alice", password=PASSWORD, address="203.0.113.9", known_device=True
    )
    # ...but stays under its own address's limit.
    async with db.acquire() as conn:
        for _ in range(MAX_FAILURES_PER_ADDRESS):
            await session_store.insert_login_attempt(conn, "alice", "203.0.113.10")
    with pytest.raises(RateLimited):
        await authenticate(
            db, username="alice", password=PASSWORD, address="203.0.113.10", known_device=True
        )


async def test_authenticate_limits_failures_per_address(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    # Earlier guesses at other names, recorded as authenticate records them (20 real failed
    # logins would cost 20 scrypt runs); the last one goes through authenticate itself.
    async with db.acquire() as conn:
        for i in range(MAX_FAILURES_PER_ADDRESS - 1):
            await session_store.insert_login_attempt(conn, f"guess{i}", ADDRESS)
    with pytest.raises(Invalid):
        await authenticate(db, username="last_guess", password="wrong", address=ADDRESS)
    with pytest.raises(RateLimited):
        await authenticate(db, username="alice", password=PASSWORD, address=ADDRESS)
    # The account itself is not locked: another address gets in.
    assert await authenticate(db, username="alice", password=PASSWORD, address="203.0.113.9")


async def test_ipv6_failures_count_against_their_whole_64(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    async with db.acquire() as conn:
        for i in range(MAX_FAILURES_PER_ADDRESS - 1):
            await session_store.insert_login_attempt(conn, f"guess{i}", "2001:db8:1:2::/64")
    with pytest.raises(Invalid):
        await authenticate(db, username="guess", password="wrong", address="2001:db8:1:2::99")
    # Another address of the same /64 is the same subscriber: limited.
    with pytest.raises(RateLimited):
        await authenticate(db, username="alice", password=PASSWORD, address="2001:db8:1:2:a:b:c:d")
    assert await authenticate(db, username="alice", password=PASSWORD, address="2001:db8:1:3::1")


async def test_authenticate_ignores_failures_older_than_the_window(
    db: Pool, config: Config
) -> None:
    await make_account(db, config, "alice")
    async with db.acquire() as conn:
        await conn.executemany(
            "INSERT INTO login_attempts (username, address, attempted_at)"
            " VALUES ('alice', $1, now() - interval '16 minutes')",
            [(ADDRESS,)] * 30,
        )
    assert await authenticate(db, username="alice", password=PASSWORD, address=ADDRESS)


async def test_successful_login_clears_the_account_failures(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        with pytest.raises(Invalid):
            await authenticate(db, username="alice", password="wrong", address=ADDRESS)
    await authenticate(db, username="alice", password=PASSWORD, address=ADDRESS)
    assert await count_rows(db, "login_attempts") == 0


async def test_authenticate_refuses_pending_account(db: Pool, config: Config) -> None:
    await register(db, with_mode(config, "approval"), "bob")
    with pytest.raises(Forbidden, match="approval"):
        await authenticate(db, username="bob", password=PASSWORD, address=ADDRESS)


async def test_authenticate_refuses_disabled_account(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, "admin_1", is_admin=True)
    await register(db, with_mode(config, "approval"), "bob")
    pending = await accounts.list_pending_accounts(db, admin)
    await accounts.reject_account(db, admin, pending[0].id)
    with pytest.raises(Forbidden, match="disabled"):
        await authenticate(db, username="bob", password=PASSWORD, address=ADDRESS)


# Passwords


async def test_change_password_replaces_it_and_closes_sessions(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    token = await sessions.open_session(db, account)
    await accounts.change_password(db, account, current=PASSWORD, new="a brand new password")
    assert await sessions.find_session_account(db, token) is None
    assert await count_rows(db, "sessions") == 0
    with pytest.raises(Invalid):
        await authenticate(db, username="alice", password=PASSWORD, address=ADDRESS)
    assert await authenticate(
        db, username="alice", password="a brand new password", address=ADDRESS
    )


async def test_change_password_refuses_wrong_current_or_bad_new_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    account = await make_account(db, config, "alice")
    await sessions.open_session(db, account)
    before = await snapshot(db)
    for current, new, field in [
        ("not my password", "a brand new password", "current_password"),
        (PASSWORD, "short", "new_password"),
        (PASSWORD, "x" * 257, "new_password"),
    ]:
        with pytest.raises(Invalid) as caught:
            await accounts.change_password(db, account, current=current, new=new)
        assert set(caught.value.fields) == {field}, (current, new)
    assert await snapshot(db) == before


async def test_admin_resets_password_and_closes_sessions(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, "boss", is_admin=True)
    alice = await make_account(db, config, "alice")
    token = await sessions.open_session(db, alice)
    await accounts.reset_password(db, admin, username="alice", new="set by the admin")
    assert await sessions.find_session_account(db, token) is None
    assert await authenticate(db, username="alice", password="set by the admin", address=ADDRESS)


async def test_non_admin_cannot_reset_password(db: Pool, config: Config) -> None:
    mallory = await make_account(db, config, "mallory")
    await make_account(db, config, "alice")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await accounts.reset_password(db, mallory, username="alice", new="taken over now")
    assert await snapshot(db) == before


async def test_reset_password_of_unknown_account_is_not_found(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, "boss", is_admin=True)
    before = await snapshot(db)
    with pytest.raises(NotFound):
        await accounts.reset_password(db, admin, username="nobody", new="whatever password")
    assert await snapshot(db) == before


# Approval


async def test_admin_approves_pending_account_which_can_then_log_in(
    db: Pool, config: Config
) -> None:
    admin = await make_account(db, config, "boss", is_admin=True)
    await register(db, with_mode(config, "approval"), "bob")
    pending = await accounts.list_pending_accounts(db, admin)
    assert [a.username for a in pending] == ["bob"]
    await accounts.approve_account(db, admin, pending[0].id)
    assert await accounts.list_pending_accounts(db, admin) == []
    found = await authenticate(db, username="bob", password=PASSWORD, address=ADDRESS)
    assert found.status == "active"


async def test_approving_an_active_account_is_a_conflict(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, "boss", is_admin=True)
    with pytest.raises(Conflict):
        await accounts.approve_account(db, admin, admin.id)


async def test_non_admin_cannot_list_approve_or_reject(db: Pool, config: Config) -> None:
    mallory = await make_account(db, config, "mallory")
    await register(db, with_mode(config, "approval"), "bob")
    async with db.acquire() as conn:
        bob_id = await conn.fetchval("SELECT id FROM actors WHERE name = 'bob'")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await accounts.list_pending_accounts(db, mallory)
    with pytest.raises(Forbidden):
        await accounts.approve_account(db, mallory, bob_id)
    with pytest.raises(Forbidden):
        await accounts.reject_account(db, mallory, bob_id)
    assert await snapshot(db) == before


# Profiles


async def test_update_profile_renders_summary_and_keeps_choices(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    updated = await accounts.update_profile(
        db,
        account,
        display_name="  Alice L. ",
        summary="Hello\n\n<script>x</script>",
        language="en",
        timezone="Europe/Paris",
    )
    assert updated.display_name == "Alice L."
    assert updated.summary_html == "<p>Hello</p><p>&lt;script&gt;x&lt;/script&gt;</p>"
    assert (updated.language, updated.timezone) == ("en", "Europe/Paris")


async def test_update_profile_with_empty_display_name_falls_back_to_username(
    db: Pool, config: Config
) -> None:
    account = await make_account(db, config, "alice")
    updated = await accounts.update_profile(
        db, account, display_name=" ", summary="", language="", timezone="UTC"
    )
    assert updated.display_name == "alice"
    assert updated.language is None


BAD_PROFILE_FIELDS = [
    ("display_name", {"display_name": "x" * 81}),
    ("summary", {"summary": "x" * 2001}),
    ("summary", {"summary": "nul \x00 byte"}),
    ("language", {"language": "de"}),
    ("timezone", {"timezone": "Mars/Olympus"}),
]


async def test_update_profile_rejects_each_bad_field_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    account = await make_account(db, config, "alice")
    before = await snapshot(db)
    for field, values in BAD_PROFILE_FIELDS:
        form = {"display_name": "Alice", "summary": "", "language": "fr", "timezone": "UTC"}
        with pytest.raises(Invalid) as caught:
            await accounts.update_profile(db, account, **(form | values))
        assert set(caught.value.fields) == {field}, values
    assert await snapshot(db) == before


async def test_get_account_by_username_hides_pending_accounts(db: Pool, config: Config) -> None:
    await make_account(db, config, "alice")
    await register(db, with_mode(config, "approval"), "bob")
    assert (await accounts.get_account_by_username(db, "alice")).username == "alice"
    with pytest.raises(NotFound):
        await accounts.get_account_by_username(db, "bob")
    with pytest.raises(NotFound):
        await accounts.get_account_by_username(db, "nobody")
