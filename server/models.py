"""Domain values handed from storage to services and on to web and federation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    summary: str
    summary_html: str
    avatar: str | None
    email: str
    is_admin: bool
    status: str
    language: str | None
    timezone: str
    created_at: datetime


@dataclass(frozen=True)
class Group:
    id: int
    slug: str
    name: str
    description: str
    description_html: str
    avatar: str | None
    visibility: str
    join_policy: str
    created_at: datetime
    member_count: int


@dataclass(frozen=True)
class Member:
    actor_id: int
    name: str
    domain: str | None
    display_name: str
    avatar: str | None
    role: str
    state: str
    joined_at: datetime

    @property
    def is_moderator(self) -> bool:
        return self.state == "active" and self.role in ("owner", "moderator")


@dataclass(frozen=True)
class Post:
    id: int
    group_id: int
    group_slug: str
    author_id: int
    author_name: str
    author_domain: str | None
    author_display_name: str
    author_avatar: str | None
    content: str
    content_html: str
    content_warning: str
    in_reply_to_id: int | None
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, object]
    attempts: int
