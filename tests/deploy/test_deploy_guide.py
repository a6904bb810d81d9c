"""docs/deploy.md as written, as far as this machine allows.

The documented commands run from the guide's own text, with its paths moved under a folder
that stands for `/` and without `sudo` (the tests run as one user; there is no `entraide`
system user and no systemd). The code is built and installed by `pip install`, not editable,
in a fresh virtualenv, and the checkout is moved away before anything runs; PostgreSQL is
"another machine" reached through DATABASE_URL with a role of its own; the settings are the
shipped example file, edited; the processes are the systemd units' commands with their
EnvironmentFile; Caddy ends TLS with the guide's site block and a certificate from a test
authority that the instance trusts as it would trust a public one.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import re
import shlex
import shutil
import ssl
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from server.config import read_env_file
from server.services.accounts import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from tests.conftest import _execute, _run
from tests.deploy.tables import Tables, read_every_table
from tests.deploy.tls import issue_certificate, make_authority
from tests.federation.instances import ROOT, free_port, stop_process, wait_until

GUIDE = (ROOT / "docs" / "deploy.md").read_text()
PASSWORD = "correct horse battery staple"
# Where the guide puts things, and what stands for them here (under Deployment.root).
PLACES = ("/opt/entraide", "/etc/entraide", "/var/lib/entraide", "/var/backups/entraide",
          "/usr/local/sbin", "/etc/cron.d")  # fmt: skip


def documented(command: str) -> str:
    """Return `command` after checking the guide says it, word for word."""
    assert command in GUIDE, f"docs/deploy.md no longer says: {command}"
    return command


def code_block_after(heading: str) -> str:
    """Return the first fenced block of the guide after `heading`."""
    start = GUIDE.index(heading)
    match = re.search(r"```[a-z]*\n(.*?)```", GUIDE[start:], re.DOTALL)
    assert match, heading
    return match.group(1)


def checkout_files() -> list[str]:
    """Return what a clone of this working tree holds: tracked and new files, not ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def runtime_requirements(project: str = "entraide") -> list[importlib.metadata.Distribution]:
    """Return the installed distributions `project` needs to run: its requirements, theirs, ...

    Extras are followed where a requirement names them; the development extra is not.
    """
    found: dict[str, tuple[importlib.metadata.Distribution, frozenset[str]]] = {}
    todo = [(project, frozenset[str]())]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in found and extras <= found[key][1]:
            continue
        dist = importlib.metadata.distribution(name)
        extras |= found[key][1] if key in found else frozenset()
        found[key] = (dist, extras)
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return [dist for key, (dist, _) in found.items() if key != canonicalize_name(project)]


def lend_requirements(venv: Path, folder: Path) -> None:
    """Make the fresh venv see this environment's copies of Entraide's runtime requirements.

    The guide's `pip install` then finds every requirement already satisfied (pip says so)
    and builds and installs Entraide alone, instead of downloading some forty packages each
    run (a minute and a half, most of the deployment's set-up). Only those requirements are
    lent (one link per top-level name, the test tools are not), so code needing a package the
    project does not declare still fails to import in the deployed instance.
    """
    folder.mkdir()
    for dist in runtime_requirements():
        for top in {Path(str(f)).parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            link = folder / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    (site_packages / "lent-requirements.pth").write_text(f"{folder}\n")


def lend_build_backend(folder: Path) -> dict[str, str]:
    """Return the settings that make pip build Entraide with this environment's setuptools.

    pip otherwise downloads setuptools into a throwaway build environment each run. The build
    itself is the same: setuptools (the version pyproject.toml asks for) makes the wheel from
    the checkout. Nothing is lent when this environment's setuptools is too old.
    """
    text = (ROOT / "pyproject.toml").read_text()
    [requires] = re.findall(r'^requires = \["(setuptools[^"]*)"\]$', text, re.MULTILINE)
    requirement = Requirement(requires)
    try:
        dist = importlib.metadata.distribution(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return {}
    if not requirement.specifier.contains(dist.version):
        return {}
    folder.mkdir()
    for top in ("setuptools", "_distutils_hack", "pkg_resources"):
        if Path(str(dist.locate_file(top))).exists():
            (folder / top).symlink_to(Path(str(dist.locate_file(top))))
    # pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation (a quirk of its options).
    return {"PYTHONPATH": str(folder), "PIP_NO_BUILD_ISOLATION": "0"}


def same_python(venv: Path) -> bool:
    """Tell whether the venv runs this Python version (compiled packages are made for it)."""
    version = subprocess.run(
        [venv / "bin/python", "-c", "import sys; print(sys.version)"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    return version == sys.version


def pgserver_bin() -> Path:
    """Return the folder of the test PostgreSQL's own client programs (pg_dump as recent)."""
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


@dataclass
class Deployment:
    root: Path
    database_url: str
    admin_url: str  # the PostgreSQL superuser's, for the steps done on "the database machine"
    role: str
    database: str
    authority: Any
    public_port: int = 0
    web_port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def socket_dir(self) -> str:
        return self.admin_url.rpartition("?host=")[2]

    @property
    def public_url(self) -> str:
        return f"https://localhost:{self.public_port}"

    @property
    def env_file(self) -> Path:
        return self.root / "etc/entraide/entraide.env"

    @property
    def data_dir(self) -> Path:
        return self.root / "var/lib/entraide"

    @property
    def backups(self) -> Path:
        return self.root / "var/backups/entraide"

    def here(self, command: str) -> str:
        """Return a documented command as this machine runs it: paths moved, no sudo."""
        for place in PLACES:
            command = command.replace(place, str(self.root) + place)
        for sudo in ("sudo -u entraide ", "sudo -u postgres ", "sudo "):
            command = command.replace(sudo, "")
        return command.replace(" -o entraide -g entraide", "")

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{pgserver_bin()}:{os.environ['PATH']}",
            "SSL_CERT_FILE": str(self.authority.cert_path),  # trusted like a public CA
            # psql and createdb, run "as postgres", reach the test PostgreSQL as its superuser.
            "PGHOST": self.socket_dir,
            "PGUSER": "postgres",
            "ENV_FILE": str(self.env_file),
            "BACKUP_DIR": str(self.backups),
        }

    def sh(
        self,
        command: str,
        *,
        check: bool = True,
        timeout: float = 300,
        replace: tuple[str, str] = ("", ""),
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a documented command, as this machine runs it (with no terminal).

        `replace`: a value the guide gives as an example (a date) and its value here;
        `env`: settings of this run only.
        """
        command = documented(command).replace(*replace) if replace[0] else documented(command)
        result = subprocess.run(
            ["sh", "-c", self.here(command)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.environment(), **(env or {})},
            cwd=self.root,
            stdin=subprocess.DEVNULL,
        )
        if check:
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result

    def start_unit(self, unit: str) -> None:
        """Start a shipped unit's ExecStart with its EnvironmentFile, as systemd would."""
        text = (self.root / "opt/entraide/deploy/systemd" / unit).read_text()
        settings = dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"
        )
        env_file = Path(self.here(settings["EnvironmentFile"]))
        command = self.here(settings["ExecStart"]).replace("--port 8000", f"--port {self.web_port}")
        with (self.root / f"{unit}.log").open("ab") as log:
            process = subprocess.Popen(
                shlex.split(command),
                env={**self.environment(), **read_env_file(env_file)},
                cwd=self.here(settings["WorkingDirectory"]),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if settings.get("Type") == "oneshot":
            assert process.wait(120) == 0, self.log(unit)
        else:
            self.processes[unit] = process

    def stop_services(self) -> None:
        for unit in list(self.processes):
            stop_process(self.processes.pop(unit))

    def start_services(self) -> None:
        """`systemctl start entraide-web entraide-worker`: each requires entraide-migrate."""
        self.start_unit("entraide-migrate.service")
        self.start_unit("entraide-web.service")
        self.start_unit("entraide-worker.service")
        self.wait_healthy()

    def log(self, unit: str) -> str:
        path = self.root / f"{unit}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for unit, process in self.processes.items():
                assert process.poll() is None, f"{unit} exited:\n{self.log(unit)}"
            try:
                with self.client() as browser:
                    if browser.get("/health").status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("\n".join(self.log(unit) for unit in self.processes))

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        """Return a browser at a loopback `address`, going through Caddy over verified TLS."""
        trust = ssl.create_default_context(cafile=self.authority.cert_path)
        transport = httpx.HTTPTransport(verify=trust, local_address=address)
        return httpx.Client(base_url=self.public_url, transport=transport, timeout=15)


def log_in(client: httpx.Client, username: str, password: str = PASSWORD) -> int:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:500]
    data = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=data).status_code


def post_form(client: httpx.Client, page: str, path: str, data: dict[str, str]) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert token, page
    response = client.post(path, data={**data, "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text[:500]


def caddy_site(deployment: Deployment) -> str:
    """Return the guide's Caddy site block, for this machine's name, certificate and port."""
    site = code_block_after("### The proxy")
    assert "entraide.example.org {" in site and "reverse_proxy 127.0.0.1:8000" in site
    cert, key = issue_certificate(deployment.authority, "localhost", deployment.root / "tls")
    site = site.replace("entraide.example.org {", f"localhost:{deployment.public_port} {{")
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{deployment.web_port}")
    site = site.replace("{\n", f'{{\n\tbind 127.0.0.1\n\ttls "{cert}" "{key}"\n', 1)
    # Global options: no admin endpoint, no port 80 redirect server, no system trust store.
    return "{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n\n" + site


@pytest.fixture(scope="module")
def deployment(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("machine")
    # The guide's names: this test's PostgreSQL is its own, made for the session.
    role = database = "entraide"
    admin_url = pg_server.get_uri("postgres")
    assert "?host=" in admin_url
    deployment = Deployment(
        root=root,
        database_url=pg_server.get_uri(database).replace("postgres:@", f"{role}:the-password@"),
        admin_url=admin_url,
        role=role,
        database=database,
        authority=make_authority(root / "ca", "Entraide deploy-guide CA"),
        public_port=free_port("127.0.0.1"),
        web_port=free_port("127.0.0.1"),
    )
    caddy: subprocess.Popen[bytes] | None = None
    try:
        # A Debian machine's folders (and the home adduser makes), a checkout, then the install.
        for folder in ("usr/local/sbin", "etc/cron.d", "var/backups", "var/lib/entraide"):
            (root / folder).mkdir(parents=True)
        checkout = root / "opt/entraide"
        checkout.mkdir(parents=True)
        for name in checkout_files():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
        deployment.sh("sudo python3 -m venv /opt/entraide/.venv")
        build: dict[str, str] = {}
        if same_python(checkout / ".venv"):
            lend_requirements(checkout / ".venv", root / "lent-requirements")
            build = lend_build_backend(root / "lent-build-backend")
        deployment.sh(
            "sudo /opt/entraide/.venv/bin/pip install /opt/entraide", timeout=600, env=build
        )
        site_packages = next((checkout / ".venv/lib").glob("python3*/site-packages"))
        assert (site_packages / "migrations" / "0001_initial.sql").is_file()
        assert not list(site_packages.glob("__editable__*"))
        # From now on, nothing may come from the source: keep only deploy/ and the venv.
        for target in checkout.iterdir():
            if target.name not in ("deploy", ".venv"):
                shutil.rmtree(target) if target.is_dir() else target.unlink()

        # The database, on "another machine": a role with a password and its own database.
        create_role = "CREATE ROLE entraide LOGIN PASSWORD 'the-password'"
        deployment.sh(f'sudo -u postgres psql -c "{create_role}"')
        deployment.sh("sudo -u postgres createdb -O entraide entraide")

        # Settings and services.
        deployment.sh("sudo install -d -m 750 -o entraide -g entraide /etc/entraide")
        deployment.sh(
            "sudo install -m 600 -o entraide -g entraide "
            "/opt/entraide/deploy/entraide.env.example /etc/entraide/entraide.env"
        )
        text = deployment.env_file.read_text()
        edits = {
            "ENTRAIDE_URL=https://entraide.example": f"ENTRAIDE_URL={deployment.public_url}",
            "#DATABASE_URL=postgresql://entraide:CHANGE-ME@127.0.0.1/entraide": "DATABASE_URL="
            + deployment.database_url,
            "ENTRAIDE_DATA_DIR=/var/lib/entraide": f"ENTRAIDE_DATA_DIR={deployment.data_dir}",
        }
        for old, new in edits.items():
            assert old in text, old
            text = text.replace(old, new)
        deployment.env_file.write_text(text)

        # Caddy, with the guide's site block.
        caddyfile = root / "Caddyfile"
        caddyfile.write_text(caddy_site(deployment))
        home = root / "caddy-home"
        with (root / "caddy.log").open("ab") as log:
            caddy = subprocess.Popen(
                ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
                env={**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                     "XDG_DATA_HOME": str(home / "data")},
                stdout=log, stderr=subprocess.STDOUT, cwd=root,
            )  # fmt: skip
        deployment.start_services()
        yield deployment
    finally:
        deployment.stop_services()
        stop_process(caddy)
        _run(
            _execute(
                admin_url,
                f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                f"DROP ROLE IF EXISTS {role}",
            )
        )


def test_installed_instance_serves_behind_caddy_and_doctor_finds_nothing_wrong(
    deployment: Deployment,
) -> None:
    with deployment.client() as browser:
        health = browser.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"

    created = deployment.sh(
        "sudo -u entraide /opt/entraide/.venv/bin/entraide --env-file /etc/entraide/entraide.env"
        " \\\n    user create alice --email alice@example.org --admin",
        check=False,
    )
    # No terminal here: one line saying what to do, as the guide says.
    assert created.returncode == 1 and created.stderr.count("\n") == 1
    assert "--password-stdin" in created.stderr and "--password-stdin" in GUIDE
    command = deployment.here(
        "/opt/entraide/.venv/bin/entraide --env-file /etc/entraide/entraide.env user create"
        " alice --email alice@example.org --admin --password-stdin"
    )
    result = subprocess.run(
        shlex.split(command), input=PASSWORD + "\n", capture_output=True, text=True,
        env=deployment.environment(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"@alice@localhost:{deployment.public_port}" in result.stdout

    doctor = deployment.sh(
        "sudo -u entraide /opt/entraide/.venv/bin/entraide --env-file /etc/entraide/entraide.env"
        " doctor",
        check=False,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "all good" in doctor.stdout
    assert "public URL is this instance" in doctor.stdout
    assert re.search(r"ok +workers: \d+ worker\(s\) holding a live lease", doctor.stdout)


def test_failed_logins_of_one_client_behind_caddy_do_not_block_another(
    deployment: Deployment,
) -> None:
    make_account(deployment, "bea")
    # One client, every guess at a random name; it also forges X-Forwarded-For, which Caddy
    # replaces with the address it sees.
    with deployment.client("127.0.0.2") as guesser:
        for i in range(MAX_FAILURES_PER_ADDRESS):
            guesser.headers["x-forwarded-for"] = f"198.51.100.{i}"
            assert log_in(guesser, f"nobody{uuid.uuid4().hex[:8]}") == 422
        assert log_in(guesser, "bea") == 429
    with deployment.client("127.0.0.3") as other:
        assert log_in(other, "bea") == 303


def test_strangers_behind_caddy_lock_an_account_but_not_its_owner(
    deployment: Deployment,
) -> None:
    make_account(deployment, "carla")
    with deployment.client("127.0.0.4") as owner:
        assert log_in(owner, "carla") == 303
        for i in range(MAX_FAILURES_PER_ACCOUNT):
            with deployment.client(f"127.0.0.{10 + i}") as stranger:
                assert log_in(stranger, "carla", "a guess") == 422
        with deployment.client("127.0.0.5") as new_browser:
            assert log_in(new_browser, "carla") == 429
        assert log_in(owner, "carla") == 303


def test_trailing_slash_redirect_behind_caddy_stays_on_https(deployment: Deployment) -> None:
    with deployment.client() as browser:
        response = browser.get("/tags/entraide/")
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"] == f"{deployment.public_url}/tags/entraide"


def make_account(deployment: Deployment, username: str) -> None:
    command = deployment.here(
        "/opt/entraide/.venv/bin/entraide --env-file /etc/entraide/entraide.env user create"
        f" {username} --email {username}@example.org --password-stdin"
    )
    result = subprocess.run(
        shlex.split(command), input=PASSWORD + "\n", capture_output=True, text=True,
        env=deployment.environment(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def public_state(deployment: Deployment) -> dict[str, Any]:
    """Return what people and peers see: pages, and the actors' public keys."""
    state: dict[str, Any] = {}
    with deployment.client() as browser:
        for path in ("/", "/users/dora", "/groups/jardin", "/groups/jardin/members"):
            response = browser.get(path)
            assert response.status_code == 200, path
            # Each visit gets its own CSRF token; everything else must be the same.
            state[path] = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text)
        for path in ("/users/dora", "/groups/jardin", "/actor"):
            document = browser.get(path, headers={"Accept": "application/activity+json"})
            state[f"key of {path}"] = document.json()["publicKey"]["publicKeyPem"]
    return state


def idle(tables: Tables) -> Tables | None:
    """Return the tables if no job waits, else None."""
    return tables if not tables["jobs"] else None


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_destroy_restore_keeps_every_row_page_and_key(deployment: Deployment) -> None:
    make_account(deployment, "dora")
    with deployment.client("127.0.0.6") as dora:
        assert log_in(dora, "dora") == 303
        post_form(dora, "/groups/new", "/groups",
                  {"slug": "jardin", "name": "Jardin partagé", "visibility": "public",
                   "join_policy": "open", "description": "Des graines et des bras",
                   "language": "fr"})  # fmt: skip
        post_form(dora, "/groups/jardin", "/groups/jardin/posts",
                  {"content": "Semis samedi #jardin", "content_warning": ""})  # fmt: skip
        # Once the worker has done what the post asked (a Create, announced by the group).
        tables = wait_until(lambda: idle(read_every_table(deployment.database_url)), timeout=30)
        assert tables["posts"] and tables["groups"] and tables["sessions"]
        pages = public_state(deployment)
        secret_key = (deployment.data_dir / "secret_key").read_text()

        # The documented backup: installed, run once now.
        deployment.sh(
            "sudo install -m 755 /opt/entraide/deploy/entraide-backup "
            "/usr/local/sbin/entraide-backup"
        )
        cron = deployment.root / "etc/cron.d/entraide-backup"
        deployment.sh(
            "echo '15 3 * * * root /usr/local/sbin/entraide-backup' | "
            "sudo tee /etc/cron.d/entraide-backup"
        )
        assert cron.read_text().split()[5:] == [
            "root",
            deployment.here("/usr/local/sbin/entraide-backup"),
        ]
        deployment.sh(
            "sudo /usr/local/sbin/entraide-backup      # once now: it prints what it wrote"
        )
        day = datetime.date.today().isoformat()
        files = [deployment.backups / f"{kind}-{day}.{ext}"
                 for kind, ext in (("db", "dump"), ("data", "tgz"), ("etc", "tgz"))]  # fmt: skip
        assert sorted(p.name for p in deployment.backups.iterdir()) == sorted(p.name for p in files)
        # Readable by root alone: the folder and each file.
        assert mode(deployment.backups) == 0o700
        for path in files:
            assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
            unreadable = subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 "cat", str(path)], capture_output=True,
            )  # fmt: skip
            assert unreadable.returncode != 0 and not unreadable.stdout

        # Everything is lost: the services, the database, the data folder, the settings.
        deployment.stop_services()
        _run(_execute(deployment.admin_url,
                      f"DROP DATABASE {deployment.database} WITH (FORCE)"))  # fmt: skip
        shutil.rmtree(deployment.data_dir)
        shutil.rmtree(deployment.env_file.parent)

        # What must exist first: the role (kept) and an empty database it owns.
        deployment.sh("sudo -u postgres createdb -O entraide entraide")
        restore = code_block_after("Then:\n").splitlines()[0]
        assert restore == "sudo /usr/local/sbin/entraide-backup restore 2026-11-24"
        deployment.sh(restore, replace=("2026-11-24", day))
        deployment.start_services()

        assert read_every_table(deployment.database_url) == tables
        assert public_state(deployment) == pages
        assert (deployment.data_dir / "secret_key").read_text() == secret_key
        assert mode(deployment.env_file) == 0o600
        # Dora's browser is still signed in, and the instance takes new rows.
        settings = dora.get("/settings")
        assert settings.status_code == 200, settings.status_code
        post_form(dora, "/groups/jardin", "/groups/jardin/posts",
                  {"content": "Après la restauration", "content_warning": ""})  # fmt: skip
