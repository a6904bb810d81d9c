"""Sending e-mail: to the SMTP server of ENTRAIDE_SMTP_URL, or into .eml files when it is unset.

aiosmtplib speaks SMTP on the event loop with STARTTLS, implicit TLS and AUTH; what it raises
tells a refused recipient (a 5xx answer: never worth retrying) from a server out of reach.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.config import Config

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0


class MailRefused(Exception):
    """The server refused the message or its recipient for good (a 5xx answer)."""


class MailUnavailable(Exception):
    """The server could not be reached or answered 4xx: try again later."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()


def build_message(config: Config, mail: Mail) -> EmailMessage:
    """Return the MIME message: plain text with an HTML alternative."""
    message = EmailMessage()
    message["From"] = config.mail_sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=urlsplit(config.base_url).hostname or "localhost")
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def mail_folder(config: Config) -> Path:
    return config.data_dir / "mail"


async def send_mail(config: Config, mail: Mail) -> None:
    """Send one e-mail; raise MailRefused (do not retry) or MailUnavailable (retry later)."""
    message = build_message(config, mail)
    if config.smtp_url is None:
        folder = mail_folder(config)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}.eml"
        path.write_bytes(message.as_bytes())
        # The subject only: the body may hold a one-time link.
        log.info("e-mail to %s written to %s: %s", mail.to, path, mail.subject)
        return
    parts = urlsplit(config.smtp_url)
    implicit = parts.scheme == "smtps"
    try:
        await aiosmtplib.send(
            message,
            hostname=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit,
            start_tls=None if implicit else True,
            timeout=SMTP_TIMEOUT,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if all(code >= 500 for code in codes):
            raise MailRefused("; ".join(f"{r.code} {r.message}" for r in exc.recipients)) from None
        raise MailUnavailable(str(exc)) from None
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500:
            raise MailRefused(f"{exc.code} {exc.message}") from None
        raise MailUnavailable(f"{exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailUnavailable(f"{type(exc).__name__}: {exc}") from None
