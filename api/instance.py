"""What apps read at sign-in: the instance, its limits and its (empty) custom emojis."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import validation
from server.config import Config
from server.services import actors, media

# Apps read the version to decide what they may call: Mastodon 4.3's API, and who we are.
VERSION = "4.3.0 (compatible; Entraide 0.1.0)"


def _configuration(config: Config) -> dict[str, Any]:
    return {
        "urls": {"streaming": None},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": validation.MAX_POST,
            "max_media_attachments": media.MAX_PICTURES,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": list(media.ACCEPTED_TYPES),
            "image_size_limit": media.MAX_BYTES,
            "image_matrix_limit": media.MAX_PIXELS,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
        "translation": {"enabled": False},
    }


def _title(config: Config) -> str:
    return f"Entraide {config.host}"


async def instance_v2(request: Request) -> Response:
    config: Config = request.app.state.config
    _total, month, _half, _posts = await actors.usage_counts(request.app.state.db)
    return JSONResponse(
        {
            "domain": config.host,
            "title": _title(config),
            "version": VERSION,
            "source_url": config.base_url,
            "description": "",
            "usage": {"users": {"active_month": month}},
            "thumbnail": {"url": f"{config.base_url}/static/avatar.png"},
            "icon": [],
            "languages": ["fr", "en"],
            "configuration": _configuration(config),
            "registrations": {
                "enabled": config.registrations != "closed",
                "approval_required": config.registrations == "approval",
                "message": None,
                "url": None,
            },
            "api_versions": {"mastodon": 2},
            "contact": {"email": "", "account": None},
            "rules": [],
        }
    )


async def instance_v1(request: Request) -> Response:
    config: Config = request.app.state.config
    total, _month, _half, posts = await actors.usage_counts(request.app.state.db)
    return JSONResponse(
        {
            "uri": config.host,
            "title": _title(config),
            "short_description": "",
            "description": "",
            "email": "",
            "version": VERSION,
            "urls": {"streaming_api": None},
            "stats": {"user_count": total, "status_count": posts, "domain_count": 0},
            "thumbnail": f"{config.base_url}/static/avatar.png",
            "languages": ["fr", "en"],
            "registrations": config.registrations != "closed",
            "approval_required": config.registrations == "approval",
            "invites_enabled": False,
            "configuration": _configuration(config),
            "contact_account": None,
            "rules": [],
        }
    )


async def custom_emojis(request: Request) -> Response:
    return JSONResponse([])


async def empty_list(request: Request) -> Response:
    """What Entraide has none of (filters, lists, blocks, mutes...): an empty list, not a 404."""
    return JSONResponse([])
