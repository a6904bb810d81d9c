"""A leak walker: every public URL, collection, feed and calendar of a live instance, fetched
as a stranger would, and searched for texts that must never leave a members-only group."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from tests.federation.instances import LiveInstance

AP = {"Accept": "application/activity+json"}
MAX_PAGES = 400


def _public_paths(instance: LiveInstance) -> list[tuple[str, dict[str, str]]]:
    """Return every public path the instance serves, from what its database holds."""
    paths: list[tuple[str, dict[str, str]]] = [
        (p, {})
        for p in ("/", "/groups/new", "/events", "/events.ics", "/nodeinfo/2.0", "/nodeinfo/2.1",
                  "/api/v1/timelines/public", "/api/v1/timelines/public?local=true",
                  "/api/v1/instance", "/api/v2/instance", "/.well-known/nodeinfo")
    ]  # fmt: skip
    groups = instance.sql(
        "SELECT a.name FROM actors a JOIN groups g ON g.actor_id = a.id WHERE a.domain IS NULL"
    )
    for row in groups:
        base = f"/groups/{row['name']}"
        for suffix in ("", "/members", "/events", "/calendar.ics", "/alliances", "/feed.atom",
                       "/petitions", "/library", "/board"):  # fmt: skip
            paths.append((base + suffix, {}))
        for suffix in ("", "/outbox", "/outbox?page=true", "/followers", "/followers?page=1",
                       "/following", "/featured"):  # fmt: skip
            paths.append((base + suffix, AP))
        paths.append((f"/.well-known/webfinger?resource=acct:{row['name']}@{instance.domain}", {}))
    people = instance.sql(
        "SELECT a.id, a.name FROM actors a JOIN accounts c ON c.actor_id = a.id"
        " WHERE a.domain IS NULL"
    )
    for row in people:
        paths += [(f"/users/{row['name']}", {}), (f"/users/{row['name']}", AP)]
        paths += [(f"/users/{row['name']}/outbox?page=true", AP)]
        paths += [(f"/users/{row['name']}/feed.atom", {})]
        paths += [(f"/api/v1/accounts/{row['id']}/statuses", {})]
    objects = ("posts", "events", "petitions", "mobilizations", "goals")
    for table in objects:
        prefix = f"/{table}"
        for row in instance.sql(f"SELECT id FROM {table}"):  # fixed table names
            paths += [(f"{prefix}/{row['id']}", {}), (f"{prefix}/{row['id']}", AP)]
            if table == "posts":
                paths += [(f"/api/v1/statuses/{row['id']}", {})]
                paths += [(f"/api/v1/statuses/{row['id']}/context", {})]
            if table == "events":
                paths += [(f"/events/{row['id']}/event.ics", {})]
    for row in instance.sql("SELECT id FROM resources"):
        paths += [(f"/library/{row['id']}", {}), (f"/library/{row['id']}", AP)]
        paths += [(f"/library/{row['id']}/file", {}), (f"/library/{row['id']}/document", {})]
    for row in instance.sql(
        "SELECT a.name FROM actors a JOIN groups g ON g.actor_id = a.id WHERE a.domain IS NULL"
    ):
        paths += [(f"/groups/{row['name']}/goals", {}), (f"/groups/{row['name']}/library", {})]
    for row in instance.sql("SELECT uri FROM outbox_activities"):
        if row["uri"].startswith(instance.base_url):
            paths.append((row["uri"][len(instance.base_url) :], AP))
    return paths


def walk(instance: LiveInstance, secrets: list[str], search_terms: list[str]) -> list[str]:
    """Fetch every public URL of `instance` anonymously; return the leaks found (URL: text).

    Besides the listed paths, HTML pages are crawled through their same-site links.
    """
    leaks: list[str] = []
    seen: set[tuple[str, str]] = set()
    queue = _public_paths(instance)
    for term in search_terms:
        queue.append((f"/api/v2/search?q={term}", {}))
        queue.append((f"/search?q={term}", {}))
        queue.append((f"/api/v2/search?q={term}&resolve=false&type=statuses", {}))
    host = urlsplit(instance.base_url).netloc
    with httpx.Client(base_url=instance.base_url, timeout=10) as client:
        while queue and len(seen) < MAX_PAGES:
            path, headers = queue.pop(0)
            key = (path, headers.get("Accept", ""))
            if key in seen:
                continue
            seen.add(key)
            response = client.get(path, headers=headers)
            body = response.text
            leaks += [f"{path} ({response.status_code}): {s}" for s in secrets if s in body]
            for name, value in response.headers.items():
                leaks += [f"{path} header {name}: {s}" for s in secrets if s in value]
            if "text/html" in response.headers.get("content-type", ""):
                for href in re.findall(r'href="([^"#]+)"', body):
                    url = urljoin(instance.base_url + path, href)
                    parts = urlsplit(url)
                    if parts.netloc == host and not parts.path.startswith(("/static", "/media")):
                        queue.append((parts.path + (f"?{parts.query}" if parts.query else ""), {}))
    assert len(seen) > 20, "the walker fetched too little to mean anything"
    return leaks


def public_outbox_leaks(instance: LiveInstance, secrets: list[str]) -> list[str]:
    """Return the public outbox activities (listed or served) that hold a members-only text."""
    rows = instance.sql("SELECT uri, payload::text AS body FROM outbox_activities WHERE public")
    return [f"{r['uri']}: {s}" for r in rows for s in secrets if s in r["body"]]


def addressed_outside(
    instance: LiveInstance, secrets: list[str], members: set[str]
) -> list[dict[str, Any]]:
    """Return the outgoing activities holding a members-only text not addressed to members only."""
    import json

    bad = []
    for row in instance.sql("SELECT uri, public, payload::text AS body FROM outbox_activities"):
        if not any(s in row["body"] for s in secrets):
            continue
        payload = json.loads(row["body"])
        audience = set(payload.get("to", [])) | set(payload.get("cc", []))
        obj = payload.get("object")
        if isinstance(obj, dict):
            audience |= set(obj.get("to", [])) | set(obj.get("cc", []))
        if row["public"] or not audience <= members:
            bad.append({"uri": row["uri"], "audience": sorted(audience)})
    return bad
