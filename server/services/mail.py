"""E-mail to people: notifications at once or in a daily digest, password resets, address changes.

Services queue job rows; the worker sends them (server/mail.py) and records what failed. A
server that refuses (5xx) is never asked again for that e-mail; one out of reach is retried with
the worker's backoff until MAIL_ATTEMPTS, then given up and recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from server import validation as v
from server.config import Config
from server.db import Pool
from server.errors import Invalid, NotFound
from server.mail import Mail, MailRefused, MailUnavailable, send_mail
from server.models import Account, Job
from server.passwords import hash_password, verify_password
from server.services import notifications
from server.storage import accounts as account_store
from server.storage import jobs as job_store
from server.storage import mail as store
from server.storage import notifications as notification_store
from server.storage import sessions as session_store
from server.storage.notifications import SEND_NOTIFICATION_EMAIL
from server.worker import PermanentJobError

log = logging.getLogger(__name__)

SEND_ACCOUNT_EMAIL = "send_account_email"  # a one-time link: reset, or a new address
# A mail server out of reach: about a day of tries (the worker's backoff), then given up.
MAIL_ATTEMPTS = 8
TOKEN_LIFETIME = timedelta(hours=2)
PURPOSES = ("reset_password", "change_email", "confirm_email")

_TEXTS = {
    "en": {
        "reset_subject": "Reset your password",
        "reset_body": "Someone (you, we hope) asked to reset the password of {username} on "
        "{host}. Choose a new one with this link, within two hours; it works once:",
        "confirm_subject": "Confirm your e-mail address",
        "confirm_body": "Welcome to {host}! Confirm that this address is yours to open the "
        "account {username}, within two hours; the link works once:",
        "change_subject": "Confirm your new e-mail address",
        "change_body": "Confirm that {username} on {host} now uses this address, within two "
        "hours; the link works once:",
        "ignore": "If you did not ask for this, ignore this e-mail: nothing changes.",
        "digest_subject": "Your day on {host}",
        "digest_intro": "What happened for you:",
        "open": "Open it:",
        "settings": "Choose what you receive:",
        "unsubscribe": "Stop these daily e-mails:",
    },
    "fr": {
        "reset_subject": "Réinitialiser votre mot de passe",
        "reset_body": "Quelqu'un (vous, espérons-le) a demandé à réinitialiser le mot de passe "
        "de {username} sur {host}. Choisissez-en un nouveau avec ce lien, dans les deux "
        "heures\u00a0; il ne sert qu'une fois\u00a0:",
        "confirm_subject": "Confirmez votre adresse e-mail",
        "confirm_body": "Bienvenue sur {host}\u00a0! Confirmez que cette adresse est la vôtre "
        "pour ouvrir le compte {username}, dans les deux heures\u00a0; le lien ne sert "
        "qu'une fois\u00a0:",
        "change_subject": "Confirmez votre nouvelle adresse e-mail",
        "change_body": "Confirmez que {username} sur {host} utilise désormais cette adresse, "
        "dans les deux heures\u00a0; le lien ne sert qu'une fois\u00a0:",
        "ignore": "Si vous n'avez rien demandé, ignorez ce message\u00a0: rien ne change.",
        "digest_subject": "Votre journée sur {host}",
        "digest_intro": "Ce qui s'est passé pour vous\u00a0:",
        "open": "Voir\u00a0:",
        "settings": "Choisir ce que vous recevez\u00a0:",
        "unsubscribe": "Ne plus recevoir ces e-mails quotidiens\u00a0:",
    },
}


def _texts(config: Config, account: Account) -> dict[str, str]:
    return _TEXTS["fr" if (account.language or config.language) == "fr" else "en"]


def _language(config: Config, account: Account) -> str:
    return "fr" if (account.language or config.language) == "fr" else "en"


def _mail(to: str, subject: str, paragraphs: list[str], links: list[str], **kw: object) -> Mail:
    """Return an e-mail of paragraphs, each followed by its link (text and HTML alike)."""
    text = "\n\n".join(
        f"{p}\n{link}" if link else p for p, link in zip(paragraphs, links, strict=True)
    )
    body = "".join(
        f"<p>{html.escape(p)}"
        + (f'<br><a href="{html.escape(link)}">{html.escape(link)}</a>' if link else "")
        + "</p>"
        for p, link in zip(paragraphs, links, strict=True)
    )
    headers = kw.get("headers", ())
    assert isinstance(headers, tuple)
    return Mail(to, subject, text + "\n", f"<!doctype html><html><body>{body}</body></html>",
                headers)  # fmt: skip


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


# Asking for e-mails.


async def request_password_reset(db: Pool, email: str) -> None:
    """Queue a reset link to the account of this address, if any; say nothing either way."""
    email = email.strip()
    if v.check_email(email) is not None:
        raise Invalid({"email": "Type the e-mail address of your account."})
    async with db.acquire() as conn, conn.transaction():
        account_id = await store.find_active_account_id_by_email(conn, email)
        if account_id is not None:
            await job_store.insert_job(
                conn, SEND_ACCOUNT_EMAIL, {"account_id": account_id, "purpose": "reset_password"}
            )


async def is_reset_link_valid(db: Pool, token: str) -> bool:
    async with db.acquire() as conn:
        return await store.is_token_usable(conn, _hash(token[:200]), "reset_password")


async def reset_password_with_token(db: Pool, token: str, new: str) -> Account:
    """Set a new password with a link's token: once, before it expires; sessions are closed."""
    error = v.check_password(new)
    if error:
        raise Invalid({"new_password": error})
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.acquire() as conn, conn.transaction():
        spent = await store.update_token_used(conn, _hash(token[:200]), "reset_password")
        if spent is None:
            raise NotFound("This link has expired or was already used. Ask for a new one.")
        account_id, _email = spent
        await account_store.update_password_hash(conn, account_id, new_hash)
        await session_store.delete_account_sessions(conn, account_id)
        account = await account_store.get_account(conn, account_id)
    assert account is not None
    return account


async def request_email_change(db: Pool, account: Account, *, email: str, password: str) -> None:
    """Queue a confirmation link to a new address; the address changes once it is followed."""
    email = email.strip()
    error = v.check_email(email)
    if error:
        raise Invalid({"email": error})
    async with db.acquire() as conn:
        stored = await account_store.get_password_hash(conn, account.id)
        taken = await account_store.email_taken(conn, email)
    if stored is None or not await asyncio.to_thread(verify_password, password, stored):
        raise Invalid({"password": "Wrong password."})
    if taken:
        raise Invalid({"email": "This e-mail address is already used."})
    async with db.acquire() as conn:
        await job_store.insert_job(
            conn,
            SEND_ACCOUNT_EMAIL,
            {"account_id": account.id, "purpose": "change_email", "email": email},
        )


async def confirm_email_change(db: Pool, token: str) -> Account:
    """Follow a confirmation link: the account takes the new address (once, unexpired)."""
    async with db.acquire() as conn, conn.transaction():
        spent = await store.update_token_used(conn, _hash(token[:200]), "change_email")
        if spent is None:
            raise NotFound("This link has expired or was already used. Ask for a new one.")
        account_id, email = spent
        if not await store.update_email(conn, account_id, email):
            raise Invalid({"email": "This e-mail address is already used."})
        account = await account_store.get_account(conn, account_id)
    assert account is not None
    return account


async def confirm_signup(db: Pool, config: Config, token: str) -> Account:
    """Follow the sign-up link: the account opens, or waits for an administrator's approval."""
    async with db.acquire() as conn, conn.transaction():
        spent = await store.update_token_used(conn, _hash(token[:200]), "confirm_email")
        account = await account_store.get_account(conn, spent[0]) if spent else None
        if account is None or account.status != "unconfirmed":
            raise NotFound("This link has expired or was already used. Ask for a new one.")
        status = "pending" if config.registrations == "approval" else "active"
        await account_store.update_status(conn, account.id, status)
        if status == "pending":
            await notifications.notify_admins(conn, "account_pending", actor_id=account.id)
        confirmed = await account_store.get_account(conn, account.id)
    assert confirmed is not None
    return confirmed


def unsubscribe_token(config: Config, account_id: int) -> str:
    """Return the signature that lets a digest's link stop digests for this account only."""
    message = f"unsubscribe:{account_id}".encode()
    return hmac.new(config.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(config: Config, account_id: int) -> str:
    return f"{config.base_url}/unsubscribe/{account_id}/{unsubscribe_token(config, account_id)}"


async def unsubscribe(db: Pool, config: Config, account_id: str, token: str) -> None:
    """Stop the daily digests of the account the link was made for (a signed link)."""
    if not (account_id.isascii() and account_id.isdigit()) or len(account_id) > 18:
        raise NotFound("This link is not valid.")
    expected = unsubscribe_token(config, int(account_id))
    if not hmac.compare_digest(expected, token[:64]):
        raise NotFound("This link is not valid.")
    async with db.acquire() as conn:
        await store.update_digests_to_app(conn, int(account_id))


# Sending (the worker).


async def _deliver(db: Pool, config: Config, job: Job, mail: Mail) -> None:
    try:
        await send_mail(config, mail)
    except MailRefused as exc:
        async with db.acquire() as conn:
            await store.insert_email_failure(conn, mail.to, f"refused: {exc}")
        raise PermanentJobError(f"e-mail refused: {exc}") from None
    except MailUnavailable as exc:
        if job.attempts < MAIL_ATTEMPTS:
            raise  # the worker tries again after its backoff
        async with db.acquire() as conn:
            await store.insert_email_failure(
                conn, mail.to, f"gave up after {job.attempts} attempts: {exc}"
            )
        raise PermanentJobError(f"e-mail given up: {exc}") from None


async def send_account_email(db: Pool, config: Config, job: Job) -> None:
    """Make a one-time token and send its link; only its hash is kept."""
    purpose = str(job.payload["purpose"])
    if purpose not in PURPOSES:
        raise PermanentJobError(f"unknown e-mail purpose {purpose!r}")
    async with db.acquire() as conn:
        account = await account_store.get_account(conn, int(str(job.payload["account_id"])))
    wanted_status = "unconfirmed" if purpose == "confirm_email" else "active"
    if account is None or account.status != wanted_status:
        raise PermanentJobError("the account is gone, or no longer waits for this e-mail")
    to = str(job.payload.get("email") or account.email)
    token = secrets.token_urlsafe(32)
    async with db.acquire() as conn:
        await store.insert_email_token(
            conn, _hash(token), account.id, purpose, to, datetime.now(UTC) + TOKEN_LIFETIME
        )
    t = _texts(config, account)
    words = {"username": account.username, "host": config.host}
    if purpose == "reset_password":
        subject, body = t["reset_subject"], t["reset_body"].format(**words)
        link = f"{config.base_url}/password/reset/{token}"
    elif purpose == "confirm_email":
        subject, body = t["confirm_subject"], t["confirm_body"].format(**words)
        link = f"{config.base_url}/signup/confirm/{token}"
    else:
        subject, body = t["change_subject"], t["change_body"].format(**words)
        link = f"{config.base_url}/settings/email/confirm/{token}"
    await _deliver(db, config, job, _mail(to, subject, [body, t["ignore"]], [link, ""]))


async def send_notification_email(db: Pool, config: Config, job: Job) -> None:
    """Send one notification at once, unless it was read or sent already."""
    async with db.acquire() as conn:
        item = await notification_store.get_notification(
            conn, int(str(job.payload["notification_id"]))
        )
        account = (
            await account_store.get_account(conn, item.account_id) if item is not None else None
        )
    if item is None or account is None or item.read_at is not None:
        return
    t = _texts(config, account)
    text = notifications.describe(item, _language(config, account))
    link = config.base_url + notifications.link(item)
    settings = f"{config.base_url}/settings/notifications"
    await _deliver(
        db, config, job, _mail(account.email, text, [text, t["settings"]], [link, settings])
    )
    async with db.acquire() as conn:
        await notification_store.update_emailed(conn, [item.id])


async def send_digests(db: Pool, config: Config) -> int:
    """Send the daily digest of everyone who has one due; return how many were sent.

    The claim marks the notifications e-mailed before sending: a digest that fails is lost
    rather than sent twice, and its notifications stay in the app.
    """
    async with db.acquire() as conn:
        due = await store.list_digest_account_ids(conn)
    sent = 0
    for account_id in due:
        async with db.acquire() as conn, conn.transaction():
            ids = await store.claim_digest(conn, account_id)
            account = await account_store.get_account(conn, account_id)
            items = [await notification_store.get_notification(conn, i) for i in ids]
        if not ids or account is None:
            continue
        language, t = _language(config, account), _texts(config, account)
        lines = [notifications.describe(item, language) for item in items if item is not None]
        links = [config.base_url + notifications.link(item) for item in items if item is not None]
        unsubscribe_link = unsubscribe_url(config, account.id)
        mail = _mail(
            account.email,
            t["digest_subject"].format(host=config.host),
            [t["digest_intro"], *lines, t["unsubscribe"]],
            ["", *links, unsubscribe_link],
            # RFC 2369: mail programs offer the link; RFC 8058: they may POST to it at once
            # (`List-Unsubscribe=One-Click`), which web/security.py takes without a CSRF token.
            headers=(
                ("List-Unsubscribe", f"<{unsubscribe_link}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ),
        )
        try:
            await send_mail(config, mail)
        except (MailRefused, MailUnavailable) as exc:
            async with db.acquire() as conn:
                await store.insert_email_failure(conn, account.email, f"digest: {exc}")
            continue
        sent += 1
    return sent


def job_handlers(db: Pool, config: Config) -> Mapping[str, Callable[[Job], Awaitable[None]]]:
    """Return the worker's handlers of e-mail jobs."""

    async def account_email(job: Job) -> None:
        await send_account_email(db, config, job)

    async def notification_email(job: Job) -> None:
        await send_notification_email(db, config, job)

    return {SEND_ACCOUNT_EMAIL: account_email, SEND_NOTIFICATION_EMAIL: notification_email}
