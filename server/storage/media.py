"""Storage of pictures uploaded from apps, before and after a status takes them."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import MediaUpload

_COLUMNS = """id, account_id, file, media_type, width, height, description, focus_x, focus_y,
              post_id, created_at"""


def _upload(row: Any) -> MediaUpload:
    return MediaUpload(
        id=row["id"],
        account_id=row["account_id"],
        file=row["file"],
        media_type=row["media_type"],
        width=row["width"],
        height=row["height"],
        description=row["description"],
        focus=(row["focus_x"], row["focus_y"]),
        post_id=row["post_id"],
        created_at=row["created_at"],
    )


async def insert_upload(
    conn: Connection,
    *,
    account_id: int,
    file: str,
    media_type: str,
    width: int,
    height: int,
    description: str,
    focus: tuple[float, float],
) -> MediaUpload:
    row = await conn.fetchrow(
        f"""
        INSERT INTO media_uploads (account_id, file, media_type, width, height, description,
                                   focus_x, focus_y)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING {_COLUMNS}
        """,
        account_id,
        file,
        media_type,
        width,
        height,
        description,
        focus[0],
        focus[1],
    )
    return _upload(row)


async def get_upload(conn: Connection, upload_id: int) -> MediaUpload | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM media_uploads WHERE id = $1", upload_id)
    return _upload(row) if row else None


async def list_uploads(conn: Connection, upload_ids: list[int]) -> list[MediaUpload]:
    """Return the uploads of these ids, in the order asked."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM media_uploads WHERE id = ANY($1::bigint[]) FOR UPDATE",
        upload_ids,
    )
    found = {r["id"]: _upload(r) for r in rows}
    return [found[i] for i in upload_ids if i in found]


async def update_upload(
    conn: Connection, upload_id: int, *, description: str, focus: tuple[float, float]
) -> MediaUpload | None:
    row = await conn.fetchrow(
        f"""
        UPDATE media_uploads SET description = $2, focus_x = $3, focus_y = $4
        WHERE id = $1 AND post_id IS NULL
        RETURNING {_COLUMNS}
        """,
        upload_id,
        description,
        focus[0],
        focus[1],
    )
    return _upload(row) if row else None


async def update_uploads_post(conn: Connection, upload_ids: list[int], post_id: int) -> int:
    """Give the uploads to a post; return how many were still free."""
    result: str = await conn.execute(
        """
        UPDATE media_uploads SET post_id = $2
        WHERE id = ANY($1::bigint[]) AND post_id IS NULL
        """,
        upload_ids,
        post_id,
    )
    return int(result.split()[-1])


async def count_recent_uploads(conn: Connection, account_id: int, seconds: int) -> int:
    """Count the account's uploads of the last `seconds`, posted or not."""
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM media_uploads
        WHERE account_id = $1 AND created_at > now() - make_interval(secs => $2)
        """,
        account_id,
        seconds,
    )
    return count


async def delete_unposted_upload(conn: Connection, upload_id: int) -> str | None:
    """Delete an upload no status took; return its file name, or None if it was posted."""
    file: str | None = await conn.fetchval(
        "DELETE FROM media_uploads WHERE id = $1 AND post_id IS NULL RETURNING file", upload_id
    )
    return file
