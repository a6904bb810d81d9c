"""The board of needs and offers: members post, others answer, the poster closes; matching;
bad input changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import Account, BoardItem, Group
from server.services import board
from server.services.board import BoardFilters
from tests.factories import make_account, make_group, make_member, snapshot


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).date().isoformat()


FORM = {
    "kind": "need",
    "category": "transport",
    "title": "Trajet jusqu'à l'hôpital mardi",
    "details": "Rendez-vous à 9 h, retour vers midi.",
    "area": "Belleville",
}


async def jobs(db: Pool, kind: str = board.FEDERATE_BOARD_ITEM) -> list[dict[str, object]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", kind)
    return [json.loads(r["payload"]) for r in rows]


async def posted(db: Pool, config: Config, group: Group, author: Account, **form: str) -> BoardItem:
    return await board.create_item(
        db, config, group, author, **{**FORM, "valid_until": tomorrow(), **form}
    )


async def group_of_two(db: Pool, config: Config) -> tuple[Account, Account, Group]:
    owner = await make_account(db, config)
    member = await make_account(db, config)
    group = await make_group(db, config, owner)
    await make_member(db, group, member)
    return owner, member, group


async def test_a_member_posts_a_need_that_shows_on_the_board_and_federates(
    db: Pool, config: Config
) -> None:
    owner, _member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)

    assert (item.kind, item.category, item.title, item.area) == (
        "need", "transport", FORM["title"], "Belleville",
    )  # fmt: skip
    assert item.is_open and item.answers == "private"
    assert [i.id for i in await board.list_board(db, group, None, BoardFilters())] == [item.id]
    assert await jobs(db) == [{"item_id": item.id, "action": "create"}]


async def test_the_board_filters_by_kind_category_and_area_newest_first(
    db: Pool, config: Config
) -> None:
    owner, member, group = await group_of_two(db, config)
    need = await posted(db, config, group, owner)
    offer = await posted(db, config, group, member, kind="offer", category="food", area="")
    other = await posted(db, config, group, member, area="Ménilmontant")

    def ids(items: list[BoardItem]) -> list[int]:
        return [i.id for i in items]

    assert ids(await board.list_board(db, group, None, BoardFilters())) == [
        other.id, offer.id, need.id,
    ]  # fmt: skip
    assert ids(await board.list_board(db, group, None, BoardFilters.parse("offer", "", ""))) == [
        offer.id
    ]
    assert ids(
        await board.list_board(db, group, None, BoardFilters.parse("", "transport", ""))
    ) == [other.id, need.id]
    assert ids(await board.list_board(db, group, None, BoardFilters.parse("", "", "bellev"))) == [
        need.id
    ]


async def test_a_need_and_an_offer_match_on_category_and_area(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    need = await posted(db, config, group, owner)
    elsewhere = await posted(db, config, group, member, kind="offer", area="Lyon")
    offer = await posted(db, config, group, member, kind="offer", area="belleville")
    anywhere = await posted(db, config, group, member, kind="offer", area="")
    await posted(db, config, group, member, kind="offer", category="food")

    assert [i.id for i in await board.find_matches(db, need)] == [anywhere.id, offer.id]
    assert [i.id for i in await board.find_matches(db, offer)] == [need.id]
    assert await board.find_matches(db, elsewhere) == []
    matches = await board.list_my_matches(db, group, owner)
    assert [(m.mine.id, m.theirs.id) for m in matches] == [
        (need.id, anywhere.id), (need.id, offer.id),
    ]  # fmt: skip


async def test_a_private_answer_is_read_by_the_poster_and_the_answerer_only(
    db: Pool, config: Config
) -> None:
    owner, member, group = await group_of_two(db, config)
    third = await make_account(db, config)
    await make_member(db, group, third)
    item = await posted(db, config, group, owner)

    await board.answer_item(db, item, member, content="Je peux conduire.", public=True,
                            may_name=True)  # fmt: skip

    assert len(await board.list_answers(db, item, owner)) == 1
    assert len(await board.list_answers(db, item, member)) == 1
    # The item takes private answers only: asking for a public one gives a private one.
    assert await board.list_answers(db, item, third) == []
    assert await board.list_answers(db, item, None) == []


async def test_a_public_answer_is_read_by_everyone(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner, answers="public")
    await board.answer_item(db, item, member, content="Moi !", public=True, may_name=False)
    assert [a.public for a in await board.list_answers(db, item, None)] == [True]


async def test_fulfilled_names_the_helper_who_agreed_and_leaves_the_board(
    db: Pool, config: Config
) -> None:
    owner, member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)
    await board.answer_item(db, item, member, content="Oui", public=False, may_name=True)

    closed = await board.close_item(db, item, owner, state="fulfilled", helper_id=member.id)

    assert closed.state == "fulfilled" and not closed.is_open
    assert closed.helper_name == member.username
    assert await board.list_board(db, group, None, BoardFilters()) == []
    assert await board.count_needs_met_this_month(db, config, group) == 1
    assert await jobs(db) == [
        {"item_id": item.id, "action": "create"}, {"item_id": item.id, "action": "update"},
    ]  # fmt: skip


async def test_a_helper_who_did_not_agree_cannot_be_named(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)
    await board.answer_item(db, item, member, content="Oui", public=False, may_name=False)
    before = await snapshot(db)

    with pytest.raises(Invalid) as caught:
        await board.close_item(db, item, owner, state="fulfilled", helper_id=member.id)

    assert "helper" in caught.value.fields
    assert await snapshot(db) == before


async def test_withdrawn_and_expired_items_leave_the_board(db: Pool, config: Config) -> None:
    owner, _member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)
    gone = await posted(db, config, group, owner)
    await board.close_item(db, gone, owner, state="withdrawn")
    async with db.acquire() as conn:
        await conn.execute(
            "UPDATE board_items SET valid_until = now() - interval '1 minute' WHERE id = $1",
            item.id,
        )
    assert await board.list_board(db, group, None, BoardFilters()) == []
    assert await board.count_needs_met_this_month(db, config, group) == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"valid_until": "demain"}, "valid_until"),
        ({"valid_until": ""}, "valid_until"),
        ({"category": "weapons"}, "category"),
        ({"kind": "wish"}, "kind"),
        ({"title": " "}, "title"),
        ({"latitude": "48.8"}, "latitude"),
        ({"latitude": "91", "longitude": "2"}, "latitude"),
        ({"answers": "everyone"}, "answers"),
    ],
)
async def test_bad_input_changes_nothing(
    db: Pool, config: Config, form: dict[str, str], field: str
) -> None:
    owner, _member, group = await group_of_two(db, config)
    before = await snapshot(db)

    with pytest.raises(Invalid) as caught:
        await posted(db, config, group, owner, **form)

    assert field in caught.value.fields
    assert await snapshot(db) == before


async def test_someone_else_cannot_mark_an_item_fulfilled(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await board.close_item(db, item, member, state="fulfilled")

    assert await snapshot(db) == before


async def test_a_non_member_cannot_post(db: Pool, config: Config) -> None:
    _owner, _member, group = await group_of_two(db, config)
    stranger = await make_account(db, config)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await posted(db, config, group, stranger)
    assert await snapshot(db) == before


async def test_a_closed_item_takes_no_answer(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    item = await posted(db, config, group, owner)
    await board.close_item(db, item, owner, state="withdrawn")
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await board.answer_item(db, item, member, content="Trop tard ?", public=False,
                                may_name=False)  # fmt: skip
    assert await snapshot(db) == before


async def test_the_board_of_a_members_only_group_stays_inside(db: Pool, config: Config) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner, visibility="members")
    item = await posted(db, config, group, owner)
    assert await jobs(db) == []
    with pytest.raises(Forbidden):
        await board.list_board(db, group, None, BoardFilters())
    with pytest.raises(Forbidden):
        await board.get_item(db, item.id, None)


async def test_the_posters_reply_to_a_private_answer_is_read_by_its_author_only(
    db: Pool, config: Config
) -> None:
    owner, member, group = await group_of_two(db, config)
    third = await make_account(db, config)
    await make_member(db, group, third)
    item = await posted(db, config, group, owner)
    answer_id = await board.answer_item(
        db, item, member, content="Je peux conduire.", public=False, may_name=False
    )

    reply_id = await board.reply_to_answer(db, item, owner, answer_id, content="Merci, à 9 h ?")

    assert [a.id for a in await board.list_answers(db, item, member)] == [answer_id, reply_id]
    assert [a.id for a in await board.list_answers(db, item, owner)] == [answer_id, reply_id]
    assert await board.list_answers(db, item, third) == []
    # A local answerer reads it here: nothing to send to another server.
    assert await jobs(db, board.SEND_BOARD_REPLY) == []


async def test_only_the_poster_replies_to_an_answer(db: Pool, config: Config) -> None:
    owner, member, group = await group_of_two(db, config)
    third = await make_account(db, config)
    await make_member(db, group, third)
    item = await posted(db, config, group, owner)
    answer_id = await board.answer_item(
        db, item, member, content="Je peux conduire.", public=False, may_name=False
    )
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await board.reply_to_answer(db, item, third, answer_id, content="Moi aussi")
    with pytest.raises(NotFound):  # an answer of another item
        await board.reply_to_answer(db, item, owner, answer_id + 1000, content="Merci")
    with pytest.raises(Invalid):
        await board.reply_to_answer(db, item, owner, answer_id, content="  ")

    assert await snapshot(db) == before
