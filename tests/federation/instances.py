"""Live Entraide instances for federation tests: real processes on loopback addresses.

Each instance is `entraide serve` in a subprocess, on its own 127.0.0.x address and port, with
its own database (a copy of the migrated template) and ENTRAIDE_URL, talking real HTTP.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import drop_database, make_database, unique_database_name

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 40
PASSWORD = "correct horse battery staple"


# Instances started and not yet stopped, whose state a timed-out wait reports.
_RUNNING: list[LiveInstance] = []


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a child process, killing it if it does not stop within 10 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class LiveInstance:
    """A running instance, with helpers to act in it as its members do (through the web)."""

    serve_module = "entraide"  # run with `python -m <module> serve`

    def __init__(self, host: str, port: int, database_url: str, data_dir: Path) -> None:
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"
        self.domain = f"{host}:{port}"
        self.database_url = database_url
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ENTRAIDE_URL": self.base_url,
            "ENTRAIDE_DATA_DIR": str(data_dir),
            "ENTRAIDE_SECRET_KEY": SECRET,
            "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": "true",
            "ENTRAIDE_REGISTRATIONS": "open",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.members: list[Member] = []
        # Session cookies of accounts just signed up, for their first browser() (no second login).
        self.sessions: dict[str, httpx.Cookies] = {}
        self.log_path = data_dir / "serve.log"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it to answer (see `wait_ready`)."""
        command = [sys.executable, "-m", self.serve_module, "serve"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                # One process: the harness stops and kills the instance by its pid.
                [*command, "--host", self.host, "--port", str(self.port), "--processes", "1"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _RUNNING.append(self)

    def exited(self) -> bool:
        """Tell whether a process the instance needs has stopped."""
        return self.process is None or self.process.poll() is not None

    def wait_ready(self, seconds: float = 90) -> None:
        """Wait until the launched instance answers; fail with its log if it does not."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.exited():
                raise RuntimeError(f"instance exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/nodeinfo/2.0", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"instance did not start:\n{self.log()}")

    def stop(self) -> None:
        for member in self.members:
            member.close()
        self.members.clear()
        stop_process(self.process)
        self.process = None
        if self in _RUNNING:
            _RUNNING.remove(self)

    def diagnostics(self) -> str:
        """Summarise what is still queued or failing here, to explain a timeout."""
        lines = [f"--- {self.base_url}"]
        try:
            queries = {
                "jobs": "SELECT kind, payload::text, attempts, last_error FROM jobs ORDER BY id",
                "deliveries": "SELECT inbox, attempts, last_error FROM deliveries ORDER BY id",
                "inbox": "SELECT type, activity_id, outcome FROM inbox_activities"
                " ORDER BY id DESC LIMIT 8",
            }
            for title, query in queries.items():
                lines += [f"{title}: {tuple(row.values())}" for row in self.sql(query)]
        except Exception as exc:  # the database may be what is wrong
            lines.append(f"cannot read the database: {exc!r}")
        lines += self.log().splitlines()[-15:]
        return "\n".join(lines)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run an `entraide` command against this instance's database."""
        return subprocess.run(
            [sys.executable, "-m", "entraide", *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def create_user(self, username: str, *, admin: bool = False) -> None:
        """Create an active account with PASSWORD: by the sign-up form, or the CLI for admins."""
        if not admin and self.env["ENTRAIDE_REGISTRATIONS"] == "open":
            # The form costs one password hash; the CLI costs a Python start-up besides.
            with httpx.Client(base_url=self.base_url, timeout=10) as client:
                page = client.get("/signup").text
                match = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert match, "no sign-up form"
                data = {
                    "username": username,
                    "email": f"{username}@example.org",
                    "password": PASSWORD,
                    "csrf_token": match.group(1),
                }
                response = client.post("/signup", data=data)
                assert response.status_code == 303, response.text
                self.sessions[username] = httpx.Cookies(client.cookies)
            return
        args = [
            "user",
            "create",
            username,
            "--email",
            f"{username}@example.org",
            "--password-stdin",
        ]
        result = self.cli(*args, *(["--admin"] if admin else []), stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr

    def create_group(
        self, slug: str, owner: str, *, join: str = "open", visibility: str = "public"
    ) -> None:
        """Create a group: by the owner's form when they just signed up, else by the CLI."""
        if owner in self.sessions:
            # The form costs one request; the CLI a Python start-up (1 to 3 s).
            with httpx.Client(base_url=self.base_url, timeout=10) as client:
                client.cookies = httpx.Cookies(self.sessions[owner])
                page = client.get("/groups/new").text
                match = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert match, "no group form"
                data = {
                    "slug": slug,
                    "name": slug.title(),
                    "description": "",
                    "visibility": visibility,
                    "join_policy": join,
                    "language": "fr",
                    "csrf_token": match.group(1),
                }
                response = client.post("/groups", data=data)
                assert response.status_code == 303, response.text
            return
        result = self.cli(
            "group", "create", slug, "--name", slug.title(), "--owner", owner,
            "--join", join, "--visibility", visibility,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    def browser(self, username: str | None = None) -> Member:
        """Return a web client, logged in as `username` when given."""
        member = Member(self)
        self.members.append(member)
        if username in self.sessions:
            member.client.cookies = self.sessions.pop(username)
        elif username is not None:
            member.login(username)
        return member

    def ap_get(self, path_or_url: str) -> httpx.Response:
        """GET as a peer asks for ActivityStreams JSON (unsigned)."""
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        return httpx.get(url, headers={"Accept": "application/activity+json"}, timeout=10)

    def actor_uri(self, name: str, kind: str = "users") -> str:
        """Return the ActivityPub id of a local person (`users`) or group (`groups`)."""
        return f"{self.base_url}/{kind}/{name}"

    def post_signed(self, username: str, inbox: str, activity: dict[str, Any]) -> httpx.Response:
        """POST an activity to a peer's inbox, signed with this instance's key of `username`.

        For activities the web pages cannot send yet: the peer sees what a delivery looks like.
        """
        from federation.signatures import sign_request

        rows = self.sql(
            "SELECT private_key_pem FROM actors WHERE name = $1 AND domain IS NULL", username
        )
        assert rows, f"no local actor {username}"
        body = json.dumps(activity).encode()
        headers = sign_request(
            "POST",
            inbox,
            {"Content-Type": "application/activity+json"},
            body,
            self.actor_uri(username) + "#main-key",
            rows[0]["private_key_pem"],
        )
        return httpx.post(inbox, content=body, headers=headers, timeout=10)

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """Read the instance's database directly (assertions only)."""
        import asyncio

        import asyncpg

        async def run() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.database_url)
            try:
                return [dict(r) for r in await conn.fetch(query, *args)]
            finally:
                await conn.close()

        return asyncio.run(run())


class Member:
    """A person using an instance's web pages, with its cookies and CSRF tokens."""

    def __init__(self, instance: LiveInstance) -> None:
        self.instance = instance
        self.client = httpx.Client(base_url=instance.base_url, timeout=10, follow_redirects=False)

    def token(self, page: str = "/") -> str:
        html = self.client.get(page).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no form on {page}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], page: str = "/login") -> httpx.Response:
        return self.client.post(path, data={**data, "csrf_token": self.token(page)})

    def login(self, username: str) -> None:
        response = self.post_form("/login", {"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.text

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def close(self) -> None:
        self.client.close()


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds.

    The failure tells what the running instances were stuck on (jobs, deliveries, logs).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            report = "\n".join(instance.diagnostics() for instance in _RUNNING)
            raise AssertionError(f"condition not met in {timeout} s\n{report}")
        time.sleep(interval)


@contextmanager
def live_instances(
    tmp_path: Path, count: int = 2, env: dict[str, str] | None = None
) -> Iterator[list[LiveInstance]]:
    """Start `count` instances on 127.0.0.2, 127.0.0.3, ..., stop them and drop their databases.

    `env` adds or overrides settings of every instance.
    """
    instances: list[LiveInstance] = []
    names: list[str] = []
    try:
        for index in range(count):
            host = f"127.0.0.{index + 2}"
            name = unique_database_name("live")
            names.append(name)
            data_dir = tmp_path / f"instance{index}"
            data_dir.mkdir()
            instance = LiveInstance(host, free_port(host), make_database(name), data_dir)
            instance.env.update(env or {})
            instances.append(instance)
            instance.launch()
        # Started side by side: each start-up is mostly imports and migrations checks.
        for instance in instances:
            instance.wait_ready()
        yield instances
    finally:
        for instance in instances:
            instance.stop()
        for name in names:
            drop_database(name)
