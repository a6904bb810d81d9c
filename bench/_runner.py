"""`make bench` and `make soak`: run the benchmarks, print one table, keep it in RESULTS.md.

Each benchmark appends its figures to the file named by $BENCH_REPORT (bench/_common.report);
this runner gives every script a fresh one, prints the rows as one table under the date and
the machine, and writes that table into bench/RESULTS.md between markers, leaving the rest of
the file (the history, written by people) as it is.
Run: `.venv/bin/python bench/_runner.py [--only pages] [--soak] [ARGS passed to each script]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import psutil

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
SOAK = "soak.py"  # ten minutes: `make soak`, never part of `make bench`


@dataclass
class Run:
    script: str
    status: int = 0
    seconds: float = 0.0
    rows: list[dict[str, str]] = field(default_factory=list)


def benchmarks(only: list[str] | None, soak: bool) -> list[Path]:
    """Return the scripts to run: every bench/*.py but the helpers (`_*.py`) and the soak."""
    if soak:
        return [BENCH / SOAK]
    scripts = [
        p for p in sorted(BENCH.glob("*.py")) if not p.name.startswith("_") and p.name != SOAK
    ]
    if not only:
        return scripts
    wanted = {name.removesuffix(".py") for name in only}
    unknown = wanted - {p.stem for p in scripts} - {SOAK.removesuffix(".py")}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
    return [p for p in [*scripts, BENCH / SOAK] if p.stem in wanted]


def machine() -> str:
    """Describe the machine: CPU model, cores, memory, Python and PostgreSQL versions."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB memory;"
        f" Python {platform.python_version()}; {postgres_version()}"
    )


def postgres_version() -> str:
    """Return the version of the embedded PostgreSQL the benchmarks start (pgserver's)."""
    # pgserver finds its runtime folder through platformdirs, which warns without XDG_RUNTIME_DIR.
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        from pgserver import _commands

        out = subprocess.run(
            [str(_commands.POSTGRES_BIN_PATH / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (ImportError, OSError, subprocess.SubprocessError):
        return "PostgreSQL (version unknown)"
    # "postgres (PostgreSQL) 16.2"
    return "PostgreSQL " + out.split()[-1] + " (pgserver)"


class Stopped(Exception):
    """Ctrl-C or SIGTERM: the benchmark running was told too, and has stopped."""


_children: list[subprocess.Popen[bytes]] = []


def _forward_sigterm(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C reaches the whole process group; SIGTERM only us: pass it on, once.
    for child in _children:
        if child.poll() is None:
            child.terminate()
    raise Stopped


def run_one(result: Run, script: Path, args: list[str], report: Path) -> None:
    """Run one benchmark with its output on ours; collect the rows it reported."""
    env = {**os.environ, "BENCH_REPORT": str(report)}
    print(f"\n== bench/{script.name} {' '.join(args)}".rstrip(), flush=True)
    t0 = time.monotonic()
    child = subprocess.Popen([sys.executable, str(script), *args], env=env)
    _children.append(child)
    try:
        result.status = child.wait()
    except (KeyboardInterrupt, Stopped):
        # The benchmark got the signal too: let it stop its servers and PostgreSQL.
        result.status = child.wait()
        raise Stopped from None
    finally:
        _children.remove(child)
        result.seconds = time.monotonic() - t0
        if report.exists():
            for line in report.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    result.rows.append(json.loads(line))


def table(runs: list[Run], started: datetime, machine: str, load: str, command: str) -> str:
    """Return the table of every reported row, in Markdown, with its date and machine."""
    lines = [
        f"- run: `{command}`, {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine}",
        f"- load average before the run: {load}",
        "",
        "| measure | figure | aim |",
        "|---|---|---|",
    ]
    for run in runs:
        for row in run.rows:
            cells = (row["measure"], row["figure"], row.get("aim") or "—")
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if not any(run.rows for run in runs):
        lines.append("| (no figures reported) | | |")
    lines.append("")
    for run in runs:
        state = "ok" if run.status == 0 else f"FAILED (exit {run.status})"
        lines.append(f"- {run.script}: {state}, {run.seconds:.0f} s, {len(run.rows)} figures")
    return "\n".join(lines)


def write_results(path: Path, block: str, text: str) -> None:
    """Put `text` between the block's markers in `path`, keeping everything else."""
    start, end = f"<!-- bench:{block} -->", f"<!-- /bench:{block} -->"
    content = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    new = f"{start}\n{text}\n{end}"
    if start in content and end in content:
        before, _, rest = content.partition(start)
        _, _, after = rest.partition(end)
        content = before + new + after
    else:
        content = content.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(content, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Other arguments (such as --quick) are passed to every benchmark.",
    )
    parser.add_argument("--only", action="append", help="run this benchmark only (repeatable)")
    parser.add_argument("--soak", action="store_true", help="run bench/soak.py (`make soak`)")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        help="write the table into RESULTS.md (default: only for a full run without arguments)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    args, script_args = parser.parse_known_args(argv)
    signal.signal(signal.SIGTERM, _forward_sigterm)
    scripts = benchmarks(args.only, args.soak)
    # Other work on the machine skews every figure: say how busy it was before we started.
    load = os.getloadavg()
    started = datetime.now(UTC)
    busy = f"{load[0]:.2f} (1 min), {load[1]:.2f} (5 min)"
    given = sys.argv[1:] if argv is None else argv
    command = "make soak" if args.soak else "make bench"
    if args.only or script_args:
        command = " ".join(["bench/_runner.py", *given])
    runs: list[Run] = []
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="entraide-bench-report-") as tmp:
        try:
            for i, script in enumerate(scripts):
                runs.append(Run(script.name))
                run_one(runs[-1], script, script_args, Path(tmp) / f"{i}-{script.stem}.jsonl")
        except (KeyboardInterrupt, Stopped):
            interrupted = True
    text = table(runs, started, machine(), busy, command)
    print("\n" + text)
    write = args.write if args.write is not None else not (args.only or script_args)
    if write and runs and not interrupted:
        block = "soak" if args.soak else "latest"
        write_results(args.results, block, text)
        print(f"\nwritten to {args.results} (between the bench:{block} markers)")
    if interrupted:
        return 130
    return 1 if any(run.status for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
