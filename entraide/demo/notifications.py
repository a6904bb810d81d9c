"""The demo's notifications: the organizer finds likes (grouped), a reply and a mention waiting."""

from __future__ import annotations

from entraide.demo import Demo
from server.services import posts


async def add_notifications(demo: Demo) -> None:
    """Have the members answer a post of the organizer, so that the header counts them."""
    organizer = demo.people["organizer"]
    members = [demo.people[f"member{n}"] for n in range(2, 5) if f"member{n}" in demo.people]
    quartier = demo.groups["quartier"]
    post = await posts.create_post(
        demo.db, demo.config, quartier, organizer,
        content="Merci à toutes celles et ceux venus trier les dons hier soir !",
    )  # fmt: skip
    for member in members:
        await posts.toggle_like(demo.db, demo.config, post, member)
    if members:
        await posts.create_post(
            demo.db, demo.config, quartier, members[0],
            content=f"Avec plaisir ! @{organizer.username}, on recommence jeudi ?",
            in_reply_to_id=post.id,
        )  # fmt: skip
    demo.add("notifications", {"url": demo.url("/notifications"), "for": organizer.username})
