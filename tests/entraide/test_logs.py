"""What the processes write to their logs: the chosen format, and never a secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.federation.instances import PASSWORD, SECRET, live_instances


def test_logs_hold_no_password_token_or_key(pg_server: Any, tmp_path: Path) -> None:
    with live_instances(tmp_path, count=1) as (instance,):
        instance.create_user("alice")
        alice = instance.browser("alice")
        session = alice.client.cookies.get("entraide_session")
        csrf = alice.client.cookies.get("entraide_csrf")
        alice.post_form("/settings/password", {"current_password": "wrong", "new_password": "x"})
        key = instance.sql("SELECT private_key_pem FROM actors WHERE name = 'alice'")[0]
        log = instance.log()
    assert "POST /settings/password" in log  # the log is the right one, and it is written
    for secret in (PASSWORD, SECRET, session, csrf, key["private_key_pem"].splitlines()[1]):
        assert secret and secret not in log


def test_json_log_format_writes_one_object_per_line(pg_server: Any, tmp_path: Path) -> None:
    with live_instances(tmp_path, count=1, env={"ENTRAIDE_LOG_FORMAT": "json"}) as (instance,):
        instance.browser().get("/")
        lines = [line for line in instance.log().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert any(e["logger"] == "uvicorn.access" and "GET / " in e["message"] for e in entries)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
