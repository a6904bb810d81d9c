"""The board of needs and offers: members post, others answer, the poster closes the item.

Matching (a need and an offer of the same category, and the same area when both give one)
lives in `find_matches` only, so that whatever tells people of a match calls that one
function. Each change of a public group's item queues its federation in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import (
    BOARD_CATEGORIES,
    BOARD_KINDS,
    Account,
    Actor,
    BoardAnswer,
    BoardItem,
    BoardMatch,
    Group,
    RemoteBoardItem,
)
from server.sanitize import render_text, sanitize_html
from server.services import notifications
from server.services.groups import can_read
from server.services.posts import mention_resolver, tag_url
from server.storage import board as store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store

# Jobs the federation worker runs: publish or update an item; send a local answer to a remote
# one; send the poster's reply back to the remote author of an answer.
FEDERATE_BOARD_ITEM = "federate_board_item"
SEND_BOARD_ANSWER = "send_board_answer"
SEND_BOARD_REPLY = "send_board_reply"

MAX_TITLE = 120
MAX_DETAILS = 5000
MAX_AREA = 120
MAX_ANSWER = 2000
MAX_REMOTE_HTML = 50_000
# An item stays on the board at most this long (a need a year old is no longer a need).
MAX_VALIDITY = timedelta(days=366)
ANSWER_MODES = ("private", "public")
CLOSING_STATES = ("fulfilled", "withdrawn")
PAGE_SIZE = 30


@dataclass(frozen=True)
class BoardFilters:
    kind: str | None = None
    category: str | None = None
    area: str | None = None

    @classmethod
    def parse(cls, kind: str, category: str, area: str) -> BoardFilters:
        """Read filters from a query string; unknown values mean "any" (links stay valid)."""
        area = " ".join(area.split())[:MAX_AREA]
        return cls(
            kind=kind if kind in BOARD_KINDS else None,
            category=category if category in BOARD_CATEGORIES else None,
            area=area or None,
        )


def _parse_valid_until(value: str, timezone: str) -> tuple[datetime | None, str | None]:
    """Read a date (and time) typed in the person's time zone; it must be in the future."""
    value = value.strip()
    if not value:
        return None, v.REQUIRED
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "Enter a date like 2026-12-31 or 2026-12-31T18:00."
    if len(value) <= 10:  # a date alone: the end of that day
        moment = moment.replace(hour=23, minute=59)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    now = datetime.now(UTC)
    if moment <= now:
        return None, "The date must be in the future."
    if moment > now + MAX_VALIDITY:
        return None, "At most a year from now."
    return moment, None


def _parse_coordinate(value: str, limit: float) -> tuple[float | None, str | None]:
    value = value.strip()
    if not value:
        return None, None
    try:
        number = float(value)
    except ValueError:
        return None, "Enter a number like 48.8566."
    if not -limit <= number <= limit:  # also refuses nan
        return None, "This is not a coordinate."
    return number, None


async def _require_member(conn: Connection, group_id: int, account: Account) -> None:
    member = await group_store.get_membership(conn, group_id, account.id)
    if member is None or member.state != "active":
        raise Forbidden("Only the group's members can do this.")


async def create_item(
    db: Pool,
    config: Config,
    group: Group,
    author: Account,
    *,
    kind: str,
    category: str,
    title: str,
    details: str,
    area: str = "",
    latitude: str = "",
    longitude: str = "",
    valid_until: str,
    answers: str = "private",
) -> BoardItem:
    """Post a need or an offer on a group's board; only its members may."""
    title, area = title.strip(), " ".join(area.split())
    until, until_error = _parse_valid_until(valid_until, author.timezone)
    lat, lat_error = _parse_coordinate(latitude, 90)
    lon, lon_error = _parse_coordinate(longitude, 180)
    if (lat is None) != (lon is None) and not (lat_error or lon_error):
        lat_error = "Give both coordinates, or neither."
    errors = v.collect(
        kind=v.check_choice(kind, BOARD_KINDS),
        category=v.check_choice(category, BOARD_CATEGORIES),
        title=v.check_text(title, max_length=MAX_TITLE, required=True),
        details=v.check_text(details, max_length=MAX_DETAILS),
        area=v.check_text(area, max_length=MAX_AREA),
        latitude=lat_error,
        longitude=lon_error,
        valid_until=until_error,
        answers=v.check_choice(answers, ANSWER_MODES),
    )
    if errors:
        raise Invalid(errors)
    assert until is not None
    async with db.acquire() as conn, conn.transaction():
        await _require_member(conn, group.id, author)
        item_id = await store.insert_item(
            conn,
            group_id=group.id,
            author_id=author.id,
            kind=kind,
            category=category,
            title=title,
            details=details,
            details_html=render_text(details, mention_resolver(config), tag_url(config)),
            area=area,
            latitude=lat,
            longitude=lon,
            valid_until=until,
            answers=answers,
        )
        if group.visibility == "public":
            await job_store.insert_job(
                conn, FEDERATE_BOARD_ITEM, {"item_id": item_id, "action": "create"}
            )
        item = await store.get_item(conn, item_id)
        assert item is not None
        # The authors of the items this one answers hear of it, with what caused it.
        matched = await _find_matches(conn, item)
        authors = list(dict.fromkeys(m.author_id for m in matched if m.author_id is not None))
        await notifications.notify_board_match(conn, item.id, item.title, author.id, authors)
    return item


async def _find_matches(conn: Connection, item: BoardItem) -> list[BoardItem]:
    if not item.is_open:
        return []
    return await store.list_matching_items(conn, item.id)


async def find_matches(db: Pool, item: BoardItem) -> list[BoardItem]:
    """Return the open items of others that answer this one: the offers for a need, and the
    reverse, of the same category and, when both give one, the same area."""
    async with db.acquire() as conn:
        return await _find_matches(conn, item)


async def list_my_matches(db: Pool, group: Group, account: Account | None) -> list[BoardMatch]:
    """Return, for each open item the account posted in the group, the items that match it."""
    if account is None:
        return []
    async with db.acquire() as conn:
        mine = await store.list_author_open_item_ids(conn, group.id, account.id)
        items = [await store.get_item(conn, item_id) for item_id in mine]
    found: list[BoardMatch] = []
    for item in items:
        if item is not None:
            found += [BoardMatch(item, other) for other in await find_matches(db, item)]
    return found


async def _require_reader(conn: Connection, group_id: int, viewer: Account | None) -> None:
    group = await group_store.get_group(conn, group_id)
    membership = await group_store.get_membership(conn, group_id, viewer.id) if viewer else None
    if group is None or not can_read(group, membership):
        raise Forbidden("This group shares its posts with members only.")


async def list_board(
    db: Pool,
    group: Group,
    viewer: Account | None,
    filters: BoardFilters,
    *,
    before_id: int | None = None,
) -> list[BoardItem]:
    """Return a page of the group's open items, newest first (expired ones leave by themselves)."""
    async with db.acquire() as conn:
        await _require_reader(conn, group.id, viewer)
        return await store.list_board(
            conn,
            group.id,
            kind=filters.kind,
            category=filters.category,
            area=filters.area,
            before_id=before_id,
            limit=PAGE_SIZE,
        )


async def count_needs_met_this_month(db: Pool, config: Config, group: Group) -> int:
    """Count the needs of the group fulfilled since the first of the month (instance time)."""
    now = datetime.now(ZoneInfo(config.timezone))
    since = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with db.acquire() as conn:
        return await store.count_fulfilled_needs_since(conn, group.id, since)


async def list_my_items(db: Pool, group: Group, account: Account | None) -> list[BoardItem]:
    if account is None:
        return []
    async with db.acquire() as conn:
        return await store.list_author_items(conn, group.id, account.id)


async def list_followed_items(db: Pool, account: Account) -> list[BoardItem]:
    """Return the open needs and offers of remote groups the account follows."""
    async with db.acquire() as conn:
        return await store.list_followed_items(conn, account.id)


async def get_item(db: Pool, item_id: int, viewer: Account | None) -> BoardItem:
    """Return an item the viewer may read (items of members-only groups stay inside)."""
    async with db.acquire() as conn:
        item = await store.get_item(conn, item_id)
        if item is None:
            raise NotFound("This need or offer does not exist.")
        if item.is_local:
            await _require_reader(conn, item.group_id, viewer)
    return item


async def list_answers(db: Pool, item: BoardItem, viewer: Account | None) -> list[BoardAnswer]:
    """Return the answers the viewer may read: the poster reads all, others the public ones
    and their own."""
    async with db.acquire() as conn:
        return await store.list_answers(
            conn,
            item.id,
            viewer_id=viewer.id if viewer else None,
            all_private=viewer is not None and viewer.id == item.author_id,
        )


async def answer_item(
    db: Pool,
    item: BoardItem,
    account: Account,
    *,
    content: str,
    public: bool,
    may_name: bool,
) -> int:
    """Answer an open item; a private answer is read by the poster and the answerer only.

    An item that takes private answers only gets private ones. An answer to a remote item is
    sent to its group.
    """
    content = content.strip()
    errors = v.collect(content=v.check_text(content, max_length=MAX_ANSWER, required=True))
    if errors:
        raise Invalid(errors)
    public = public and item.answers == "public"
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_item_for_update(conn, item.id)
        if current is None:
            raise NotFound("This need or offer does not exist.")
        if not current.is_open:
            raise Conflict("This need or offer is closed.")
        if current.author_id == account.id:
            raise Forbidden("You cannot answer your own need or offer.")
        answer_id = await store.insert_answer(
            conn,
            item_id=item.id,
            author_id=account.id,
            public=public,
            content_html=render_text(content),
            may_name=may_name,
        )
        assert answer_id is not None
        if not current.is_local:
            await job_store.insert_job(conn, SEND_BOARD_ANSWER, {"answer_id": answer_id})
    return answer_id


async def reply_to_answer(
    db: Pool, item: BoardItem, account: Account, answer_id: int, *, content: str
) -> int:
    """Reply, as the poster, to one answer: read by its author (by all when it is public).

    A reply to an answer from another server (Mastodon, another Entraide) is sent back to its
    author, privately when the answer was private.
    """
    content = content.strip()
    errors = v.collect(content=v.check_text(content, max_length=MAX_ANSWER, required=True))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_item_for_update(conn, item.id)
        if current is None:
            raise NotFound("This need or offer does not exist.")
        if not current.is_local or current.author_id != account.id:
            raise Forbidden("Only the person who posted it can reply to its answers.")
        answer = await store.get_answer(conn, answer_id)
        if answer is None or answer.item_id != item.id or answer.in_reply_to_id is not None:
            raise NotFound("This answer does not exist.")
        if answer.author_id == account.id:
            raise Forbidden("You cannot reply to your own answer.")
        reply_id = await store.insert_answer(
            conn,
            item_id=item.id,
            author_id=account.id,
            public=answer.public,
            content_html=render_text(content),
            may_name=False,
            in_reply_to_id=answer.id,
        )
        assert reply_id is not None
        if answer.uri is not None:
            await job_store.insert_job(conn, SEND_BOARD_REPLY, {"answer_id": reply_id})
    return reply_id


async def close_item(
    db: Pool, item: BoardItem, account: Account, *, state: str, helper_id: int | None = None
) -> BoardItem:
    """Mark one's own item fulfilled (naming, if they agreed, who helped) or withdrawn."""
    errors = v.collect(state=v.check_choice(state, CLOSING_STATES))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_item_for_update(conn, item.id)
        if current is None:
            raise NotFound("This need or offer does not exist.")
        if not current.is_local or current.author_id != account.id:
            raise Forbidden("Only the person who posted it can close it.")
        if current.state != "open":
            raise Conflict("This need or offer is closed.")
        if state != "fulfilled":
            helper_id = None
        if helper_id is not None and not await store.find_consenting_answerer(
            conn, item.id, helper_id
        ):
            raise Invalid({"helper": "Only someone who answered and agreed can be named."})
        await store.update_item_state(conn, item.id, state=state, helper_id=helper_id)
        group = await group_store.get_group(conn, item.group_id)
        if group is not None and group.visibility == "public":
            await job_store.insert_job(
                conn, FEDERATE_BOARD_ITEM, {"item_id": item.id, "action": "update"}
            )
        updated = await store.get_item(conn, item.id)
    assert updated is not None
    return updated


# From federation: items of remote groups, answers from anywhere.


async def receive_item(db: Pool, group: Actor, data: RemoteBoardItem) -> int | None:
    """Keep (or refresh) a remote group's item if someone here follows the group.

    Only the group may change its own item. Return its id here, None if not kept.
    """
    if group.is_local or group.kind != "group":
        raise Forbidden("Only a group publishes needs and offers.")
    if data.kind not in BOARD_KINDS or data.category not in BOARD_CATEGORIES:
        raise Invalid({"kind": "Unknown kind or category."}, "Unknown kind or category.")
    data = RemoteBoardItem(
        uri=data.uri,
        url=data.url,
        kind=data.kind,
        category=data.category,
        title=data.title.strip()[:MAX_TITLE] or "…",
        details_html=sanitize_html(data.details_html[:MAX_REMOTE_HTML]),
        area=" ".join(data.area.split())[:MAX_AREA],
        valid_until=data.valid_until,
        answers=data.answers if data.answers in ANSWER_MODES else "private",
        state=data.state if data.state in ("open", *CLOSING_STATES) else "open",
    )
    async with db.acquire() as conn, conn.transaction():
        before = await store.find_item_by_uri(conn, data.uri)
        if before is not None and before.group_id != group.id:
            raise Forbidden("Only the group can change its need or offer.")
        if before is None and not await follow_store.has_local_follower(conn, group.id):
            return None
        return await store.upsert_remote_item(conn, group.id, data)


async def receive_answer(
    db: Pool, item_id: int, author: Actor, *, content_html: str, public: bool, uri: str
) -> str:
    """Keep a remote answer to a local item; a missing or closed item changes nothing."""
    async with db.acquire() as conn, conn.transaction():
        item = await store.get_item_for_update(conn, item_id)
        if item is None or not item.is_local:
            raise NotFound("This need or offer does not exist.")
        if not item.is_open:
            raise Conflict("This need or offer is closed.")
        if author.is_local or author.kind == "group":
            raise Forbidden("Only people answer.")
        answer_id = await store.insert_answer(
            conn,
            item_id=item_id,
            author_id=author.id,
            public=public and item.answers == "public",
            content_html=sanitize_html(content_html[:MAX_REMOTE_HTML]),
            may_name=False,
            uri=uri,
        )
    return f"answer {answer_id}" if answer_id else "already answered"


async def find_item_id(db: Pool, uri: str) -> int | None:
    """Return the id here of a remote item known by its ActivityPub id."""
    async with db.acquire() as conn:
        item = await store.find_item_by_uri(conn, uri)
    return item.id if item else None


# For the federation worker.


async def get_item_any(db: Pool, item_id: int) -> BoardItem:
    """Return an item whoever may read it (the worker publishes only public groups' items)."""
    async with db.acquire() as conn:
        item = await store.get_item(conn, item_id)
    if item is None:
        raise NotFound("This need or offer does not exist.")
    return item


async def get_answer_any(db: Pool, answer_id: int) -> BoardAnswer:
    async with db.acquire() as conn:
        answer = await store.get_answer(conn, answer_id)
    if answer is None:
        raise NotFound("This answer does not exist.")
    return answer
