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
    followers_can_post: bool = True  # remote followers may post to the group (FEP-1b12)


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
    group_id: int | None  # None for a post of a followed remote person
    group_slug: str | None
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
    uri: str | None = None  # ActivityPub id of a remote post
    url: str | None = None  # its human page on its server
    like_count: int = 0


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, object]
    attempts: int


@dataclass(frozen=True)
class Actor:
    """Any actor, local or remote, as federation needs it."""

    id: int
    kind: str
    name: str
    domain: str | None
    uri: str | None
    display_name: str
    summary_html: str
    avatar: str | None
    url: str | None
    inbox: str | None
    shared_inbox: str | None
    outbox: str | None
    followers_uri: str | None
    key_id: str | None
    public_key_pem: str | None
    private_key_pem: str | None
    manually_approves: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_local(self) -> bool:
        return self.domain is None


@dataclass(frozen=True)
class RemoteActorData:
    """What federation read from a remote actor document, ready to store."""

    uri: str
    kind: str
    name: str
    domain: str
    display_name: str
    summary_html: str
    avatar: str | None
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers_uri: str | None
    key_id: str
    public_key_pem: str
    manually_approves: bool


@dataclass(frozen=True)
class Follow:
    follower_id: int
    target_id: int
    uri: str
    state: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryStats:
    delivered: int
    pending: int
    failed: int


@dataclass(frozen=True)
class RemoteNote:
    """A post read from a peer's Note (or Page, Article), its references resolved to ids."""

    uri: str
    url: str | None
    content_html: str  # as received: sanitized when stored
    content_warning: str
    in_reply_to_id: int | None  # a known post (local or remote) this one answers
    in_reply_to_uri: str | None
    addressed_group_ids: tuple[int, ...]  # local groups in to / cc / audience


@dataclass(frozen=True)
class OAuthApp:
    """An app registered for the client API (its secret is kept hashed, never here)."""

    id: int
    client_id: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    """What an authorization code grants, read when it is exchanged."""

    app_id: int
    account_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: datetime


@dataclass(frozen=True)
class AccessToken:
    """A live access token: a person's (account_id) or an app's own (account_id None)."""

    id: int
    account_id: int | None
    scopes: tuple[str, ...]
    created_at: datetime
    client_id: str
    app_name: str
    app_website: str | None


@dataclass(frozen=True)
class Profile:
    """An actor as the client API shows an account: a person or a group, local or remote."""

    id: int
    kind: str  # person | group
    name: str
    domain: str | None
    uri: str | None
    url: str | None
    display_name: str
    summary_html: str
    avatar: str | None
    created_at: datetime
    locked: bool  # follows (or joins) wait for approval
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None


@dataclass(frozen=True)
class PostView:
    """A post with what a reader's app shows around it."""

    post: Post
    author_kind: str
    author_uri: str | None
    author_url: str | None
    author_created_at: datetime
    group_name: str | None  # the group's display name
    group_visibility: str | None
    reply_count: int
    liked: bool  # by the reader
    in_reply_to_author_id: int | None


@dataclass(frozen=True)
class TimelineRange:
    """Mastodon's pagination: older than max_id, newer than since_id, or just after min_id."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20


@dataclass(frozen=True)
class Notification:
    """Something that happened to a person, derived from likes, replies, follows and requests."""

    id: str  # the microseconds of its time: orders and pages like Mastodon's ids
    type: str  # favourite | mention | follow | follow_request
    created_at: datetime
    actor_id: int
    post_id: int | None


@dataclass(frozen=True)
class Relationship:
    id: int
    following: bool
    requested: bool
