"""Events between two live instances: A's group publishes, B's members take part from afar.

Each step acts through the web pages and checks both databases: the event reaches B, a person
of B joins and gets A's Accept, the counts travel back by Update, the waiting list works across
instances, and the cancellation reaches B.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from tests.federation.instances import LiveInstance, wait_until
from tests.federation.test_live import browser, followed_group, pair, unique

__all__ = ["pair"]  # the two instances, started once for this module

NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()


def create_event(a: LiveInstance, owner: Any, slug: str, title: str, capacity: str) -> int:
    form = {
        "title": title, "description": "On partage un repas.", "start_date": NEXT_WEEK,
        "start_time": "19:00", "end_date": NEXT_WEEK, "end_time": "22:00",
        "timezone": "Europe/Paris", "place_name": "Salle des fêtes", "locality": "Lyon",
        "capacity": capacity, "join_mode": "free", "category": "FOOD_DRINK",
        "status": "confirmed", "visibility": "public",
    }  # fmt: skip
    response = owner.post_form(f"/groups/{slug}/events", form, page=f"/groups/{slug}/events/new")
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def copy_on_b(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql(
        "SELECT id, title, status, capacity, remote_participant_count, starts_at, timezone"
        " FROM events WHERE uri = $1",
        uri,
    )
    return rows[0] if rows else None


def states(instance: LiveInstance, event_id: int) -> dict[str, str]:
    rows = instance.sql(
        "SELECT a.name, p.state FROM event_participants p JOIN actors a ON a.id = p.actor_id"
        " WHERE p.event_id = $1",
        event_id,
    )
    return {r["name"]: r["state"] for r in rows}


def test_event_federates_and_remote_people_join_wait_and_move_up(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    event_id = create_event(a, group.owner, group.slug, "Repas solidaire", capacity="1")
    uri = f"{a.base_url}/events/{event_id}"

    # The event reaches B as an event, with its date, zone and capacity.
    copy = wait_until(lambda: copy_on_b(b, uri))
    assert copy["title"] == "Repas solidaire" and copy["timezone"] == "Europe/Paris"
    assert copy["capacity"] == 1
    [create] = a.sql("SELECT payload FROM outbox_activities WHERE uri = $1", f"{uri}/activity")
    document = json.loads(create["payload"])["object"]
    assert document["type"] == "Event" and document["startTime"].endswith("+01:00")
    assert "Lyon" in document["summary"] and document["joinMode"] == "free"
    on_b = int(copy["id"])
    assert "Repas solidaire" in group.follower.get("/agenda").text

    # B's member joins from B's page: A gives the place and Accepts.
    response = group.follower.post_form(f"/events/{on_b}/join", {}, page=f"/events/{on_b}")
    assert response.status_code == 303
    wait_until(lambda: states(a, event_id).get(group.follower_name) == "going")
    wait_until(lambda: states(b, on_b).get(group.follower_name) == "going")
    # The count travels back by Update (batched a few seconds).
    wait_until(lambda: (copy_on_b(b, uri) or {}).get("remote_participant_count") == 1)
    assert "1 / 1 places taken" in group.follower.get(f"/events/{on_b}").text

    # A second person of B finds it full: waiting list on A, no Accept, pending on B.
    second_name = unique("carla")
    b.create_user(second_name)
    second = browser(b, second_name)
    response = second.post_form(f"/events/{on_b}/join", {}, page=f"/events/{on_b}")
    assert response.status_code == 303
    wait_until(lambda: states(a, event_id).get(second_name) == "waiting")
    assert states(b, on_b)[second_name] == "pending"

    # The first leaves (Leave, as Mobilizon reads it): the second moves up and is Accepted.
    response = group.follower.post_form(f"/events/{on_b}/leave", {}, page=f"/events/{on_b}")
    assert response.status_code == 303
    wait_until(lambda: states(a, event_id) == {second_name: "going"})
    wait_until(lambda: states(b, on_b).get(second_name) == "going")
    [leave] = b.sql("SELECT payload FROM outbox_activities WHERE type = 'Leave'")
    assert json.loads(leave["payload"])["object"] == uri

    # The organizer cancels: the Update reaches B.
    response = group.owner.post_form(f"/events/{event_id}/cancel", {}, page=f"/events/{event_id}")
    assert response.status_code == 303
    wait_until(lambda: (copy_on_b(b, uri) or {}).get("status") == "cancelled")
    assert "This event is cancelled." in second.get(f"/events/{on_b}").text


def test_deleted_event_answers_410_and_is_deleted_on_b(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    event_id = create_event(a, group.owner, group.slug, "Atelier couture", capacity="")
    uri = f"{a.base_url}/events/{event_id}"
    wait_until(lambda: copy_on_b(b, uri))

    response = group.owner.post_form(f"/events/{event_id}/delete", {}, page=f"/events/{event_id}")

    assert response.status_code == 303
    assert a.ap_get(uri).status_code == 410
    wait_until(lambda: b.sql("SELECT deleted_at FROM events WHERE uri = $1", uri)[0]["deleted_at"])
