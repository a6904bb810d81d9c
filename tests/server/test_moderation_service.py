"""Moderation services against a real database: who may act, and that refusals change nothing."""

from __future__ import annotations

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid
from server.models import Actor, RemoteActorData
from server.services import follows, groups, inbound, moderation, posts
from tests.factories import make_account, make_group, make_member, make_post, snapshot


async def remote_person(db: Pool, name: str = "mallory", domain: str = "ailleurs.example") -> Actor:
    return await inbound.store_remote_actor(
        db,
        RemoteActorData(
            uri=f"https://{domain}/users/{name}", name=name, domain=domain, kind="person",
            display_name=name, summary_html="", avatar=None, url=None,
            inbox=f"https://{domain}/users/{name}/inbox", shared_inbox=None, outbox=None,
            followers_uri=None, key_id=f"https://{domain}/users/{name}#main-key",
            public_key_pem="", manually_approves=False,
        ),
    )  # fmt: skip


async def test_moderator_actions_by_a_non_moderator_change_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config)
    member = await make_account(db, config)
    target = await make_account(db, config)
    group = await make_group(db, config, owner)
    await make_member(db, group, member)
    await make_member(db, group, target)
    post = await make_post(db, config, group, target)
    report_id = await moderation.report(db, owner, post_id=post.id, reason="Insultes")
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await moderation.ban_from_group(db, group, member, f"@{target.username}")
    with pytest.raises(Forbidden):
        await moderation.lift_ban(db, group, member, target.id)
    with pytest.raises(Forbidden):
        await posts.delete_post(db, post, member)
    with pytest.raises(Forbidden):
        await moderation.list_reports(db, member, group)
    with pytest.raises(Forbidden):
        await moderation.list_log(db, member, group)
    with pytest.raises(Forbidden):
        await moderation.resolve_report(db, member, report_id)
    with pytest.raises(Forbidden):
        await moderation.suspend_account(db, member, target.username)
    with pytest.raises(Forbidden):
        await moderation.block_domain(db, member, "ailleurs.example")
    with pytest.raises(Forbidden):
        await groups.remove_member(db, group, member, target.id)

    assert await snapshot(db) == before


async def test_ban_outlives_a_new_follow_and_a_new_join(db: Pool, config: Config) -> None:
    owner = await make_account(db, config)
    local = await make_account(db, config)
    group = await make_group(db, config, owner, visibility="members", join_policy="approval")
    group_actor = await follows.get_actor(db, group.id)
    mallory = await remote_person(db)
    assert await follows.receive_follow(
        db, mallory, group_actor, "https://ailleurs.example/f/1"
    ) == ("pending")
    await groups.decide_request(db, group, owner, mallory.id, approve=True)
    await groups.join_group(db, group, local)
    await groups.decide_request(db, group, owner, local.id, approve=True)

    await moderation.ban_from_group(db, group, owner, "@mallory@ailleurs.example", "Harcèlement")
    await moderation.ban_from_group(db, group, owner, f"@{local.username}")
    assert await groups.get_membership(db, group, local) is None
    before = await snapshot(db)

    # A new Follow is answered with a Reject: no membership, no follow, only that job.
    state = await follows.receive_follow(db, mallory, group_actor, "https://ailleurs.example/f/2")
    assert state == "rejected"
    with pytest.raises(Forbidden):
        await groups.join_group(db, group, local)
    after = await snapshot(db)
    assert {t for t in after if after[t] != before[t]} == {"jobs"}
    log = await moderation.list_log(db, owner, group)
    assert [row[2] for row in log][:2] == ["ban", "ban"]
    assert log[1][3] == "@mallory@ailleurs.example" and log[1][4] == "Harcèlement"


async def test_owner_cannot_be_banned_and_unknown_person_is_invalid(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config)
    moderator = await make_account(db, config)
    group = await make_group(db, config, owner)
    await make_member(db, group, moderator)
    await groups.set_member_role(db, group, owner, moderator.id, "moderator")
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await moderation.ban_from_group(db, group, moderator, f"@{owner.username}")
    with pytest.raises(Invalid):
        await moderation.ban_from_group(db, group, moderator, "@nobody@nowhere.example")
    assert await snapshot(db) == before


async def test_report_goes_to_group_moderators_and_admins_without_the_reporter(
    db: Pool, config: Config
) -> None:
    admin = await make_account(db, config, is_admin=True)
    owner = await make_account(db, config)
    reporter = await make_account(db, config)
    group = await make_group(db, config, owner)
    await make_member(db, group, reporter)
    post = await make_post(db, config, group, owner, "Un message blessant")
    await moderation.report(db, reporter, post_id=post.id, reason="Propos blessants")

    [seen_by_group] = await moderation.list_reports(db, owner, group)
    [seen_by_admin] = await moderation.list_reports(db, admin)
    assert seen_by_group == seen_by_admin
    assert seen_by_group.reason == "Propos blessants" and seen_by_group.post_id == post.id
    assert reporter.username not in repr(seen_by_group)


async def test_report_of_a_members_only_post_by_a_stranger_is_not_found(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config)
    stranger = await make_account(db, config)
    group = await make_group(db, config, owner, visibility="members")
    post = await make_post(db, config, group, owner, "Entre nous")
    before = await snapshot(db)
    with pytest.raises(Exception, match="does not exist"):
        await moderation.report(db, stranger, post_id=post.id, reason="?")
    assert await snapshot(db) == before


async def test_suspended_account_is_disabled_and_logged(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, is_admin=True)
    target = await make_account(db, config)
    await moderation.suspend_account(db, admin, target.username, "Spam")
    async with db.acquire() as conn:
        status = await conn.fetchval("SELECT status FROM accounts WHERE actor_id = $1", target.id)
    assert status == "disabled"
    assert (await moderation.list_log(db, admin))[0][2:] == (
        "suspend",
        f"@{target.username}",
        "Spam",
    )


async def test_rules_must_be_accepted_to_join(db: Pool, config: Config) -> None:
    owner = await make_account(db, config)
    newcomer = await make_account(db, config)
    group = await make_group(db, config, owner)
    group = await groups.update_group(
        db, owner, group, name=group.name, description="", visibility="public",
        join_policy="open", rules="Bienveillance. Ce qui est dit ici reste ici.",
    )  # fmt: skip
    assert group.rules.startswith("Bienveillance")
    with pytest.raises(Forbidden):
        await groups.join_group(db, group, newcomer)
    member = await groups.join_group(db, group, newcomer, accepted_rules=True)
    assert member.state == "active"


async def test_blocked_domain_gets_no_delivery(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, is_admin=True)
    assert await moderation.block_domain(db, admin, "https://Ailleurs.example/") == (
        "ailleurs.example"
    )
    assert await moderation.is_blocked(db, "ailleurs.example")
    from server.services import outbox

    queued = await outbox.publish_activity(
        db, uri="http://127.0.0.1:8000/x/1", actor_id=admin.id, type="Create", payload={},
        inboxes=["https://ailleurs.example/inbox", "https://ami.example/inbox"],
    )  # fmt: skip
    assert queued == 1
