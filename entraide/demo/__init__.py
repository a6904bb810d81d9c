"""`entraide demo`: fill an instance with a French-speaking collective a newcomer can explore.

The base (accounts, groups, posts) comes first, then each capability's section in the order of
SECTIONS. Every run adds people and groups under names still free, so it can run again on an
instance that already has some. The report lists what was made (addresses) and, under
`never_public`, every text that must never be shown to someone outside its group.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from server.config import Config
from server.db import Pool
from server.models import Account, Group


@dataclass
class Demo:
    """What the sections share: the instance, the people and groups made, and the report."""

    db: Pool
    config: Config
    password: str
    people: dict[str, Account] = field(default_factory=dict)  # by role: "organizer", ...
    groups: dict[str, Group] = field(default_factory=dict)  # by role: "quartier", ...
    report: dict[str, Any] = field(default_factory=dict)
    never_public: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def add(self, section: str, item: dict[str, Any]) -> None:
        """Add an item (with its `url`) to a section of the report."""
        self.report.setdefault(section, []).append(item)

    def private(self, text: str) -> str:
        """Note a text that only its group's members may ever see; return it."""
        self.never_public.append(text)
        return text


Section = Callable[[Demo], Awaitable[None]]


def sections() -> list[tuple[str, Section]]:
    """Return each capability's sample data, in the order it runs (one line per capability)."""
    from entraide.demo import base, calls, events, mutual, notifications, safe_spaces

    return [
        ("base", base.add_base),
        ("events", events.add_events),
        ("calls", calls.add_calls_to_demo),
        ("mutual support", mutual.add_mutual_support),
        ("safe_spaces", safe_spaces.add_safe_spaces),
        ("notifications", notifications.add_notifications),
    ]


async def run_demo(db: Pool, config: Config) -> dict[str, Any]:
    """Fill the instance; return the report (addresses made, and the texts never public)."""
    demo = Demo(db, config, password=secrets.token_urlsafe(12))
    for _name, section in sections():
        await section(demo)
    return {
        "instance": config.base_url,
        "password": demo.password,
        **demo.report,
        "never_public": demo.never_public,
    }


def describe(report: dict[str, Any]) -> str:
    """Return the report as lines a person reads."""
    lines = [f"Entraide demo on {report['instance']}"]
    lines.append(f"every demo account's password: {report['password']}")
    for key, items in report.items():
        if key in ("instance", "password", "never_public") or not isinstance(items, list):
            continue
        lines.append(f"{key}:")
        for item in items:
            label = item.get("name") or item.get("title") or item.get("username") or ""
            lines.append(f"  {item['url']}  {label}".rstrip())
    return "\n".join(lines)
