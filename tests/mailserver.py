"""A real SMTP server for tests (aiosmtpd) that requires STARTTLS with a certificate from a
test authority the client is made to trust; it refuses one recipient and keeps what it gets."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.deploy.tls import issue_certificate, make_authority, write_bundle
from tests.federation.instances import free_port

REFUSED = "nobody@refused.example"


@dataclass
class Inbox:
    """What the test server received, and whether the conversation went through STARTTLS."""

    messages: list[EmailMessage] = field(default_factory=list)
    secured: list[bool] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.secured.append(session.ssl is not None)
        return "250 Message accepted"


@contextmanager
def smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Inbox]]:
    """Start the server on a free loopback port; yield its smtp:// URL and its inbox."""
    authority = make_authority(tmp_path / "ca", "Entraide test mail CA")
    cert, key = issue_certificate(authority, "localhost", tmp_path / "mail")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    # The client trusts the test authority, as it would a real one.
    monkeypatch.setenv("SSL_CERT_FILE", str(write_bundle(tmp_path / "bundle.pem", [authority])))
    inbox = Inbox()
    port = free_port("127.0.0.1")
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield f"smtp://localhost:{port}", inbox
    finally:
        controller.stop()
