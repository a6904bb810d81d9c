"""SECURITY.md's table of hostile cases cannot rot: every test it names exists and is collected,
and every test of the hostile-input suites is in it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| # | where | what is sent | expected answer | test |"
WHERE = {"inbox", "web forms", "uploads", "fetcher", "sessions", "config", "deploy", "client API"}
REFERENCE = re.compile(r"^`(tests/[\w/]+\.py)::(test_\w+)`$")
# Suites whose every test is a hostile case: each must have its row.
LISTED_IN_FULL = (
    "tests/federation/test_inbox_hostile.py",
    "tests/security/test_extra_cases.py",
    "tests/security/test_fuzz.py",
)
# Tests of those suites that check a test helper, not a hostile case.
NOT_CASES = {"tests/security/test_fuzz.py::test_assert_inert_catches_each_kind_of_markup"}


def table_rows(text: str) -> list[list[str]]:
    """Return the cells of each row of the table under HEADER."""
    lines = text.splitlines()
    start = lines.index(HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def collected(paths: list[str]) -> set[str]:
    """Return `path::name` of every test pytest collects from these files (parameters dropped)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return table_rows((ROOT / "SECURITY.md").read_text())


def named_tests(rows: list[list[str]]) -> set[str]:
    matches = [REFERENCE.match(row[4]) for row in rows]
    return {f"{m.group(1)}::{m.group(2)}" for m in matches if m}


@pytest.fixture(scope="module")
def found(rows: list[list[str]]) -> set[str]:
    """Every test pytest collects from the files the table names, and from the full suites."""
    paths = sorted({name.split("::")[0] for name in named_tests(rows)} | set(LISTED_IN_FULL))
    missing = [path for path in paths if not (ROOT / path).is_file()]
    assert missing == []
    return collected(paths)


def test_table_has_forty_numbered_rows_of_known_places(rows: list[list[str]]) -> None:
    assert len(rows) >= 40
    assert [row[0] for row in rows] == [str(n) for n in range(1, len(rows) + 1)]
    for row in rows:
        assert len(row) == 5, row
        assert row[1] in WHERE, row
        assert row[2] and row[3], row
        assert REFERENCE.match(row[4]), row


def test_every_test_in_the_table_exists_and_is_collected(
    rows: list[list[str]], found: set[str]
) -> None:
    named = named_tests(rows)
    assert sorted(named - found) == []
    assert len(named) == len(rows)  # one row per test: no test is counted twice


def test_every_test_of_the_hostile_suites_has_its_row(
    rows: list[list[str]], found: set[str]
) -> None:
    suites = {name for name in found if name.startswith(LISTED_IN_FULL)}
    assert len(suites) > 50  # the suites were collected
    assert sorted(suites - named_tests(rows) - NOT_CASES) == []


def test_a_row_naming_a_missing_test_is_caught(found: set[str]) -> None:
    # The checks above must be able to fail.
    text = f"{HEADER}\n|---|---|---|---|---|\n| 1 | inbox | x | y | `tests/a.py::test_gone` |\n"
    assert named_tests(table_rows(text)) - found == {"tests/a.py::test_gone"}
