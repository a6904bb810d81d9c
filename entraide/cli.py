"""The `entraide` command: serve, worker, migrate, and the operator's user and group commands."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import getpass
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from entraide.logs import configure_logging
from server import migrate
from server.config import SETTINGS, Config, ConfigError, load_config, read_env_file
from server.db import Pool, create_pool, database_url
from server.errors import DomainError, Invalid
from server.services import accounts, groups
from server.storage import accounts as account_store


def _settings_epilog() -> str:
    lines = ["environment:"]
    for s in SETTINGS:
        lines.append(f"  {s.name}\n      {s.help}\n      default: {s.default}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="entraide",
        description="Entraide: a federated home for mutual-support groups.",
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        type=Path,
        help="read settings from this file (NAME=value lines, # comments, as systemd's"
        " EnvironmentFile=): e.g. /etc/entraide/entraide.env; they replace the environment's",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=help,
            epilog=_settings_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = add("serve", "Serve the web pages and ActivityPub endpoints (with one worker).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run the in-process delivery worker"
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="web processes sharing the port (default: one per CPU, %(default)s here); the"
        " in-process worker runs in the first one only",
    )
    # A process started by another `entraide serve`: it serves on the listening socket it was
    # handed and stops when its parent goes away.
    serve.add_argument("--child-fd", type=int, help=argparse.SUPPRESS)
    worker = add("worker", "Run background workers (deliveries and other jobs).")
    worker.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes to run (default: one per CPU, %(default)s here): each signature"
        " of a delivery takes about a millisecond of CPU, so a large fan-out needs every core",
    )
    # A process started by another `entraide worker`: it stops when its parent goes away.
    worker.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    add("migrate", "Apply pending database migrations (safe to run again).")
    add("doctor", "Check the configuration, database, public URL, clock and queues.")

    user = add("user", "Manage accounts.")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create_user = user_commands.add_parser(
        "create", help="Create an account.", description="Create an account."
    )
    create_user.add_argument("username")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--admin", action="store_true", help="make it an administrator")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    group = add("group", "Manage groups.")
    group_commands = group.add_subparsers(dest="group_command", required=True, metavar="ACTION")
    create_group = group_commands.add_parser(
        "create", help="Create a group.", description="Create a group."
    )
    create_group.add_argument("slug")
    create_group.add_argument("--name", required=True)
    create_group.add_argument("--owner", required=True, help="username of the first owner")
    create_group.add_argument("--visibility", choices=("public", "members"), default="public")
    create_group.add_argument("--join", choices=("open", "approval", "invite"), default="open")

    demo = add(
        "demo",
        "Fill the instance with a sample French-speaking collective: people, groups, posts,"
        " events (adds to what is there; safe to run again).",
    )
    demo.add_argument("--json", action="store_true", help="print what was made as JSON")
    delete_group = group_commands.add_parser(
        "delete",
        help="Delete a group: its posts and members are erased, its followers' servers told.",
        description="Delete a group: its posts and members are erased, its followers' servers"
        " told. The name stays taken.",
    )
    delete_group.add_argument("slug")
    delete_group.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"entraide: error: {message}", file=sys.stderr)
    raise SystemExit(code)


async def _with_pool(
    config: Config, work: Callable[[Pool], Awaitable[Any]], *, max_size: int = 4
) -> Any:
    url = await asyncio.to_thread(database_url, config)
    pool = await create_pool(url, min_size=1, max_size=max_size)
    try:
        return await work(pool)
    finally:
        await pool.close()


async def _require_migrated(pool: Pool) -> None:
    async with pool.acquire() as conn:
        pending = await migrate.list_pending(conn)
    if pending:
        fail(f"{len(pending)} pending migration(s): run `entraide migrate` first")


async def _migrate(pool: Pool) -> None:
    async with pool.acquire() as conn:
        done = await migrate.apply_migrations(conn)
    print(f"applied {len(done)} migration(s)" if done else "database is up to date")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask the password on: give it on standard input with --password-stdin")
    try:
        password = getpass.getpass("Password: ")
        again = getpass.getpass("Password again: ")
    except EOFError:
        fail("no password given: give it on standard input with --password-stdin")
    if again != password:
        fail("the two passwords differ")
    return password


def port_warning(config: Config, port: int, env: Mapping[str, str]) -> str | None:
    """Say when the handles and links would name another port than the one served."""
    if env.get("ENTRAIDE_URL") or port == (urlsplit(config.base_url).port or 80):
        return None
    return (
        f"warning: ENTRAIDE_URL is unset, so handles and links say {config.base_url} while this"
        f" server listens on port {port}; set ENTRAIDE_URL=http://127.0.0.1:{port}"
        " (or the public https:// address in front of it)"
    )


def start_banner(config: Config, host: str, port: int, *, has_admin: bool) -> list[str]:
    """Return the lines printed when `serve` starts: the address once, and what to do next."""
    listening = f"http://{host}:{port}"
    lines = [f"Entraide: {config.base_url}"]
    if listening != config.base_url:
        lines[0] += f" (listening on {listening})"
    if not has_admin:
        command = sys.argv[0] if sys.argv[0].endswith("entraide") else "entraide"
        lines.append(f"Create the first admin: {command} user create NAME --email EMAIL --admin")
    return lines


def _serve(config: Config, args: argparse.Namespace) -> None:
    import uvicorn

    from entraide.app import build_app

    if args.child_fd is not None:
        _serve_child(config, database_url(config), args.child_fd)
        return
    warning = port_warning(config, args.port, os.environ)
    if warning:
        print(warning, file=sys.stderr)
    url = database_url(config)

    async def check(pool: Pool) -> bool:
        await _require_migrated(pool)
        return await accounts.has_admin(pool)

    if args.processes < 1:
        fail("--processes must be at least 1")
    _exit_cleanly_on_sigterm()
    has_admin = asyncio.run(_with_pool(config, check))
    print("\n".join(start_banner(config, args.host, args.port, has_admin=has_admin)), flush=True)
    app = build_app(config, with_worker=not args.no_worker, db_url=url)
    if args.processes == 1:
        # log_config=None: uvicorn's loggers go through ours (text or JSON).
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, proxy_headers=False)
        return
    # Several processes accept on one socket, bound here and handed down: a page's CPU (the
    # template, the JSON) is spread over the cores; PostgreSQL coordinates everything else.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.create_server((args.host, args.port), family=family, backlog=2048)
    sock.set_inheritable(True)
    children = [_start_serve_child(sock.fileno()) for _ in range(args.processes - 1)]
    print(f"{args.processes} web processes", flush=True)
    try:
        # The socket itself, not its fd: uvicorn takes an fd for a Unix socket, and connections
        # accepted as such never get TCP_NODELAY (each answer then waited ~40 ms for an ACK).
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, proxy_headers=False))
        server.run(sockets=[sock])
    finally:
        # Not reached when uvicorn ends by raising the signal it caught again: the children
        # then stop by themselves, their end of the pipe closed (_stop_with_parent).
        _stop_worker_children(children)
        sock.close()


def _exit_cleanly_on_sigterm() -> None:
    """Run the exit handlers on SIGTERM, then end by that signal as before.

    uvicorn catches SIGTERM, shuts down, then raises it again for the handler it found: with the
    default one the process died on the spot, without its exit handlers, and the embedded
    PostgreSQL it started (stopped by pgserver's exit handler) kept running after `make run` or
    a service manager stopped `serve`. Ending by the signal keeps what systemd counts as a clean
    stop (SIGTERM), where an exit code of 143 would be a failure.
    """

    def handler(signum: int, frame: object) -> None:
        signal.signal(signum, signal.SIG_DFL)
        atexit._run_exitfuncs()
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, handler)


def _start_serve_child(fd: int) -> subprocess.Popen[bytes]:
    """Start one more web process on the listening socket; it stops when we die, even by -9."""
    command = [sys.executable, "-m", "entraide", "serve", "--no-worker", "--child-fd", str(fd)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=(fd,))


def _serve_child(config: Config, url: str, fd: int) -> None:
    """Serve on the socket a parent `entraide serve` handed down, without a worker."""
    import uvicorn

    from entraide.app import build_app

    app = build_app(config, with_worker=False, db_url=url)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, proxy_headers=False))
    sock = socket.socket(fileno=fd)  # family and type read from the socket (TCP: no Nagle)

    async def main() -> None:
        stop = asyncio.Event()
        _stop_with_parent(asyncio.get_running_loop(), stop)
        watcher = asyncio.create_task(stop.wait())
        watcher.add_done_callback(lambda _: setattr(server, "should_exit", True))
        await server.serve(sockets=[sock])
        watcher.cancel()

    _run_on_fastest_loop(main())


def _worker(config: Config, args: argparse.Namespace) -> None:
    from federation.context import open_federation
    from federation.jobs import run_workers

    if args.processes < 1:
        fail("--processes must be at least 1")
    children: list[subprocess.Popen[bytes]] = []

    async def work(pool: Pool) -> None:
        await _require_migrated(pool)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.child:
            _stop_with_parent(loop, stop)
        else:
            children.extend(_start_worker_child() for _ in range(args.processes - 1))
        print("worker process started" if args.child else "worker started", flush=True)
        fed = await open_federation(pool, config)
        try:
            await run_workers(fed, stop)
        finally:
            await fed.close()

    try:
        # One more than the other commands: the worker's lease holds one (server/leases.py).
        _run_on_fastest_loop(_with_pool(config, work, max_size=5))
    finally:
        _stop_worker_children(children)


def _run_on_fastest_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed (as uvicorn does for `serve`), else on asyncio.

    bench/inbox.py: a worker on uvloop spends 0.38 ms of CPU per processed Like instead of 0.46,
    0.99 ms per reply job instead of 1.24; deliveries, bound by RSA signing, do not change.
    """
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _start_worker_child() -> subprocess.Popen[bytes]:
    """Start one more worker process; its stdin is a pipe that closes when we die, even by -9."""
    command = [sys.executable, "-m", "entraide", "worker", "--child"]
    return subprocess.Popen(command, stdin=subprocess.PIPE)


def _stop_with_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set `stop` when the parent worker is gone: the end of stdin tells it."""
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(fd, 512):
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, readable)


def _stop_worker_children(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop the other worker processes; each records what it delivered before it exits."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(18)  # a worker waits up to 15 s for its requests in flight
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


def _create_user(config: Config, args: argparse.Namespace) -> None:
    password = _read_password(args.password_stdin)

    async def work(pool: Pool) -> None:
        await _require_migrated(pool)
        account = await accounts.register_account(
            pool,
            config,
            username=args.username,
            email=args.email,
            password=password,
            is_admin=args.admin,
            by_operator=True,
        )
        role = "administrator" if account.is_admin else "account"
        print(f"created {role} @{account.username}@{config.host}")

    asyncio.run(_with_pool(config, work))


def _create_group(config: Config, args: argparse.Namespace) -> None:
    async def work(pool: Pool) -> None:
        await _require_migrated(pool)
        async with pool.acquire() as conn:
            owner = await account_store.find_account_by_username(conn, args.owner)
        if owner is None:
            fail(f"no account named {args.owner!r}")
        assert owner is not None
        group = await groups.create_group(
            pool,
            config,
            owner,
            slug=args.slug,
            name=args.name,
            visibility=args.visibility,
            join_policy=args.join,
        )
        print(f"created group @{group.slug}@{config.host}: {config.base_url}/groups/{group.slug}")

    asyncio.run(_with_pool(config, work))


def _demo(config: Config, args: argparse.Namespace) -> None:
    import json

    from entraide.demo import describe, run_demo

    async def work(pool: Pool) -> dict[str, Any]:
        await _require_migrated(pool)
        return await run_demo(pool, config)

    report = asyncio.run(_with_pool(config, work))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else describe(report))


def _delete_group(config: Config, args: argparse.Namespace) -> None:
    if not args.yes:
        if not sys.stdin.isatty():
            fail("add --yes to delete a group without a terminal to confirm in")
        answer = input(f"Delete the group {args.slug} and all its posts for good? [y/N] ")
        if answer.strip().lower() not in ("y", "yes", "o", "oui"):
            fail("nothing deleted")

    async def work(pool: Pool) -> None:
        await _require_migrated(pool)
        group = await groups.get_group_by_slug(pool, args.slug)
        await groups.delete_group(pool, group, None)
        print(f"deleted group @{group.slug}@{config.host}; its followers' servers will be told")

    asyncio.run(_with_pool(config, work))


def _doctor(config: Config) -> None:
    from entraide.doctor import run_checks

    async def work() -> list[Any]:
        try:
            url = await asyncio.to_thread(database_url, config)
            pool = await asyncio.wait_for(create_pool(url, min_size=1, max_size=2), 15)
        except Exception as exc:  # any reason the database is out of reach is reported
            return await run_checks(None, config, f"{type(exc).__name__}: {exc}"[:300])
        try:
            return await run_checks(pool, config, None)
        finally:
            await pool.close()

    checks = asyncio.run(work())
    for check in checks:
        print(check.line())
    problems = sum(not c.ok for c in checks)
    print(f"{problems} problem(s)" if problems else "all good")
    if problems:
        raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line."""
    args = _parser().parse_args(argv)
    try:
        if args.env_file is not None:
            # Into os.environ: worker processes started by this one read the same settings.
            os.environ.update(read_env_file(args.env_file))
        config = load_config()
    except ConfigError as exc:
        fail(str(exc), code=2)
    configure_logging(config.log_format)
    try:
        if args.command == "serve":
            _serve(config, args)
        elif args.command == "worker":
            _worker(config, args)
        elif args.command == "doctor":
            _doctor(config)
        elif args.command == "migrate":
            asyncio.run(_with_pool(config, _migrate))
        elif args.command == "user":
            _create_user(config, args)
        elif args.command == "group" and args.group_command == "delete":
            _delete_group(config, args)
        elif args.command == "group":
            _create_group(config, args)
        elif args.command == "demo":
            _demo(config, args)
    except Invalid as exc:
        fail("; ".join(f"{k}: {v}" for k, v in exc.fields.items()))
    except DomainError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
