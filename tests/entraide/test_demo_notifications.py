"""`entraide demo`'s notifications: the organizer signs in to likes grouped, a reply, a mention."""

from __future__ import annotations

from entraide.demo import run_demo
from server.config import Config
from server.db import Pool
from server.services import notifications
from server.services.accounts import get_account_by_username


async def test_demo_leaves_the_organizer_notifications_to_read(db: Pool, config: Config) -> None:
    report = await run_demo(db, config)

    (entry,) = report["notifications"]
    organizer = await get_account_by_username(db, entry["for"])
    texts = [n.text for n in await notifications.list_notifications(db, organizer, "fr")]
    assert "3 personnes ont aimé votre publication" in texts
    assert any("a répondu à votre publication" in t for t in texts)
    assert any("vous a mentionné·e" in t for t in texts)
    assert await notifications.count_unread(db, organizer) >= 3
