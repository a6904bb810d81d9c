"""iCalendar: each event's .ics and the group and instance feeds, parsed back with `icalendar`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from server.config import Config
from server.db import Pool
from server.services import events
from tests.factories import event_form, make_account, make_event, make_group
from tests.web.visitor import Visitor


async def calendar(visitor: Visitor, path: str) -> Calendar:
    response = await visitor.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def only_event(cal: Calendar) -> object:
    [event] = cal.walk("VEVENT")
    return event


async def test_event_ics_has_its_zone_a_stable_uid_and_a_rising_sequence(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    event = await make_event(db, group, owner, latitude="45.76", longitude="4.83")

    first = only_event(await calendar(visitor, f"/events/{event.id}/event.ics"))
    start = first.decoded("dtstart")  # type: ignore[attr-defined]
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Paris"
    assert (start.hour, start.minute) == (19, 0)
    assert first["summary"] == "Repas partagé"  # type: ignore[index]
    assert str(first["url"]) == f"{web_config.base_url}/events/{event.id}"  # type: ignore[index]
    assert first.decoded("geo") is not None  # type: ignore[attr-defined]
    await events.update_event(db, event, owner, event_form(title="Repas partagé (salle B)"))
    await events.cancel_event(db, event, owner)

    cal = await calendar(visitor, f"/events/{event.id}/event.ics")
    second = only_event(cal)
    assert second["uid"] == first["uid"]  # type: ignore[index]
    assert int(second["sequence"]) == int(first["sequence"]) + 2  # type: ignore[index]
    assert second["status"] == "CANCELLED"  # type: ignore[index]
    [zone] = cal.walk("VTIMEZONE")
    assert zone["tzid"] == "Europe/Paris"


async def test_event_across_a_daylight_saving_change_keeps_its_wall_clock_times(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    # Europe/Paris springs forward at 02:00 on 28 March 2027: the night is an hour shorter.
    event = await make_event(
        db, group, owner, start_date="2027-03-27", start_time="20:00",
        end_date="2027-03-28", end_time="10:00",
    )  # fmt: skip

    cal = await calendar(visitor, f"/events/{event.id}/event.ics")

    item = only_event(cal)
    start, end = item.decoded("dtstart"), item.decoded("dtend")  # type: ignore[attr-defined]
    paris = ZoneInfo("Europe/Paris")
    assert start == datetime(2027, 3, 27, 20, 0, tzinfo=paris)
    assert end == datetime(2027, 3, 28, 10, 0, tzinfo=paris)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=13)  # one hour less
    offsets = {str(c["tzoffsetto"].to_ical()) for c in cal.walk() if c.name == "DAYLIGHT"}
    assert any("0200" in o for o in offsets), offsets
    assert b"DTSTART;TZID=Europe/Paris:20270327T200000" in cal.to_ical()


async def test_all_day_event_is_dates_and_utc_event_is_utc(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    day = date.today() + timedelta(days=30)
    all_day = await make_event(
        db, group, owner, all_day=True, start_date=day.isoformat(),
        end_date=(day + timedelta(days=1)).isoformat(), start_time="", end_time="",
    )  # fmt: skip
    in_utc = await make_event(db, group, owner, timezone="UTC")

    item = only_event(await calendar(visitor, f"/events/{all_day.id}/event.ics"))
    assert item.decoded("dtstart") == day  # type: ignore[attr-defined]
    assert item.decoded("dtend") == day + timedelta(days=2)  # type: ignore[attr-defined]
    raw = (await visitor.get(f"/events/{all_day.id}/event.ics")).text
    assert f"DTSTART;VALUE=DATE:{day:%Y%m%d}" in raw
    raw = (await visitor.get(f"/events/{in_utc.id}/event.ics")).text
    assert "VTIMEZONE" not in raw
    assert "DTSTART:" in raw and "T190000Z" in raw


async def test_group_feed_lists_its_public_events_and_pages_announce_it(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    secret = await make_group(db, web_config, owner, "cercle", visibility="members")
    for title in ("Repas", "Atelier", "Assemblée"):
        await make_event(db, group, owner, title=title)
    await make_event(db, group, owner, title="Entre nous", visibility="members")
    await make_event(db, secret, owner, title="Cercle")

    cal = await calendar(visitor, "/groups/voisins/calendar.ics")

    assert sorted(str(e["summary"]) for e in cal.walk("VEVENT")) == [
        "Assemblée", "Atelier", "Repas",
    ]  # fmt: skip
    assert cal["x-wr-calname"] == "Voisins"
    assert (await visitor.get("/groups/cercle/calendar.ics")).status_code == 403
    public = await calendar(visitor, "/events.ics")
    assert "Cercle" not in [str(e["summary"]) for e in public.walk("VEVENT")]
    for path in ("/groups/voisins", "/groups/voisins/events"):
        page = await visitor.page(path)
        # One calendar among the alternates (the group page also announces its Atom feed).
        link = page.one("link", rel="alternate", type="text/calendar")
        assert link.attrs["href"] == "/groups/voisins/calendar.ics"


async def test_group_feed_shows_each_change_at_once(
    visitor: Visitor, db: Pool, web_config: Config
) -> None:
    owner = await make_account(db, web_config, "alice")
    group = await make_group(db, web_config, owner, "voisins")
    first = await make_event(db, group, owner, title="Repas")
    second = await make_event(db, group, owner, title="Atelier")
    await calendar(visitor, "/groups/voisins/calendar.ics")  # rendered and kept

    await events.update_event(db, first, owner, event_form(title="Repas (salle B)"))
    await events.delete_event(db, second, owner)
    cal = await calendar(visitor, "/groups/voisins/calendar.ics")

    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["Repas (salle B)"]
    await events.cancel_event(db, first, owner)
    cal = await calendar(visitor, "/groups/voisins/calendar.ics")
    assert [str(e["status"]) for e in cal.walk("VEVENT")] == ["CANCELLED"]
