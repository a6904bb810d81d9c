"""Mastodon's entities (docs.joinmastodon.org/entities), built from Entraide's values.

Apps parse these strictly: ids are strings, times are ISO 8601 with milliseconds and `Z`, and
every field an app reads is present, empty rather than missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.config import Config
from server.models import Attachment, MediaUpload, Notification, PostView, Profile, Relationship
from server.sanitize import find_hashtags

# A group reads as an account with `group: true`; its posts' visibility follows the group's.
VISIBILITY = {"public": "public", "members": "private", None: "public"}


def iso(value: datetime | None) -> str | None:
    """Mastodon's time format: 2019-12-08T03:48:33.901Z."""
    if value is None:
        return None
    # isoformat is C code: half the time of strftime, three times per status of a timeline.
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def avatar_url(config: Config, avatar: str | None, domain: str | None) -> str:
    if avatar is None:
        return f"{config.base_url}/static/avatar.png"
    if domain is not None:
        return avatar  # a remote actor's avatar is its URL
    return f"{config.base_url}/media/avatars/{avatar}"


def actor_url(config: Config, kind: str, name: str, url: str | None, uri: str | None) -> str:
    if url or uri:
        return str(url or uri)
    section = "groups" if kind == "group" else "users"
    return f"{config.base_url}/{section}/{name}"


def _account(
    config: Config,
    *,
    id: int,
    kind: str,
    name: str,
    domain: str | None,
    display_name: str,
    avatar: str | None,
    url: str | None,
    uri: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    picture = avatar_url(config, avatar, domain)
    return {
        "id": str(id),
        "username": name,
        "acct": f"{name}@{domain}" if domain else name,
        "display_name": display_name or name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": kind == "group",
        "created_at": iso(created_at),
        "note": "",
        "url": actor_url(config, kind, name, url, uri),
        "uri": uri or actor_url(config, kind, name, None, None),
        "avatar": picture,
        "avatar_static": picture,
        "header": "",
        "header_static": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def account(config: Config, profile: Profile) -> dict[str, Any]:
    entity = _account(
        config,
        id=profile.id,
        kind=profile.kind,
        name=profile.name,
        domain=profile.domain,
        display_name=profile.display_name,
        avatar=profile.avatar,
        url=profile.url,
        uri=profile.uri,
        created_at=profile.created_at,
    )
    last = profile.last_status_at
    return entity | {
        "locked": profile.locked,
        "note": profile.summary_html,
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
        "statuses_count": profile.statuses_count,
        "last_status_at": last.date().isoformat() if last else None,
    }


def credential_account(config: Config, profile: Profile, summary: str) -> dict[str, Any]:
    """The signed-in person's own account, with `source` (what they typed)."""
    return account(config, profile) | {
        "source": {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": summary,
            "fields": [],
            "follow_requests_count": 0,
        }
    }


def status(config: Config, view: PostView) -> dict[str, Any]:
    post = view.post
    local_url = f"{config.base_url}/posts/{post.id}"
    mentions = []
    if post.group_id is not None and post.group_slug is not None:
        mentions.append(
            {
                "id": str(post.group_id),
                "username": post.group_slug,
                "acct": post.group_slug,
                "url": f"{config.base_url}/groups/{post.group_slug}",
            }
        )
    tags = [
        {"name": tag, "url": f"{config.base_url}/tags/{tag}"}
        for tag in find_hashtags(post.content or "")
    ]
    return {
        "id": str(post.id),
        "uri": post.uri or local_url,
        "url": post.url or post.uri or local_url,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.updated_at),
        "account": _account(
            config,
            id=post.author_id,
            kind=view.author_kind,
            name=post.author_name,
            domain=post.author_domain,
            display_name=post.author_display_name,
            avatar=post.author_avatar,
            url=view.author_url,
            uri=view.author_uri,
            created_at=view.author_created_at,
        ),
        "content": post.content_html,
        "visibility": VISIBILITY.get(view.group_visibility, "public"),
        "sensitive": bool(post.content_warning) or post.sensitive,
        "spoiler_text": post.content_warning,
        "media_attachments": [
            post_attachment(config, post.id, index, a)
            for index, a in enumerate(post.attachments, start=1)
        ],
        "application": None,
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": post.like_count,
        "replies_count": view.reply_count,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": (
            str(view.in_reply_to_author_id) if view.in_reply_to_author_id else None
        ),
        "reblog": None,
        "poll": None,
        "card": None,
        "language": None,
        "text": None,
        "favourited": view.liked,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "filtered": [],
    }


def _media(
    *,
    id: str,
    url: str,
    remote_url: str | None,
    description: str,
    width: int | None,
    height: int | None,
    focus: tuple[float, float],
) -> dict[str, Any]:
    size: dict[str, Any] = {}
    if width and height:
        size = {"width": width, "height": height, "size": f"{width}x{height}",
                "aspect": round(width / height, 4)}  # fmt: skip
    return {
        "id": id,
        "type": "image",
        "url": url,
        # One size serves both: pictures are already scaled down to 1600 pixels when stored.
        "preview_url": url,
        "remote_url": remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": size, "small": size, "focus": {"x": focus[0], "y": focus[1]}},
        "description": description or None,
        "blurhash": None,
    }


def picture_url(config: Config, name: str) -> str:
    return f"{config.base_url}/media/pictures/{name}"


def media_attachment(config: Config, upload: MediaUpload) -> dict[str, Any]:
    """An upload from an app (POST /api/v2/media), before or without its status."""
    return _media(
        id=str(upload.id),
        url=picture_url(config, upload.file),
        remote_url=None,
        description=upload.description,
        width=upload.width,
        height=upload.height,
        focus=upload.focus,
    )


def post_attachment(config: Config, post_id: int, index: int, item: Attachment) -> dict[str, Any]:
    """A picture of a post; its id is the post's and its place, stable while the post lives."""
    return _media(
        id=f"{post_id}{index:02d}",
        url=picture_url(config, item.url) if item.is_local else item.url,
        remote_url=None if item.is_local else item.url,
        description=item.alt,
        width=item.width,
        height=item.height,
        focus=(0.0, 0.0),
    )


def relationship(item: Relationship) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "following": item.following,
        "showing_reblogs": item.following,
        "notifying": False,
        "languages": None,
        "followed_by": False,
        "blocking": item.blocking,
        "blocked_by": item.blocked_by,
        "muting": item.muting,
        "muting_notifications": item.muting,
        "requested": item.requested,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def notification(
    item: Notification, actor: dict[str, Any], post: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": item.type,
        "created_at": iso(item.created_at),
        "account": actor,
        "status": post,
    }
