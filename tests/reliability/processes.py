"""The processes a fault test breaks: `entraide serve` and `entraide worker`, and a PostgreSQL.

Each process is a real `python -m entraide ...` with its output in a log file, so that it can be
killed with SIGKILL as a crash would; the PostgreSQL is a throwaway pgserver cluster of the test's
own, since the session's shared one must not be restarted under the other tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "r" * 40


def instance_env(database_url: str, base_url: str, data_dir: Path) -> dict[str, str]:
    """Return the environment of an instance's processes: loopback peers allowed."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENTRAIDE_URL": base_url,
        "ENTRAIDE_DATA_DIR": str(data_dir),
        "ENTRAIDE_SECRET_KEY": SECRET,
        "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": "true",
        "PYTHONUNBUFFERED": "1",  # "worker started" reaches the log when printed
    }


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


class EntraideProcess:
    """`python -m entraide ARGS` in a subprocess; `start` waits until it is ready."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def launch(self) -> EntraideProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entraide", *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last commit, as a crash or the OOM killer."""
        if self.alive():
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Worker(EntraideProcess):
    """`entraide worker`: the job runner and the delivery worker of one process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(["worker"], env, log)
        self.starts = 0

    def start(self) -> Worker:
        # The log is appended to across restarts: count the lines of this start.
        self.starts = self.log().count("worker started") + 1
        self.launch()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"worker exited:\n{self.log()[-3000:]}")
            return self.log().count("worker started") >= self.starts

        wait_for(ready, timeout, "worker start")


class Web(EntraideProcess):
    """`entraide serve` on 127.0.0.1:port (with its in-process worker unless `worker=False`)."""

    def __init__(self, env: dict[str, str], log: Path, port: int, *, worker: bool) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--processes", "1"]
        super().__init__(args + ([] if worker else ["--no-worker"]), env, log)
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 30) -> Web:
        self.launch()

        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"web exited:\n{self.log()[-3000:]}")
            try:
                return httpx.get(f"{self.base_url}/nodeinfo/2.0", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout, "web start", interval=0.1)
        return self


class OwnPostgres:
    """A PostgreSQL cluster for one test, which it may stop and start again at will."""

    def __init__(self) -> None:
        import pgserver

        # In /dev/shm like the session's cluster (tests/conftest.py): pytest's tmp folders are
        # mode 700, out of reach of the 'pgserver' user PostgreSQL runs as under root.
        shm = Path("/dev/shm")
        parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.folder = Path(tempfile.mkdtemp(prefix="entraide-fault-pg-", dir=parent))
        self.server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            self.folder / "pgdata", cleanup_mode="delete"
        )

    def url(self, database: str) -> str:
        uri: str = self.server.get_uri(database)
        return uri

    def stop(self) -> None:
        """Shut down as an operator restarting it would (fast: sessions are ended)."""
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self.server.pgdata,
            user=self.server.system_user,
            timeout=30,
        )

    def start(self) -> None:
        """Start again, on the same socket: clients reconnect to the same URL."""
        self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        try:
            self.server.cleanup()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
