"""Settings: every bad value stops the start with a message naming the setting."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from server.config import SETTINGS, ConfigError, load_config, read_env_file
from server.proxies import is_trusted_proxy

GOOD_KEY = "k" * 40


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"ENTRAIDE_DATA_DIR": str(tmp_path / "data"), "ENTRAIDE_SECRET_KEY": GOOD_KEY}
    base.update(values)
    return base


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "/var/run/postgresql"),
        ("ENTRAIDE_URL", "ftp://entraide.example"),
        ("ENTRAIDE_URL", "entraide.example"),
        ("ENTRAIDE_URL", "https://"),
        ("ENTRAIDE_URL", ""),
        ("ENTRAIDE_URL", "https://entraide.example/app"),
        ("ENTRAIDE_URL", "https://entraide.example/?a=1"),
        ("ENTRAIDE_URL", "https://entraide.example/#top"),
        ("ENTRAIDE_URL", "http://entraide.example"),
        ("ENTRAIDE_URL", "http://192.168.1.10:8000"),
        ("ENTRAIDE_URL", "https://entraide.example:port"),
        ("ENTRAIDE_REGISTRATIONS", "sometimes"),
        ("ENTRAIDE_REGISTRATIONS", "Open"),
        ("ENTRAIDE_LANGUAGE", "de"),
        ("ENTRAIDE_LANGUAGE", ""),
        ("ENTRAIDE_SECRET_KEY", "short"),
        ("ENTRAIDE_SECRET_KEY", "x" * 31),
        ("ENTRAIDE_ALLOW_PRIVATE_ADDRESSES", "yes"),
        ("ENTRAIDE_TRUSTED_PROXIES", "caddy"),
        ("ENTRAIDE_TRUSTED_PROXIES", "127.0.0.1/40"),
    ],
)
def test_load_config_rejects_bad_value_naming_the_setting(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config(env(tmp_path, **{name: value}))


def test_load_config_rejects_data_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "not-a-folder"
    file.write_text("")
    with pytest.raises(ConfigError, match="ENTRAIDE_DATA_DIR"):
        load_config({"ENTRAIDE_DATA_DIR": str(file), "ENTRAIDE_SECRET_KEY": GOOD_KEY})


def test_load_config_applies_defaults(tmp_path: Path) -> None:
    config = load_config(env(tmp_path))
    assert config.database_url is None
    assert config.base_url == "http://127.0.0.1:8000"
    assert config.registrations == "open"
    assert config.language == "fr"
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.uploads_dir == config.data_dir / "uploads"


def test_load_config_treats_empty_database_url_as_unset(tmp_path: Path) -> None:
    assert load_config(env(tmp_path, DATABASE_URL="")).database_url is None


@pytest.mark.parametrize("url", ["postgresql://u:p@db/entraide", "postgres://db/entraide"])
def test_load_config_accepts_postgresql_urls(tmp_path: Path, url: str) -> None:
    assert load_config(env(tmp_path, DATABASE_URL=url)).database_url == url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://entraide.example/", "https://entraide.example"),
        ("https://entraide.example:8443", "https://entraide.example:8443"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_load_config_accepts_origins_and_drops_trailing_slash(
    tmp_path: Path, given: str, expected: str
) -> None:
    config = load_config(env(tmp_path, ENTRAIDE_URL=given))
    assert config.base_url == expected


def test_config_host_and_secure_follow_the_public_url(tmp_path: Path) -> None:
    config = load_config(env(tmp_path, ENTRAIDE_URL="https://entraide.example:8443"))
    assert config.host == "entraide.example:8443"
    assert config.secure
    assert not load_config(env(tmp_path)).secure


def test_secret_key_is_generated_once_with_mode_600_and_reused(tmp_path: Path) -> None:
    settings = {"ENTRAIDE_DATA_DIR": str(tmp_path / "data")}
    first = load_config(settings)
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert key_file.read_text() == first.secret_key
    second = load_config(settings)
    assert second.secret_key == first.secret_key


def test_secret_key_file_too_short_is_refused_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("\n")
    with pytest.raises(ConfigError, match="ENTRAIDE_SECRET_KEY"):
        load_config({"ENTRAIDE_DATA_DIR": str(tmp_path / "data")})


def test_secret_key_file_being_written_by_another_process_is_waited_for(
    tmp_path: Path,
) -> None:
    # The other process won the O_EXCL race: the file exists, its key arrives a moment later.
    key_file = tmp_path / "data" / "secret_key"
    key_file.parent.mkdir()
    key_file.touch(mode=0o600)
    writer = threading.Timer(0.1, key_file.write_text, args=("w" * 64,))
    writer.start()
    try:
        config = load_config({"ENTRAIDE_DATA_DIR": str(tmp_path / "data")})
    finally:
        writer.join()
    assert config.secret_key == "w" * 64


def test_secret_key_from_environment_is_not_written_to_disk(tmp_path: Path) -> None:
    config = load_config(env(tmp_path))
    assert config.secret_key == GOOD_KEY
    assert not (tmp_path / "data" / "secret_key").exists()


class _Recorder(dict[str, str]):
    """An environment that remembers which variables were asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_every_setting_read_is_documented_and_every_documented_setting_is_read(
    tmp_path: Path,
) -> None:
    environment = _Recorder(env(tmp_path))
    load_config(environment)
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert environment.asked == set(names)
    assert all(s.help.strip() and s.default.strip() for s in SETTINGS)


def test_trusted_proxies_default_to_loopback_and_take_a_list(tmp_path: Path) -> None:
    default = load_config(env(tmp_path)).trusted_proxies
    assert is_trusted_proxy(default, "127.0.0.1") and is_trusted_proxy(default, "::1")
    assert not is_trusted_proxy(default, "10.0.0.2")
    named = load_config(env(tmp_path, ENTRAIDE_TRUSTED_PROXIES="10.0.0.2, fd00::/8"))
    assert is_trusted_proxy(named.trusted_proxies, "fd00::7")
    assert not is_trusted_proxy(named.trusted_proxies, "127.0.0.1")
    assert load_config(env(tmp_path, ENTRAIDE_TRUSTED_PROXIES="")).trusted_proxies == ()


def test_env_file_reads_the_shipped_example_with_its_comments() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "entraide.env.example"
    values = read_env_file(example)
    assert values["ENTRAIDE_URL"] == "https://entraide.example"
    assert "DATABASE_URL" not in values  # commented out
    assert all(not name.startswith("#") for name in values)


def test_env_file_takes_quotes_off_and_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "entraide.env"
    path.write_text("; a comment\n\n  ENTRAIDE_URL = 'https://a.example'\nX=\"b c\"\nY=\n")
    assert read_env_file(path) == {"ENTRAIDE_URL": "https://a.example", "X": "b c", "Y": ""}
    path.write_text("ENTRAIDE_URL=https://a.example\nexport X=1\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_env_file(path)
    with pytest.raises(ConfigError, match="--env-file"):
        read_env_file(tmp_path / "missing.env")
