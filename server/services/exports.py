"""A person's own data, as a downloadable archive (a ZIP of JSON files)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from server.db import Pool
from server.models import Account
from server.storage import exports as store


def _json(value: Any) -> str:
    def default(item: Any) -> str:
        if isinstance(item, datetime):
            return item.isoformat()
        raise TypeError(type(item).__name__)

    return json.dumps(value, ensure_ascii=False, indent=2, default=default)


async def export_account(db: Pool, account: Account) -> bytes:
    """Return a ZIP of the account's profile, posts, memberships and follows."""
    async with db.acquire() as conn:
        posts = await store.list_own_posts(conn, account.id)
        memberships = await store.list_own_memberships(conn, account.id)
        follows = await store.list_own_follows(conn, account.id)
    profile = {
        "username": account.username,
        "display_name": account.display_name,
        "summary": account.summary,
        "email": account.email,
        "language": account.language,
        "timezone": account.timezone,
        "created_at": account.created_at,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _json(profile))
        archive.writestr("posts.json", _json(posts))
        archive.writestr("memberships.json", _json(memberships))
        archive.writestr("follows.json", _json(follows))
    return buffer.getvalue()
