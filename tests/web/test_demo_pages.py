"""What `entraide demo` makes, as a visitor sees it: every page and feed it lists answers, the
full event shows its waiting list, and no members-only text reaches a public page or feed."""

from __future__ import annotations

import html

from entraide.demo import run_demo
from server.config import Config
from server.db import Pool
from tests.web.visitor import Visitor


async def test_demo_pages_answer_and_keep_private_texts_private(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    report = await run_demo(db, web_config)
    urls = [item["url"] for key in ("accounts", "groups", "posts", "events", "calendars")
            for item in report[key]]  # fmt: skip
    urls += [f"{web_config.base_url}{p}" for p in ("/", "/events", "/events.ics")]
    urls += [e["ics"] for e in report["events"]]
    urls += [u for s in report["safe_spaces"] for u in (s["url"], s["anonymous_post"])]
    seen = []
    for url in urls:
        path = url.removeprefix(web_config.base_url)
        for accept in ("text/html", "application/activity+json"):
            response = await visitor.get(path, headers={"accept": accept})
            # Members-only objects: 403 on pages, 404 to ActivityPub (as if absent).
            assert response.status_code in (200, 403, 404), (path, response.status_code)
            seen.append(response.status_code)
            for text in report["never_public"]:
                assert text not in response.text and html.escape(text) not in response.text
    assert seen.count(200) > len(urls)
    async with db.acquire() as conn:
        payloads = await conn.fetch("SELECT payload::text AS p FROM jobs")
        meal = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE p.state = 'going') AS going,"
            " count(*) FILTER (WHERE p.state = 'waiting') AS waiting, e.capacity"
            " FROM events e JOIN event_participants p ON p.event_id = e.id"
            " WHERE e.title = 'Repas partagé du jeudi' GROUP BY e.capacity"
        )
    assert all(t not in row["p"] for row in payloads for t in report["never_public"])
    assert (meal["going"], meal["waiting"], meal["capacity"]) == (2, 1, 2)
    french = await visitor.get("/events", headers={"accept-language": "fr"})
    assert "2 / 2 places prises" in french.text and "1 en liste d&#39;attente" in french.text
