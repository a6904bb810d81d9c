"""The demo's mutual support: needs and offers on the neighbourhood board (one fulfilled, with
its helper named), a library with a link and a document pinned by the organizer, someone
available to listen now and every week in the caregivers' circle, and a goal shared there with
its follow-ups and encouragement (members only)."""

from __future__ import annotations

from datetime import date, timedelta

from entraide.demo import Demo
from server.services import availability, board, goals, resources


def _until(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


# (author, kind, category, title, details, area, days valid, answers)
ITEMS = [
    ("member2", "need", "transport", "Un trajet jusqu'à l'hôpital Édouard-Herriot mardi",
     "Rendez-vous à 9 h, retour vers midi. Je ne peux pas prendre les transports en ce moment.",
     "Croix-Rousse", 5, "private"),
    ("member3", "offer", "transport", "Voiture libre les mardis et jeudis matin",
     "Je peux conduire quelqu'un à un rendez-vous, dans Lyon.", "", 30, "public"),
    ("member4", "offer", "food", "Paniers de légumes en trop le samedi",
     "Notre AMAP a souvent deux ou trois paniers en plus : passez les prendre.",
     "Croix-Rousse", 20, "public"),
    ("organizer", "need", "goods", "Une poussette pour une famille arrivée cette semaine",
     "Une poussette légère, même usée.", "Croix-Rousse", 14, "private"),
    ("member1", "offer", "listening", "Une heure d'écoute au téléphone",
     "Ancienne bénévole d'écoute : je suis là si vous avez besoin de parler.", "", 60, "private"),
]  # fmt: skip


async def add_mutual_support(demo: Demo) -> None:
    """Post the needs and offers, fulfil one with its helper's consent, make someone
    available now and every Thursday evening."""
    quartier, cercle = demo.groups["quartier"], demo.groups["cercle"]
    made = []
    for author, kind, category, title, details, area, days, answers in ITEMS:
        item = await board.create_item(
            demo.db, demo.config, quartier, demo.people[author], kind=kind, category=category,
            title=title, details=details, area=area, valid_until=_until(days), answers=answers,
        )  # fmt: skip
        made.append(item)
    stroller = made[3]
    helper = demo.people["member4"]
    await board.answer_item(
        demo.db, stroller, helper, content="J'en ai une dans ma cave, je la dépose demain.",
        public=False, may_name=True,
    )  # fmt: skip
    stroller = await board.close_item(
        demo.db, stroller, demo.people["organizer"], state="fulfilled", helper_id=helper.id
    )
    for item in made:
        demo.add(
            "board",
            {"title": item.title, "kind": item.kind, "state": item.state if item is not made[3]
             else stroller.state, "url": demo.url(f"/board/{item.id}")},
        )  # fmt: skip
    await _add_library(demo)
    listener = demo.people["member1"]
    await availability.set_available_now(
        demo.db, cercle, listener, minutes="120",
        note=demo.private("Disponible pour écouter, au téléphone ou au café de la place"),
    )  # fmt: skip
    await availability.add_weekly_window(
        demo.db, cercle, demo.people["member2"], weekday="3", start="18:30", end="20:30",
        note=demo.private("Le jeudi soir après le groupe de parole, pour un thé"),
    )  # fmt: skip
    demo.add(
        "availability",
        {"name": listener.display_name or listener.username,
         "url": demo.url(f"/groups/{cercle.slug}/availability")},
    )  # fmt: skip
    walker = demo.people["member3"]
    goal = await goals.share_goal(
        demo.db, cercle, walker, title=demo.private("Reprendre la marche après l'opération"),
        body=demo.private("Mon kiné conseille vingt minutes par jour. Je vous tiens au courant."),
    )  # fmt: skip
    await goals.add_update(
        demo.db, goal, walker, content=demo.private("Dix minutes autour du square, trois jours.")
    )
    await goals.add_update(
        demo.db, goal, demo.people["organizer"],
        content=demo.private("Bravo ! On peut marcher ensemble jeudi si tu veux."),
    )  # fmt: skip
    await goals.add_update(
        demo.db, goal, walker, content=demo.private("Vingt minutes aujourd'hui, sans douleur.")
    )
    await goals.like(demo.db, goal, demo.people["member4"], liked=True)
    followups = [u for u in await goals.list_timeline(demo.db, goal) if u.kind == "followup"]
    demo.add(
        "goals",
        {"title": goal.title, "visibility": goal.visibility, "followups": len(followups),
         "url": demo.url(f"/goals/{goal.id}")},
    )  # fmt: skip


GUIDE = """Accueillir une famille qui arrive dans le quartier

1. Se présenter, laisser un numéro de téléphone.
2. Demander ce qui manque en premier : un lit, une poussette, des vêtements chauds.
3. Poster le besoin sur le tableau du groupe, avec le secteur.
4. Proposer un accompagnement pour les premières démarches (CAF, école, PMI).
"""


async def _add_library(demo: Demo) -> None:
    """Add a link and a document to the neighbourhood library; the organizer pins both."""
    quartier, organizer = demo.groups["quartier"], demo.people["organizer"]
    link = await resources.add_resource(
        demo.db, demo.config, quartier, demo.people["member3"],
        title="Carte des distributions alimentaires de Lyon",
        description="Les lieux, les jours et les horaires, tenus à jour par les associations.",
        tags="alimentation, lyon", link="https://www.lyon.fr/solidarite",
    )  # fmt: skip
    document = await resources.add_resource(
        demo.db, demo.config, quartier, organizer,
        title="Accueillir une famille qui arrive",
        description="Notre fiche pratique, en quatre étapes.", tags="accueil",
        document=(GUIDE.encode(), "accueillir-une-famille.txt"),
    )  # fmt: skip
    for resource in (link, document):
        await resources.set_pinned(demo.db, resource, organizer, pinned=True)
        demo.add(
            "library",
            {"title": resource.title, "pinned": True, "document": resource.link is None,
             "url": demo.url(f"/library/{resource.id}")},
        )  # fmt: skip
