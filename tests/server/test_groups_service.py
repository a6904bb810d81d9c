"""Groups: creation, joining per policy, requests, invitations, roles and visibility."""

from __future__ import annotations

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import Account, Group
from server.services import groups, posts
from server.services.groups import (
    create_group,
    decide_request,
    get_membership,
    invite_member,
    join_group,
    leave_group,
    list_members,
    remove_member,
    set_member_role,
)
from tests.factories import make_account, make_accounts, make_group, make_post, snapshot


async def state_of(db: Pool, group: Group, account: Account) -> tuple[str, str] | None:
    member = await get_membership(db, group, account)
    return (member.role, member.state) if member else None


# Creation


async def test_create_group_makes_its_creator_the_only_owner(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await create_group(
        db,
        config,
        owner,
        slug=" Gardening ",
        name=" Garden friends ",
        description="We grow\n\nthings",
        visibility="members",
        join_policy="approval",
    )
    assert (group.slug, group.name) == ("gardening", "Garden friends")
    assert group.description_html == "<p>We grow</p><p>things</p>"
    assert (group.visibility, group.join_policy, group.member_count) == ("members", "approval", 1)
    assert await state_of(db, group, owner) == ("owner", "active")
    async with db.acquire() as conn:
        actor = await conn.fetchrow(
            "SELECT kind, private_key_pem FROM actors WHERE id = $1", group.id
        )
    assert actor["kind"] == "group"
    assert actor["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert await groups.get_group_by_slug(db, "GARDENING") == group


async def test_create_group_rejects_slug_equal_to_existing_username(
    db: Pool, config: Config
) -> None:
    owner, _ = await make_accounts(db, config, "alice", "bob")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await create_group(db, config, owner, slug="Bob", name="Bob's group")
    assert set(caught.value.fields) == {"slug"}
    assert await snapshot(db) == before


async def test_create_group_rejects_slug_of_existing_group(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await create_group(db, config, owner, slug="gardening", name="Another")
    assert set(caught.value.fields) == {"slug"}
    assert await snapshot(db) == before


BAD_GROUP_FIELDS = [
    ("slug", {"slug": ""}),
    ("slug", {"slug": "garden club"}),
    ("slug", {"slug": "g" * 31}),
    ("slug", {"slug": "settings"}),
    ("name", {"name": "   "}),
    ("name", {"name": "n" * 81}),
    ("description", {"description": "d" * 2001}),
    ("visibility", {"visibility": "secret"}),
    ("join_policy", {"join_policy": "anyone"}),
]


async def test_create_group_rejects_each_bad_field_and_stores_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    before = await snapshot(db)
    for field, values in BAD_GROUP_FIELDS:
        form = {"slug": "gardening", "name": "Gardening", **values}
        with pytest.raises(Invalid) as caught:
            await create_group(db, config, owner, **form)
        assert set(caught.value.fields) == {field}, values
    assert await snapshot(db) == before


async def test_update_group_by_moderator_changes_settings(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    updated = await groups.update_group(
        db,
        owner,
        group,
        name="Gardeners",
        description="Soil & seeds",
        visibility="members",
        join_policy="invite",
    )
    assert (updated.name, updated.visibility, updated.join_policy) == (
        "Gardeners",
        "members",
        "invite",
    )
    assert updated.description_html == "<p>Soil &amp; seeds</p>"


async def test_update_group_by_member_is_forbidden_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await groups.update_group(
            db, bob, group, name="Mine", description="", visibility="public", join_policy="open"
        )
    assert await snapshot(db) == before


async def test_update_group_rejects_bad_settings_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        await groups.update_group(
            db, owner, group, name="", description="", visibility="nobody", join_policy="open"
        )
    assert set(caught.value.fields) == {"name", "visibility"}
    assert await snapshot(db) == before


async def test_list_groups_shows_public_groups_only(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    public = await make_group(db, config, owner, "open_door")
    await make_group(db, config, owner, "closed_door", visibility="members")
    assert [g.slug for g in await groups.list_groups(db)] == [public.slug]
    assert {g.slug for g in await groups.list_account_groups(db, owner)} == {
        "open_door",
        "closed_door",
    }


async def test_get_group_of_unknown_slug_is_not_found(db: Pool) -> None:
    with pytest.raises(NotFound):
        await groups.get_group_by_slug(db, "nothing_here")


# Joining


async def test_join_open_group_makes_active_member(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="open")
    member = await join_group(db, group, bob)
    assert (member.role, member.state) == ("member", "active")
    assert (await groups.get_group_by_slug(db, "gardening")).member_count == 2


async def test_join_approval_group_leaves_a_pending_request(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    member = await join_group(db, group, bob)
    assert (member.role, member.state) == ("member", "pending")
    assert (await groups.get_group_by_slug(db, "gardening")).member_count == 1
    requests = await list_members(db, group, owner, state="pending")
    assert [m.name for m in requests] == ["bob"]


async def test_join_invite_only_group_without_invitation_is_forbidden(
    db: Pool, config: Config
) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="invite")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await join_group(db, group, bob)
    assert await snapshot(db) == before


async def test_joining_twice_or_asking_twice_is_a_conflict(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    open_group = await make_group(db, config, owner, "open_door", join_policy="open")
    approval_group = await make_group(db, config, owner, "front_desk", join_policy="approval")
    await join_group(db, open_group, bob)
    await join_group(db, approval_group, bob)
    before = await snapshot(db)
    for group in (open_group, approval_group):
        with pytest.raises(Conflict):
            await join_group(db, group, bob)
    assert await snapshot(db) == before


async def test_moderator_approves_request(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)
    await decide_request(db, group, owner, bob.id, approve=True)
    assert await state_of(db, group, bob) == ("member", "active")


async def test_moderator_rejects_request(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)
    await decide_request(db, group, owner, bob.id, approve=False)
    assert await state_of(db, group, bob) is None


async def test_deciding_a_request_that_does_not_exist_is_not_found(
    db: Pool, config: Config
) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)  # active already: nothing to decide
    before = await snapshot(db)
    with pytest.raises(NotFound):
        await decide_request(db, group, owner, bob.id, approve=False)
    assert await snapshot(db) == before


async def test_member_cannot_decide_requests_or_see_them(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)
    await decide_request(db, group, owner, bob.id, approve=True)
    await join_group(db, group, carol)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await decide_request(db, group, bob, carol.id, approve=True)
    with pytest.raises(Forbidden):
        await list_members(db, group, bob, state="pending")
    with pytest.raises(Forbidden):
        await list_members(db, group, None, state="pending")
    assert await snapshot(db) == before


# Invitations


async def test_invited_account_joins_invite_only_group(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="invite")
    await invite_member(db, group, owner, " BOB ")
    assert await state_of(db, group, bob) == ("member", "invited")
    member = await join_group(db, group, bob)
    assert (member.role, member.state) == ("member", "active")


async def test_invited_account_declines_by_leaving(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="invite")
    await invite_member(db, group, owner, "bob")
    await leave_group(db, group, bob)
    assert await state_of(db, group, bob) is None


async def test_inviting_a_pending_requester_approves_them(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)
    await invite_member(db, group, owner, "bob")
    assert await state_of(db, group, bob) == ("member", "active")


async def test_invite_refuses_unknown_name_invited_member_or_group_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    owner, _ = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="invite")
    await invite_member(db, group, owner, "bob")
    before = await snapshot(db)
    for username in ("nobody", "bob", "alice", "gardening"):
        with pytest.raises(Invalid) as caught:
            await invite_member(db, group, owner, username)
        assert set(caught.value.fields) == {"username"}, username
    assert await snapshot(db) == before


async def test_member_cannot_invite(db: Pool, config: Config) -> None:
    owner, bob, _ = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await invite_member(db, group, bob, "carol")
    assert await snapshot(db) == before


# Leaving


async def test_member_leaves_group(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await leave_group(db, group, bob)
    assert await state_of(db, group, bob) is None
    assert (await groups.get_group_by_slug(db, "gardening")).member_count == 1


async def test_leaving_a_group_one_is_not_in_is_not_found(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(NotFound):
        await leave_group(db, group, bob)
    assert await snapshot(db) == before


async def test_last_owner_cannot_leave(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await leave_group(db, group, owner)
    assert await snapshot(db) == before


async def test_owner_leaves_once_another_owner_exists(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await set_member_role(db, group, owner, bob.id, "owner")
    await leave_group(db, group, owner)
    assert await state_of(db, group, owner) is None
    assert await state_of(db, group, bob) == ("owner", "active")


# Roles and removal


async def test_promoted_moderator_can_approve_requests(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)
    await decide_request(db, group, owner, bob.id, approve=True)
    await set_member_role(db, group, owner, bob.id, "moderator")
    assert await state_of(db, group, bob) == ("moderator", "active")
    await join_group(db, group, carol)
    await decide_request(db, group, bob, carol.id, approve=True)
    assert await state_of(db, group, carol) == ("member", "active")
    members = await list_members(db, group, None)
    assert [(m.name, m.role) for m in members] == [
        ("alice", "owner"),
        ("bob", "moderator"),
        ("carol", "member"),
    ]


async def test_moderator_cannot_change_roles(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await join_group(db, group, carol)
    await set_member_role(db, group, owner, bob.id, "moderator")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await set_member_role(db, group, bob, carol.id, "moderator")
    with pytest.raises(Forbidden):
        await set_member_role(db, group, bob, bob.id, "owner")
    assert await snapshot(db) == before


async def test_last_owner_cannot_step_down(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await set_member_role(db, group, owner, owner.id, "member")
    assert await snapshot(db) == before


async def test_set_member_role_rejects_unknown_roles(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    for role in ("admin", "", "OWNER"):
        with pytest.raises(Invalid):
            await set_member_role(db, group, owner, owner.id, role)
    assert await snapshot(db) == before


async def test_set_role_of_non_member_is_not_found(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening", join_policy="approval")
    await join_group(db, group, bob)  # pending, not a member yet
    before = await snapshot(db)
    with pytest.raises(NotFound):
        await set_member_role(db, group, owner, bob.id, "moderator")
    assert await snapshot(db) == before


async def test_moderator_removes_member(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await join_group(db, group, carol)
    await set_member_role(db, group, owner, bob.id, "moderator")
    await remove_member(db, group, bob, carol.id)
    assert await state_of(db, group, carol) is None


async def test_moderator_cannot_remove_owner(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await set_member_role(db, group, owner, bob.id, "moderator")
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await remove_member(db, group, bob, owner.id)
    assert await snapshot(db) == before


async def test_member_cannot_remove_others(db: Pool, config: Config) -> None:
    owner, bob, carol = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(db, config, owner, "gardening")
    await join_group(db, group, bob)
    await join_group(db, group, carol)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await remove_member(db, group, bob, carol.id)
    assert await snapshot(db) == before


async def test_owner_cannot_remove_the_last_owner(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "gardening")
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await remove_member(db, group, owner, owner.id)
    assert await snapshot(db) == before


# Visibility


async def test_members_only_group_hides_posts_and_members_from_non_members(
    db: Pool, config: Config
) -> None:
    owner, outsider, requester = await make_accounts(db, config, "alice", "bob", "carol")
    group = await make_group(
        db, config, owner, "circle", visibility="members", join_policy="approval"
    )
    post = await make_post(db, config, group, owner, "members only")
    await join_group(db, group, requester)  # pending: not yet a reader
    for viewer in (None, outsider, requester):
        with pytest.raises(Forbidden):
            await posts.list_group_posts(db, group, viewer)
        with pytest.raises(Forbidden):
            await posts.get_post(db, post.id, viewer)
        with pytest.raises(Forbidden):
            await list_members(db, group, viewer)
    await decide_request(db, group, owner, requester.id, approve=True)
    page = await posts.list_group_posts(db, group, requester)
    assert [p.id for p in page.posts] == [post.id]
    assert (await posts.get_post(db, post.id, requester))[0] == post
    assert {m.name for m in await list_members(db, group, requester)} == {"alice", "carol"}


async def test_public_group_shows_posts_and_members_to_anyone(db: Pool, config: Config) -> None:
    owner = await make_account(db, config, "alice")
    group = await make_group(db, config, owner, "square")
    post = await make_post(db, config, group, owner, "hello everyone")
    assert [p.id for p in (await posts.list_group_posts(db, group, None)).posts] == [post.id]
    assert [m.name for m in await list_members(db, group, None)] == ["alice"]


async def test_a_group_says_its_topics_place_and_language_and_bad_ones_change_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    group = await create_group(
        db, config, owner, slug="repair", name="Repair café",
        topics=["social", "material"], place="  Lyon   7e ", language="fr",
    )  # fmt: skip
    assert (group.topics, group.place, group.language) == (("material", "social"), "Lyon 7e", "fr")
    made_by_cli = await create_group(db, config, owner, slug="plain", name="Plain")
    assert (made_by_cli.topics, made_by_cli.language) == ((), config.language)

    before = await snapshot(db)
    for field, values in [
        ("topics", {"topics": ["material", "astrology"]}),
        ("place", {"place": "p" * 121}),
        ("language", {"language": ""}),  # a form that sends no language
        ("language", {"language": "klingon"}),
    ]:
        with pytest.raises(Invalid) as caught:
            await create_group(db, config, owner, slug="other", name="Other", **values)
        assert set(caught.value.fields) == {field}, values
        with pytest.raises(Invalid) as caught:
            await groups.update_group(
                db, owner, group, name="Repair", description="", visibility="public",
                join_policy="open", **values,
            )  # fmt: skip
        assert set(caught.value.fields) == {field}, values
    assert await snapshot(db) == before

    updated = await groups.update_group(
        db, owner, group, name="Repair", description="", visibility="public",
        join_policy="open", topics=["advocacy"], place="", language="en",
    )  # fmt: skip
    assert (updated.topics, updated.place, updated.language) == (("advocacy",), "", "en")
    kept = await groups.update_group(
        db, owner, updated, name="Repair", description="", visibility="public", join_policy="open"
    )
    assert (kept.topics, kept.language) == (("advocacy",), "en")


async def test_the_directory_filters_by_topic_place_and_language_combined_and_pages(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "alice")
    made = {
        "velo_lyon": (["material", "social"], "Lyon", "fr"),
        "velo_paris": (["material"], "Paris", "fr"),
        "ecoute_lyon": (["emotional"], "Lyon Croix-Rousse", "fr"),
        "listen_lyon": (["emotional"], "Lyon", "en"),
        "cercle": (["emotional"], "Lyon", "fr"),
    }
    for slug, (topics, place, language) in made.items():
        await create_group(
            db, config, owner, slug=slug, name=slug.replace("_", " ").title(), topics=topics,
            place=place, language=language,
            visibility="members" if slug == "cercle" else "public",
        )  # fmt: skip

    async def slugs(**filters: str) -> set[str]:
        parsed = groups.DirectoryFilters.parse(
            filters.get("q", ""), filters.get("topic", ""), filters.get("place", ""),
            filters.get("language", ""), filters.get("page", ""),
        )  # fmt: skip
        found, _more = await groups.list_directory(db, parsed)
        return {g.slug for g in found}

    assert await slugs() == set(made) - {"cercle"}  # members-only groups stay out
    assert await slugs(topic="emotional") == {"ecoute_lyon", "listen_lyon"}
    assert await slugs(topic="emotional", place="croix rousse") == set()
    assert await slugs(topic="emotional", place="CROIX-ROUSSE") == {"ecoute_lyon"}
    assert await slugs(topic="emotional", language="en") == {"listen_lyon"}
    assert await slugs(topic="material", place="lyon", language="fr") == {"velo_lyon"}
    assert await slugs(q="velo", place="paris") == {"velo_paris"}
    # Unknown values mean "any": an old link keeps working.
    assert await slugs(topic="astrology", language="xx", page="-3") == set(made) - {"cercle"}

    for n in range(groups.DIRECTORY_PAGE + 3):
        await create_group(
            db, config, owner, slug=f"g{n}", name=f"G {n}", topics=["information"], language="fr"
        )
    first, more = await groups.list_directory(db, groups.DirectoryFilters(topic="information"))
    second, more_after = await groups.list_directory(
        db, groups.DirectoryFilters(topic="information", page=2)
    )
    assert (len(first), more, len(second), more_after) == (groups.DIRECTORY_PAGE, True, 3, False)
    assert not {g.slug for g in first} & {g.slug for g in second}
