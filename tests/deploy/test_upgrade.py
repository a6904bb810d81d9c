"""An upgrade from the first tagged release keeps every row.

The code of v0.1.0 (taken from git by its commit, so that a clone without tags works too)
migrates two databases and fills them through two live instances federating; then the current
code migrates them and serves them, and every row is still there.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import drop_database, make_database, unique_database_name
from tests.deploy.tables import read_every_table, rows_lost
from tests.federation.instances import (
    PASSWORD,
    ROOT,
    LiveInstance,
    free_port,
    stop_process,
    wait_until,
)

# The tag v0.1.0 (`git rev-parse v0.1.0`).
FIRST_RELEASE = "d15910c8bbf9ded28c63c1861800a7a25ff48bca"


def release_code(commit: str, folder: Path) -> Path:
    """Write the tree of `commit` into `folder` (git archive), and return it."""
    folder.mkdir()
    archive = folder.with_suffix(".tar")
    result = subprocess.run(
        ["git", "archive", "--format=tar", f"--output={archive}", commit],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"commit {commit} (v0.1.0) is not in this clone: {result.stderr}")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


class ReleaseInstance(LiveInstance):
    """A live instance running the code in `code` (its own `entraide`, server, migrations)."""

    def __init__(self, code: Path, *args: Any) -> None:
        super().__init__(*args)
        self.code = code

    def launch(self) -> None:
        command = [sys.executable, "-m", "entraide", "serve"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--host", self.host, "--port", str(self.port)],
                env=self.env, cwd=self.code, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "entraide", *args],
            env=self.env, cwd=self.code, input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip


def test_upgrade_from_the_first_release_keeps_every_row(pg_server: Any, tmp_path: Path) -> None:
    code = release_code(FIRST_RELEASE, tmp_path / "v0.1.0")
    names = [unique_database_name("upgrade") for _ in range(2)]
    urls = [make_database(name, migrated=False) for name in names]
    instances: list[ReleaseInstance] = []
    try:
        for index, url in enumerate(urls):
            host = f"127.0.0.{20 + index}"
            data_dir = tmp_path / f"instance{index}"
            data_dir.mkdir()
            instances.append(ReleaseInstance(code, host, free_port(host), url, data_dir))
        for instance in instances:
            migrated = instance.cli("migrate")
            assert migrated.returncode == 0, migrated.stderr
            assert migrated.stdout.startswith("applied ")
        # It is the release's code that runs, not this checkout's.
        probe = subprocess.run(
            [sys.executable, "-c", "import server.migrate as m; print(m.__file__)"],
            cwd=code, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert probe.stdout.strip().startswith(str(code)), probe.stdout + probe.stderr

        a, b = instances
        for instance in instances:
            instance.start()
        a.create_user("alice", admin=True)
        a.create_user("amir")
        a.create_group("voisins", "alice")
        b.create_user("bob")
        alice, bob = a.browser("alice"), b.browser("bob")
        followed = bob.post_form(
            "/following", {"handle": f"@voisins@{a.domain}"}, page="/following"
        )
        assert followed.status_code == 303, followed.text
        wait_until(lambda: a.sql("SELECT 1 FROM follows WHERE state = 'accepted'"), timeout=30)
        posted = alice.post_form(
            "/groups/voisins/posts",
            {"content": "Repair café dimanche #voisins", "content_warning": ""},
            page="/groups/voisins",
        )
        assert posted.status_code == 303, posted.text
        wait_until(
            lambda: b.sql("SELECT 1 FROM posts WHERE content_html LIKE '%Repair%'"), timeout=30
        )
        for instance in instances:
            instance.stop()

        before = [read_every_table(url) for url in urls]
        assert before[0]["posts"] and before[0]["follows"] and before[1]["follows"]

        # The current code: migrate, and serve what the release wrote.
        for instance, url, rows in zip(instances, urls, before, strict=True):
            upgraded = subprocess.run(
                [sys.executable, "-m", "entraide", "migrate"],
                env=instance.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert upgraded.returncode == 0, upgraded.stderr
            after = read_every_table(url)
            assert rows_lost(rows, after) == []
            current = sorted(p.name for p in (ROOT / "migrations").glob("[0-9]*.sql"))
            assert sorted(r["name"] for r in after["schema_migrations"]) == current
        # The same public URL as before: the release's ids are built on it.
        current_a = LiveInstance(a.host, a.port, urls[0], a.data_dir)
        current_a.start()
        try:
            page = current_a.browser("amir").get("/groups/voisins")
            assert page.status_code == 200 and "Repair café dimanche" in page.text
            assert (
                current_a.browser()
                .post_form("/login", {"username": "alice", "password": PASSWORD})
                .status_code
                == 303
            )
        finally:
            current_a.stop()
    finally:
        for instance in instances:
            stop_process(instance.process)
        for name in names:
            drop_database(name)
