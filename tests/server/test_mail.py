"""E-mail through a real SMTP server started here (aiosmtpd): STARTTLS with a test certificate,
a refused recipient, a server down; password reset links, once and before they expire; digests
with their unsubscribe link; and .eml files when no server is set."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, NotFound
from server.models import Account
from server.services import accounts, groups, mail, notifications
from server.worker import claim, run_job
from tests.factories import PASSWORD, make_account, make_group, snapshot
from tests.federation.instances import free_port
from tests.mailserver import REFUSED, Inbox, smtp_server


@pytest.fixture
def smtp(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Config, Inbox]]:
    """An SMTP server that requires STARTTLS, with a certificate from a test authority."""
    with smtp_server(tmp_path, monkeypatch) as (url, inbox):
        yield replace(config, smtp_url=url), inbox


async def work(db: Pool, config: Config) -> None:
    """Run the e-mail jobs that are due, once each, as the worker would."""
    handlers = mail.job_handlers(db, config)
    for job in await claim(db, 20):
        await run_job(db, handlers, job)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def failures(db: Pool) -> list[tuple[str, str]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT address, reason FROM email_failures ORDER BY id")
    return [(r["address"], r["reason"]) for r in rows]


async def test_a_reset_link_arrives_over_starttls_and_works_once(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    config, inbox = smtp
    account = await make_account(db, config, "ana", email="ana@example.org")

    await mail.request_password_reset(db, "ANA@example.org")
    await work(db, config)

    (message,) = inbox.messages
    assert inbox.secured == [True]
    assert message["To"] == "ana@example.org" and message["Subject"]
    assert message.get_body(("html",)) is not None
    link = re.search(r"http://\S+/password/reset/(\S+)", body(message))
    assert link is not None
    token = link.group(1)
    async with db.acquire() as conn:  # only its hash is kept
        assert not await conn.fetchval(
            "SELECT count(*) FROM email_tokens WHERE position($1::bytea IN token_hash) > 0",
            token.encode(),
        )
    changed = await mail.reset_password_with_token(db, token, "a brand new secret")
    assert changed.id == account.id

    before = await snapshot(db)
    with pytest.raises(NotFound):
        await mail.reset_password_with_token(db, token, "another new secret")
    assert await snapshot(db) == before


async def test_an_expired_reset_link_changes_nothing(db: Pool, smtp: tuple[Config, Inbox]) -> None:
    config, inbox = smtp
    await make_account(db, config, "ana", email="ana@example.org")
    await mail.request_password_reset(db, "ana@example.org")
    await work(db, config)
    match = re.search(r"/password/reset/(\S+)", body(inbox.messages[0]))
    assert match is not None
    async with db.acquire() as conn:
        await conn.execute("UPDATE email_tokens SET expires_at = now() - interval '1 second'")
    before = await snapshot(db)

    with pytest.raises(NotFound):
        await mail.reset_password_with_token(db, match.group(1), "a brand new secret")
    with pytest.raises(NotFound):
        await mail.reset_password_with_token(db, "made-up-token", "a brand new secret")
    assert await snapshot(db) == before


async def test_an_unknown_address_sends_nothing_and_says_the_same(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    _config, inbox = smtp
    before = await snapshot(db)
    await mail.request_password_reset(db, "stranger@example.org")
    assert await snapshot(db) == before
    assert inbox.messages == []


async def test_a_refused_recipient_is_recorded_and_never_retried(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    config, inbox = smtp
    await make_account(db, config, "ana", email=REFUSED)

    await mail.request_password_reset(db, REFUSED)
    await work(db, config)

    assert inbox.messages == []
    ((address, reason),) = await failures(db)
    assert address == REFUSED and "550" in reason
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0


async def test_a_server_down_is_retried_then_given_up_and_recorded(
    db: Pool, config: Config
) -> None:
    down = replace(config, smtp_url=f"smtp://127.0.0.1:{free_port('127.0.0.1')}")
    await make_account(db, down, "ana", email="ana@example.org")
    await mail.request_password_reset(db, "ana@example.org")

    await work(db, down)
    async with db.acquire() as conn:
        row = await conn.fetchrow("SELECT attempts, last_error, run_at > now() AS later FROM jobs")
    assert row["attempts"] == 1 and row["later"] and "MailUnavailable" in row["last_error"]
    assert await failures(db) == []

    async with db.acquire() as conn:  # the last allowed attempt, due now
        await conn.execute("UPDATE jobs SET attempts = $1 - 1, run_at = now()", mail.MAIL_ATTEMPTS)
    await work(db, down)
    ((address, reason),) = await failures(db)
    assert address == "ana@example.org" and reason.startswith("gave up after")
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0


async def notified(db: Pool, config: Config) -> Account:
    """Return a moderator with a request to join waiting (a kind e-mailed at once)."""
    ana = await make_account(db, config, "ana", email="ana@example.org")
    bea = await make_account(db, config, "bea")
    group = await make_group(db, config, ana, "voisins", name="Voisins", join_policy="approval")
    await groups.join_group(db, group, bea)
    return ana


async def test_a_notification_wanted_at_once_is_e_mailed_in_the_reader_language(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    config, inbox = smtp
    await notified(db, replace(config, language="fr"))
    await work(db, replace(config, language="fr"))

    (message,) = inbox.messages
    assert message["Subject"] == "bea demande à rejoindre Voisins"
    assert "/groups/voisins/members" in body(message)


async def test_the_daily_digest_has_a_one_click_unsubscribe_for_its_reader_only(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    config, inbox = smtp
    ana = await notified(db, config)
    await notifications.save_preferences(db, ana, {"join_request": "digest"})
    await groups.join_group(
        db,
        await make_group(db, config, ana, join_policy="approval"),
        await make_account(db, config),
    )

    assert await mail.send_digests(db, config) == 1
    assert await mail.send_digests(db, config) == 0  # one a day
    (message,) = inbox.messages
    header = str(message["List-Unsubscribe"]).strip()
    match = re.fullmatch(r"<http://\S+/unsubscribe/(\d+)/(\w+)>", header)
    assert match is not None and int(match.group(1)) == ana.id

    other = await make_account(db, config, "cam")
    before = await snapshot(db)
    with pytest.raises(NotFound):  # ana's signature does not work for cam
        await mail.unsubscribe(db, config, str(other.id), match.group(2))
    with pytest.raises(NotFound):
        await mail.unsubscribe(db, config, str(ana.id), "0" * 32)
    assert await snapshot(db) == before

    await mail.unsubscribe(db, config, match.group(1), match.group(2))
    chosen = {p.kind: p.delivery for p in await notifications.list_preferences(db, ana, "en")}
    assert "digest" not in chosen.values()


async def test_without_a_server_e_mails_are_eml_files_in_the_data_folder(
    db: Pool, config: Config
) -> None:
    await make_account(db, config, "ana", email="ana@example.org")
    await mail.request_password_reset(db, "ana@example.org")
    await work(db, config)

    (path,) = (config.data_dir / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ana@example.org"
    assert PASSWORD not in path.read_text()


async def test_with_confirmation_an_account_opens_once_its_address_is_confirmed(
    db: Pool, smtp: tuple[Config, Inbox]
) -> None:
    config, inbox = smtp
    confirming = replace(config, confirm_email=True)
    account = await make_account(db, confirming, "ana", email="ana@example.org", by_operator=False)
    assert account.status == "unconfirmed"
    with pytest.raises(Forbidden):
        await accounts.authenticate(db, username="ana", password=PASSWORD, address="192.0.2.1")

    await work(db, confirming)
    match = re.search(r"/signup/confirm/(\S+)", body(inbox.messages[0]))
    assert match is not None
    assert (await mail.confirm_signup(db, confirming, match.group(1))).status == "active"
    await accounts.authenticate(db, username="ana", password=PASSWORD, address="192.0.2.1")

    before = await snapshot(db)
    with pytest.raises(NotFound):
        await mail.confirm_signup(db, confirming, match.group(1))
    assert await snapshot(db) == before
