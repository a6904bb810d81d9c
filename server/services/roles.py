"""Who may do what with a group's calls to action: its organizers act, its readers read.

Petitions and mobilizations ask the same two questions of a group; they ask them here.
"""

from __future__ import annotations

from server.db import Connection
from server.errors import Forbidden
from server.models import Account
from server.services.groups import can_read
from server.storage import groups as group_store


async def is_organizer(conn: Connection, group_id: int, account: Account | None) -> bool:
    """Tell whether `account` organizes the group (its moderators do)."""
    if account is None:
        return False
    member = await group_store.get_membership(conn, group_id, account.id)
    return member is not None and member.is_moderator


async def require_organizer(conn: Connection, group_id: int, account: Account) -> None:
    """Refuse anyone but the group's organizers."""
    if not await is_organizer(conn, group_id, account):
        raise Forbidden("Only the group's organizers can do this.")


async def require_reader(conn: Connection, group_id: int, viewer: Account | None) -> None:
    """Refuse a viewer who may not read the group (members-only groups stay inside)."""
    group = await group_store.get_group(conn, group_id)
    membership = await group_store.get_membership(conn, group_id, viewer.id) if viewer else None
    if group is None or not can_read(group, membership):
        raise Forbidden("This group shares its posts with members only.")
