"""Groups: creation, settings, membership (join, request, approve, invite, leave), roles."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.keys import generate_key_pair
from server.models import GROUP_LANGUAGES, GROUP_TOPICS, Account, Group, Member
from server.names import clean_display_name
from server.sanitize import render_text
from server.services import notifications
from server.storage import accounts as account_store
from server.storage import follows as follow_store
from server.storage import groups as store
from server.storage import jobs as job_store
from server.storage import moderation as moderation_store

# The job answering a remote Follow (federation/outgoing.py), as in server/services/follows.py.
SEND_FOLLOW_RESPONSE = "send_follow_response"

VISIBILITIES = ("public", "members")
JOIN_POLICIES = ("open", "approval", "invite")
ROLES = ("owner", "moderator", "member")
MAX_GROUP_NAME = 80
MAX_RULES = 5000
MAX_PLACE = 120


def _profile_errors(topics: Sequence[str], place: str, language: str | None) -> dict[str, str]:
    """Check what the directory filters by: known topics, a short place, a known language
    (None: a group made before groups had one, left so)."""
    unknown = [t for t in topics if t not in GROUP_TOPICS]
    known_language = language is None or language in GROUP_LANGUAGES
    return v.collect(
        topics="Choose among the topics listed." if unknown or len(topics) > 20 else None,
        place=v.check_text(place, max_length=MAX_PLACE),
        language=None if known_language else "Choose the group's language.",
    )


def _clean_topics(topics: Sequence[str]) -> list[str]:
    """Return the topics in the order of GROUP_TOPICS, each once."""
    return [t for t in GROUP_TOPICS if t in topics]


def _settings_errors(
    name: str, description: str, visibility: str, join_policy: str
) -> dict[str, str]:
    return v.collect(
        name=v.check_text(name, max_length=MAX_GROUP_NAME, required=True),
        description=v.check_text(description, max_length=v.MAX_SUMMARY),
        visibility=v.check_choice(visibility, VISIBILITIES),
        join_policy=v.check_choice(join_policy, JOIN_POLICIES),
    )


async def create_group(
    db: Pool,
    config: Config,
    owner: Account,
    *,
    slug: str,
    name: str,
    description: str = "",
    visibility: str = "public",
    join_policy: str = "open",
    topics: Sequence[str] = (),
    place: str = "",
    language: str | None = None,
) -> Group:
    """Create a group whose first owner is `owner`; its language is the instance's unless
    given (a form always gives one: an empty one is refused)."""
    slug = slug.strip().lower()
    name = clean_display_name(name)
    place = " ".join(place.split())
    language = config.language if language is None else language.strip()
    # Every error at once: the address and the other fields are checked together.
    errors = _settings_errors(name, description, visibility, join_policy)
    errors |= _profile_errors(topics, place, language)
    slug_error = v.check_name(slug)
    if slug_error is None:
        async with db.acquire() as conn:
            if await account_store.name_taken(conn, slug):
                slug_error = "This name is already taken."
    if slug_error is not None:
        # In the order of the form (name, then address): the first one gets the focus.
        errors = {k: v for k, v in errors.items() if k == "name"} | {"slug": slug_error} | errors
    if errors:
        raise Invalid(errors)
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    async with db.acquire() as conn, conn.transaction():
        if await account_store.name_taken(conn, slug):
            raise Invalid({"slug": "This name is already taken."})
        group_id = await store.insert_group(
            conn,
            slug=slug,
            name=name,
            description=description,
            description_html=render_text(description),
            visibility=visibility,
            join_policy=join_policy,
            private_key_pem=private_pem,
            public_key_pem=public_pem,
            topics=_clean_topics(topics),
            place=place,
            language=language,
        )
        if group_id is None:
            raise Invalid({"slug": "This name is already taken."})
        await store.insert_membership(conn, group_id, owner.id, role="owner", state="active")
        group = await store.get_group(conn, group_id)
    assert group is not None
    return group


async def update_group(
    db: Pool,
    actor: Account,
    group: Group,
    *,
    name: str,
    description: str,
    visibility: str,
    join_policy: str,
    followers_can_post: bool = True,
    rules: str | None = None,
    topics: Sequence[str] | None = None,
    place: str | None = None,
    language: str | None = None,
) -> Group:
    """Change a group's settings (moderators and owners); a field left None is kept."""
    name = clean_display_name(name)
    async with db.acquire() as conn:
        await _require_moderator(conn, group, actor)
    topics = list(group.topics) if topics is None else list(topics)
    place = group.place if place is None else " ".join(place.split())
    language = group.language if language is None else language.strip()
    errors = _settings_errors(name, description, visibility, join_policy)
    errors |= _profile_errors(topics, place, language)
    if rules is not None:
        errors |= v.collect(rules=v.check_text(rules.strip(), max_length=MAX_RULES))
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        await store.update_group_profile(
            conn, group.id, topics=_clean_topics(topics), place=place, language=language
        )
        if rules is not None:
            await store.update_rules(conn, group.id, rules.strip())
        await store.update_group(
            conn,
            group.id,
            name=name,
            description=description,
            description_html=render_text(description),
            visibility=visibility,
            join_policy=join_policy,
            followers_can_post=followers_can_post,
        )
        updated = await store.get_group(conn, group.id)
    assert updated is not None
    return updated


async def get_group_by_slug(db: Pool, slug: str) -> Group:
    if "\x00" in slug:  # no slug holds NUL, and PostgreSQL refuses to compare with it
        raise NotFound("This page does not exist.")
    async with db.acquire() as conn:
        group = await store.find_group_by_slug(conn, slug)
    if group is None:
        raise NotFound("This page does not exist.")
    return group


async def list_groups(db: Pool) -> list[Group]:
    async with db.acquire() as conn:
        return await store.list_groups(conn)


@dataclass(frozen=True)
class DirectoryFilters:
    """What /directory filters by: words, a topic, a place, a language; and which page."""

    words: str = ""
    topic: str | None = None
    place: str = ""
    language: str | None = None
    page: int = 1

    @classmethod
    def parse(
        cls, words: str, topic: str, place: str, language: str, page: str
    ) -> DirectoryFilters:
        """Read filters from a query string; unknown values mean "any" (links stay valid)."""
        number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
        return cls(
            words=" ".join(words.split())[:200],
            topic=topic if topic in GROUP_TOPICS else None,
            place=" ".join(place.split())[:MAX_PLACE],
            language=language if language in GROUP_LANGUAGES else None,
            page=max(number, 1),
        )


DIRECTORY_PAGE = 20


async def list_directory(db: Pool, filters: DirectoryFilters) -> tuple[list[Group], bool]:
    """Return a page of the instance's public groups matching the filters, the most active
    first, and whether another page follows."""
    async with db.acquire() as conn:
        found = await store.list_directory(
            conn,
            words=filters.words.split(),
            topic=filters.topic,
            place=filters.place,
            language=filters.language,
            limit=DIRECTORY_PAGE + 1,
            offset=(filters.page - 1) * DIRECTORY_PAGE,
        )
    return found[:DIRECTORY_PAGE], len(found) > DIRECTORY_PAGE


async def list_account_groups(db: Pool, account: Account) -> list[Group]:
    async with db.acquire() as conn:
        return await store.list_account_groups(conn, account.id)


async def get_membership(db: Pool, group: Group, account: Account | None) -> Member | None:
    """Return the account's membership in the group (any state), or None."""
    if account is None:
        return None
    async with db.acquire() as conn:
        return await store.get_membership(conn, group.id, account.id)


def can_read(group: Group, membership: Member | None) -> bool:
    """Members-only groups show their posts and members to active members alone."""
    return group.visibility == "public" or (membership is not None and membership.state == "active")


async def _require_moderator(conn: Connection, group: Group, actor: Account) -> Member:
    member = await store.get_membership(conn, group.id, actor.id)
    if member is None or not member.is_moderator:
        raise Forbidden("Only the group's moderators can do this.")
    return member


async def join_group(
    db: Pool, group: Group, account: Account, *, accepted_rules: bool = False
) -> Member:
    """Join an open group, ask to join an approval group, or accept an invitation.

    A group with rules is joined only by someone who accepted them.
    """
    if group.rules and not accepted_rules:
        raise Forbidden("Accept the group's rules to join.")
    async with db.acquire() as conn, conn.transaction():
        if await moderation_store.is_banned(conn, group.id, account.id):
            raise Forbidden("You were banned from this group.")
        current = await store.get_membership(conn, group.id, account.id)
        if current is not None and current.state in ("active", "pending"):
            raise Conflict("You already belong to this group or asked to join it.")
        if current is not None and current.state == "invited":
            await store.update_membership(conn, group.id, account.id, role="member", state="active")
        elif group.join_policy == "open":
            await store.insert_membership(conn, group.id, account.id, role="member", state="active")
        elif group.join_policy == "approval":
            await store.insert_membership(
                conn, group.id, account.id, role="member", state="pending"
            )
            await store.update_rules_shown(conn, group.id, account.id, group.rules)
            await notifications.notify_moderators(
                conn, group.id, "join_request", actor_id=account.id
            )
        else:
            raise Forbidden("This group can only be joined by invitation.")
        member = await store.get_membership(conn, group.id, account.id)
    assert member is not None
    return member


async def leave_group(db: Pool, group: Group, account: Account) -> None:
    """Leave a group, withdraw a request or decline an invitation; the last owner stays."""
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_membership(conn, group.id, account.id)
        if current is None:
            raise NotFound("You are not a member of this group.")
        if current.role == "owner" and await store.count_owners(conn, group.id) <= 1:
            raise Conflict("The last owner cannot leave: make someone else owner first.")
        await store.delete_membership(conn, group.id, account.id)


async def decide_request(
    db: Pool, group: Group, moderator: Account, actor_id: int, *, approve: bool
) -> None:
    """Approve or reject a pending request to join."""
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        member = await store.get_membership(conn, group.id, actor_id)
        if member is None or member.state != "pending":
            raise NotFound("There is no such request.")
        if approve:
            await store.update_membership(conn, group.id, actor_id, role="member", state="active")
        else:
            await store.delete_membership(conn, group.id, actor_id)
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id,
            action="approve_member" if approve else "reject_member", target=_handle(member),
        )  # fmt: skip
        if member.domain is not None:
            await _answer_remote_request(conn, group, actor_id, accept=approve)
        decision = "request_accepted" if approve else "request_declined"
        await notifications.notify(conn, [actor_id], decision, group_id=group.id)


async def invite_member(db: Pool, group: Group, moderator: Account, username: str) -> None:
    """Invite a local account by username; a pending request is approved at once."""
    async with db.acquire() as conn, conn.transaction():
        await _require_moderator(conn, group, moderator)
        invitee = await account_store.find_account_by_username(conn, username.strip().lower())
        if invitee is None or invitee.status != "active":
            raise Invalid({"username": "No such account on this instance."})
        current = await store.get_membership(conn, group.id, invitee.id)
        if current is not None and current.state == "pending":
            await store.update_membership(conn, group.id, invitee.id, role="member", state="active")
        elif current is not None:
            raise Invalid({"username": "This person is already a member or invited."})
        else:
            await store.insert_membership(
                conn, group.id, invitee.id, role="member", state="invited"
            )


async def set_member_role(db: Pool, group: Group, owner: Account, actor_id: int, role: str) -> None:
    """Let an owner make a member moderator or owner, or step someone back."""
    if role not in ROLES:
        raise Invalid({"role": "Choose one of the options."})
    async with db.acquire() as conn, conn.transaction():
        me = await store.get_membership(conn, group.id, owner.id)
        if me is None or me.role != "owner" or me.state != "active":
            raise Forbidden("Only the group's owners can change roles.")
        member = await store.get_membership(conn, group.id, actor_id)
        if member is None or member.state != "active":
            raise NotFound("This person is not a member of the group.")
        if (
            member.role == "owner"
            and role != "owner"
            and await store.count_owners(conn, group.id) <= 1
        ):
            raise Conflict("The group needs at least one owner.")
        await store.update_membership(conn, group.id, actor_id, role=role, state="active")


async def get_member_to_remove(db: Pool, group: Group, moderator: Account, actor_id: int) -> Member:
    """Return the member a moderator asks to remove (to name them in the question)."""
    async with db.acquire() as conn:
        await _require_moderator(conn, group, moderator)
        member = await store.get_membership(conn, group.id, actor_id)
        if member is None:
            raise NotFound("This person is not a member of the group.")
        return member


async def remove_member(db: Pool, group: Group, moderator: Account, actor_id: int) -> None:
    """Let a moderator remove a member (owners are removed only by owners)."""
    async with db.acquire() as conn, conn.transaction():
        me = await _require_moderator(conn, group, moderator)
        member = await store.get_membership(conn, group.id, actor_id)
        if member is None:
            raise NotFound("This person is not a member of the group.")
        if member.role == "owner" and me.role != "owner":
            raise Forbidden("Only owners can remove an owner.")
        if member.role == "owner" and await store.count_owners(conn, group.id) <= 1:
            raise Conflict("The group needs at least one owner.")
        await store.delete_membership(conn, group.id, actor_id)
        await moderation_store.insert_log(
            conn, moderator_id=moderator.id, group_id=group.id, action="remove_member",
            target=_handle(member),
        )  # fmt: skip
        if member.domain is not None:
            await _end_remote_membership(conn, group, actor_id)


def _handle(member: Member) -> str:
    return f"@{member.name}@{member.domain}" if member.domain else f"@{member.name}"


async def _answer_remote_request(
    conn: Connection, group: Group, actor_id: int, *, accept: bool
) -> None:
    """Answer a remote person's request to join (their Follow) with Accept or Reject."""
    follow = await follow_store.get_follow(conn, actor_id, group.id)
    if follow is None:
        return
    if accept:
        await follow_store.update_follow_state(conn, actor_id, group.id, "accepted")
    else:
        await follow_store.delete_follow(conn, actor_id, group.id)
    await job_store.insert_job(
        conn,
        SEND_FOLLOW_RESPONSE,
        {"follower_id": actor_id, "target_id": group.id, "accept": accept,
         "follow_uri": follow.uri},
    )  # fmt: skip


async def _end_remote_membership(conn: Connection, group: Group, actor_id: int) -> None:
    """Cut a remote member off at once: no follow, nothing queued to them, a Reject sent.

    Mastodon and Lemmy read a Reject of an accepted Follow as "you no longer follow".
    """
    follow = await follow_store.get_follow(conn, actor_id, group.id)
    await follow_store.delete_follow(conn, actor_id, group.id)
    await moderation_store.delete_member_deliveries(conn, group.id, actor_id)
    if follow is not None:
        await job_store.insert_job(
            conn,
            SEND_FOLLOW_RESPONSE,
            {"follower_id": actor_id, "target_id": group.id, "accept": False,
             "follow_uri": follow.uri},
        )  # fmt: skip


# The job that tells peers an actor is gone (Delete of the actor), shared with accounts.
SEND_ACTOR_DELETE = "send_account_delete"


async def delete_group(db: Pool, group: Group, owner: Account | None) -> None:
    """Delete a group for good (its owners, or the operator when `owner` is None).

    Its followers' servers are told with a Delete of the group actor; the name stays taken, so
    that no new group inherits what peers remember of this one.
    """
    async with db.acquire() as conn, conn.transaction():
        if owner is not None:
            me = await store.get_membership(conn, group.id, owner.id)
            if me is None or me.role != "owner" or me.state != "active":
                raise Forbidden("Only the group's owners can delete it.")
        inboxes = await follow_store.list_follower_inboxes(conn, group.id)
        await store.erase_group(conn, group.id)
        await job_store.insert_job(
            conn, SEND_ACTOR_DELETE, {"actor_id": group.id, "inboxes": inboxes}
        )


async def list_members(
    db: Pool, group: Group, viewer: Account | None, *, state: str = "active", page: int = 1
) -> list[Member]:
    """List members (anyone who may read the group) or requests and invitations (moderators)."""
    async with db.acquire() as conn:
        membership = await store.get_membership(conn, group.id, viewer.id) if viewer else None
        if state != "active":
            if viewer is None:
                raise Forbidden("Only the group's moderators can do this.")
            await _require_moderator(conn, group, viewer)
        elif not can_read(group, membership):
            raise Forbidden("This group shares its members with members only.")
        return await store.list_members(
            conn, group.id, state=state, limit=100, offset=100 * (max(page, 1) - 1)
        )
