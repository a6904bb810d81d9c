"""`entraide demo`: a sample collective on an instance that may already have people and groups."""

from __future__ import annotations

import json
from pathlib import Path

from tests.entraide.test_cli import run


def test_demo_json_lists_what_it_made_and_runs_again_beside_it(pg_url: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": pg_url,
        "ENTRAIDE_DATA_DIR": str(tmp_path),
        "ENTRAIDE_SECRET_KEY": "k" * 40,
        "ENTRAIDE_URL": "http://127.0.0.1:8000",
    }
    # An instance that already holds a `camille` and an `entraide_croixrousse`.
    created = run(env, "user", "create", "camille", "--email", "c@example.org",
                  "--password-stdin", stdin="correct horse battery staple\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    taken = run(env, "group", "create", "entraide_croixrousse", "--name", "Déjà là",
                "--owner", "camille")  # fmt: skip
    assert taken.returncode == 0, taken.stderr

    first = run(env, "demo", "--json")
    second = run(env, "demo", "--json")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    names = [a["username"] for a in one["accounts"]] + [a["username"] for a in two["accounts"]]
    assert len(names) == len(set(names)) == 10 and "camille" not in names
    slugs = [g["slug"] for g in one["groups"]] + [g["slug"] for g in two["groups"]]
    assert len(set(slugs)) == 6 and "entraide_croixrousse" not in slugs
    statuses = [e["status"] for e in one["events"]]
    assert "cancelled" in statuses and len(one["events"]) >= 6
    assert all(e["url"].startswith("http://127.0.0.1:8000/events/") for e in one["events"])
    assert one["never_public"] and all(isinstance(t, str) for t in one["never_public"])
    # Calls to action: petitions, the alliance and the mobilization, their unnamed signer private.
    calls = {c["name"] for c in two["calls"]}
    assert calls == {"petition", "petition_won", "alliances", "mobilization"}
    assert "Solène Marchetti" in two["never_public"]
    # Needs and offers, one fulfilled; someone available, whose note is never public.
    assert {i["kind"] for i in one["board"]} == {"need", "offer"}
    assert [i["state"] for i in one["board"]].count("fulfilled") == 1
    assert one["availability"] and any("écouter" in t for t in one["never_public"])
    assert one["goals"] and one["goals"][0]["title"] in one["never_public"]
    # A shared goal with its follow-ups, members only; a pinned link and a pinned document.
    assert one["goals"][0]["visibility"] == "members" and one["goals"][0]["followups"] >= 2
    library = one["library"]
    assert sorted(r["document"] for r in library) == [False, True]
    assert all(r["pinned"] and "/library/" in r["url"] for r in library)
    human = run(env, "demo")
    assert human.returncode == 0, human.stderr
    assert "events:" in human.stdout and "/groups/" in human.stdout
