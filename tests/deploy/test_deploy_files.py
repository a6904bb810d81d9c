"""The shipped deployment files, checked by their own tools (images cannot be built here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from server.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_caddyfile_is_valid() -> None:
    output = run(
        "caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile",
        env={"ENTRAIDE_DOMAIN": "entraide.example"},
    )  # fmt: skip
    assert "Valid configuration" in output


def test_nginx_site_is_valid(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=entraide.example", "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/entraide.example/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/entraide.example/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"error_log stderr;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    output = run("nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"))
    assert "syntax is ok" in output


UNITS = ("entraide-migrate.service", "entraide-web.service", "entraide-worker.service")


def test_systemd_units_verify(tmp_path: Path) -> None:
    entraide = Path(sys.executable).parent / "entraide"
    for unit in UNITS:
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "/opt/entraide/.venv/bin/entraide" in text
        # Point the unit at this checkout's executable: verify checks that ExecStart exists.
        text = text.replace("/opt/entraide/.venv/bin/entraide", str(entraide))
        text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
        (tmp_path / unit).write_text(text)
    output = run("systemd-analyze", "verify", *(str(tmp_path / unit) for unit in UNITS))
    assert "error" not in output.lower(), output


def unit_settings(unit: str) -> dict[str, str]:
    lines = (DEPLOY / "systemd" / unit).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_web_and_worker_start_only_after_the_migrations_ran() -> None:
    migrate = unit_settings("entraide-migrate.service")
    assert migrate["Type"] == "oneshot"
    assert migrate["ExecStart"].endswith("entraide migrate")
    # Without RemainAfterExit, each start of web or worker runs the migrations again first.
    assert "RemainAfterExit" not in migrate
    for unit in ("entraide-web.service", "entraide-worker.service"):
        settings = unit_settings(unit)
        assert settings["Requires"] == "entraide-migrate.service"
        assert "entraide-migrate.service" in settings["After"].split()
        assert "migrate" not in settings["ExecStart"]


def test_backup_script_passes_shellcheck() -> None:
    run("shellcheck", "--severity=style", str(DEPLOY / "entraide-backup"))


def test_backup_script_refuses_settings_without_a_database_url(tmp_path: Path) -> None:
    env_file = tmp_path / "entraide.env"
    env_file.write_text((DEPLOY / "entraide.env.example").read_text())
    result = subprocess.run(
        [str(DEPLOY / "entraide-backup")],
        env={**os.environ, "ENV_FILE": str(env_file), "BACKUP_DIR": str(tmp_path / "b")},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no DATABASE_URL" in result.stderr
    assert not (tmp_path / "b").exists()


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    run(str(hadolint), "--failure-threshold", "info", str(DEPLOY / "Dockerfile"))


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER 10001$", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "/health" in text


def test_example_environment_lists_every_setting() -> None:
    text = (DEPLOY / "entraide.env.example").read_text()
    for setting in SETTINGS:
        assert re.search(rf"^#?{setting.name}=", text, re.MULTILINE), setting.name


def test_compose_file_has_every_service() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for service in ("postgres:", "web:", "worker:", "caddy:"):
        assert f"\n  {service}" in text
    assert "entraide migrate" in text
    # Caddy reaches web from the containers' network, not from loopback.
    assert "ENTRAIDE_TRUSTED_PROXIES: 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16" in text
