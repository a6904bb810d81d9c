"""Settings read from the environment, validated once at start.

Every setting is listed in SETTINGS; the README table and `entraide --help` are built from it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from server.proxies import DEFAULT_TRUSTED_PROXIES, Network, parse_trusted_proxies

REGISTRATION_MODES = ("open", "approval", "closed")
LANGUAGES = ("en", "fr")


class ConfigError(Exception):
    """A setting has a value the instance cannot start with; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "(unset: embedded PostgreSQL in the data folder)",
        "PostgreSQL connection URL (postgresql://user:pass@host/db), PostgreSQL 14 or later.",
    ),
    Setting(
        "ENTRAIDE_URL",
        "http://127.0.0.1:8000",
        "Public origin of the instance, e.g. https://entraide.example; "
        "plain http only for loopback addresses.",
    ),
    Setting(
        "ENTRAIDE_DATA_DIR",
        "./data",
        "Folder for the embedded PostgreSQL, uploads and the generated secret key.",
    ),
    Setting(
        "ENTRAIDE_SECRET_KEY",
        "(generated once into DATA_DIR/secret_key, mode 600)",
        "Secret used to sign CSRF tokens; at least 32 characters.",
    ),
    Setting(
        "ENTRAIDE_REGISTRATIONS",
        "open",
        "Who may sign up: open, approval (an admin approves each account) or closed.",
    ),
    Setting(
        "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES",
        "false",
        "true lets federation reach private and loopback addresses (tests, closed networks); "
        "never on a public instance.",
    ),
    Setting(
        "ENTRAIDE_TRUSTED_PROXIES",
        DEFAULT_TRUSTED_PROXIES,
        "Addresses or CIDRs of the reverse proxies in front of the instance, comma-separated: "
        "only their X-Forwarded-For and X-Forwarded-Proto headers are believed.",
    ),
    Setting(
        "ENTRAIDE_LOG_FORMAT",
        "text",
        "Log lines as plain text or as one JSON object per line (json) for log collectors.",
    ),
    Setting(
        "ENTRAIDE_LANGUAGE",
        "fr",
        "Default interface language when neither the account nor the browser chooses: fr or en.",
    ),
    Setting(
        "ENTRAIDE_TIMEZONE",
        "Europe/Paris",
        "Time zone of the times shown to visitors, and of new accounts whose browser "
        "does not tell theirs (an IANA name such as Europe/Paris or America/Montreal).",
    ),
    Setting(
        "ENTRAIDE_CONFIRM_EMAIL",
        "false",
        "true: a person who signs up confirms their e-mail address (a link sent to it) "
        "before they can log in.",
    ),
    Setting(
        "ENTRAIDE_SMTP_URL",
        "(unset: e-mails are written as .eml files in DATA_DIR/mail and logged)",
        "Mail server for outgoing e-mail: smtp://user:pass@host:587 (STARTTLS) or "
        "smtps://user:pass@host:465 (TLS from the start).",
    ),
    Setting(
        "ENTRAIDE_MAIL_FROM",
        "Entraide <noreply@HOST>",
        "Sender address of the e-mails the instance sends.",
    ),
)


@dataclass(frozen=True)
class Config:
    database_url: str | None
    base_url: str
    data_dir: Path
    secret_key: str
    registrations: str
    language: str
    allow_private_addresses: bool = False
    log_format: str = "text"
    trusted_proxies: tuple[Network, ...] = parse_trusted_proxies(DEFAULT_TRUSTED_PROXIES)
    timezone: str = "Europe/Paris"
    smtp_url: str | None = None
    mail_from: str = ""
    confirm_email: bool = False

    @property
    def host(self) -> str:
        """Return the host[:port] part of the public URL, as used in handles."""
        return urlsplit(self.base_url).netloc

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def mail_sender(self) -> str:
        """Return the From of outgoing e-mail: the setting, else noreply at the host."""
        hostname = urlsplit(self.base_url).hostname or "localhost"
        return self.mail_from or f"Entraide <noreply@{hostname}>"


def mail_server(config: Config) -> str:
    """Return the mail server without its credentials, to show to administrators."""
    if config.smtp_url is None:
        return "unset (.eml files in DATA_DIR/mail)"
    parts = urlsplit(config.smtp_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def parse_base_url(value: str) -> str:
    """Validate ENTRAIDE_URL and return it without a trailing slash."""
    parts = urlsplit(value)
    try:
        _ = parts.port  # urlsplit checks the port only when it is read
    except ValueError:
        raise ConfigError("ENTRAIDE_URL has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("ENTRAIDE_URL must be an origin such as https://entraide.example")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("ENTRAIDE_URL must be an origin without path, query or fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError("ENTRAIDE_URL must use https (plain http only for loopback addresses)")
    return f"{parts.scheme}://{parts.netloc}"


def _read_secret(path: Path) -> str:
    # A process starting alongside may have created the file and not written the key yet.
    for _ in range(20):
        value = path.read_text().strip()
        if len(value) >= 32:
            return value
        time.sleep(0.025)
    raise ConfigError(
        f"ENTRAIDE_SECRET_KEY: {path} holds less than 32 characters; delete it to generate a key"
    )


def _load_secret(env: Mapping[str, str], data_dir: Path) -> str:
    value = env.get("ENTRAIDE_SECRET_KEY")
    if value is not None:
        if len(value) < 32:
            raise ConfigError("ENTRAIDE_SECRET_KEY must be at least 32 characters long")
        return value
    path = data_dir / "secret_key"
    if path.exists():
        return _read_secret(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting side by side must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """Read an environment file as systemd's EnvironmentFile= does, for the lines we ship.

    `NAME=value` lines; blank lines and lines starting with # or ; are skipped; a value in
    matching single or double quotes loses them. Raise ConfigError naming the file and line.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"--env-file {path}: {exc.strerror or exc}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            raise ConfigError(f"--env-file {path} line {number}: expected NAME=value")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the settings; raise ConfigError naming the first bad one."""
    env = os.environ if env is None else env
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None and urlsplit(database_url).scheme not in (
        "postgres",
        "postgresql",
    ):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL")
    base_url = parse_base_url(env.get("ENTRAIDE_URL", "http://127.0.0.1:8000"))
    registrations = env.get("ENTRAIDE_REGISTRATIONS", "open")
    if registrations not in REGISTRATION_MODES:
        raise ConfigError("ENTRAIDE_REGISTRATIONS must be one of: open, approval, closed")
    language = env.get("ENTRAIDE_LANGUAGE", "fr")
    if language not in LANGUAGES:
        raise ConfigError("ENTRAIDE_LANGUAGE must be one of: fr, en")
    data_dir = Path(env.get("ENTRAIDE_DATA_DIR", "./data")).resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError("ENTRAIDE_DATA_DIR must be a folder")
    allow_private = env.get("ENTRAIDE_ALLOW_PRIVATE_ADDRESSES", "false").lower()
    if allow_private not in ("true", "false"):
        raise ConfigError("ENTRAIDE_ALLOW_PRIVATE_ADDRESSES must be true or false")
    log_format = env.get("ENTRAIDE_LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        raise ConfigError("ENTRAIDE_LOG_FORMAT must be text or json")
    try:
        trusted_proxies = parse_trusted_proxies(
            env.get("ENTRAIDE_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES)
        )
    except ValueError as exc:
        raise ConfigError(f"ENTRAIDE_TRUSTED_PROXIES: {exc}") from None
    timezone = env.get("ENTRAIDE_TIMEZONE", "Europe/Paris")
    if timezone not in available_timezones() | {"UTC"}:
        raise ConfigError("ENTRAIDE_TIMEZONE must be a time zone name such as Europe/Paris")
    smtp_url = env.get("ENTRAIDE_SMTP_URL") or None
    if smtp_url is not None:
        parts = urlsplit(smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("ENTRAIDE_SMTP_URL must be smtp://host:port or smtps://host:port")
    mail_from = env.get("ENTRAIDE_MAIL_FROM", "")
    if mail_from and ("@" not in mail_from or "\n" in mail_from or "\r" in mail_from):
        raise ConfigError("ENTRAIDE_MAIL_FROM must be an address such as noreply@example.org")
    confirm_email = env.get("ENTRAIDE_CONFIRM_EMAIL", "false").lower()
    if confirm_email not in ("true", "false"):
        raise ConfigError("ENTRAIDE_CONFIRM_EMAIL must be true or false")
    secret_key = _load_secret(env, data_dir)
    return Config(
        database_url=database_url,
        base_url=base_url,
        data_dir=data_dir,
        secret_key=secret_key,
        registrations=registrations,
        language=language,
        allow_private_addresses=allow_private == "true",
        log_format=log_format,
        trusted_proxies=trusted_proxies,
        timezone=timezone,
        smtp_url=smtp_url,
        mail_from=mail_from,
        confirm_email=confirm_email == "true",
    )
