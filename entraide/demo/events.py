"""The demo's events: meals, workshops and a demonstration, to come and past, one full with a
waiting list, one cancelled, one for the members of the caregivers' circle only."""

from __future__ import annotations

from datetime import date, timedelta

from entraide.demo import Demo
from server.services import events, participation
from server.services.events import EventForm


def _day(days_from_today: int) -> str:
    return (date.today() + timedelta(days=days_from_today)).isoformat()


def _form(title: str, description: str, days: int, start: str, end: str, **kw: object) -> EventForm:
    return EventForm(
        title=title, description=description, start_date=_day(days), start_time=start,
        end_date=_day(days), end_time=end, timezone="Europe/Paris", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


HALL = {"place_name": "Maison des associations", "street_address": "28 rue Denfert-Rochereau",
        "postal_code": "69004", "locality": "Lyon", "country": "France",
        "latitude": "45.7772", "longitude": "4.8276"}  # fmt: skip


async def add_events(demo: Demo) -> None:
    """Create the events, fill the small one to its capacity of 2 and put someone on its
    waiting list."""
    organizer = demo.people["organizer"]
    quartier, logement = demo.groups["quartier"], demo.groups["logement"]
    cercle = demo.groups["cercle"]
    made = []
    meal = await events.create_event(
        demo.db, quartier, organizer,
        _form("Repas partagé du jeudi", "Chacun apporte un plat, on mange ensemble. Deux places "
              "à table ce soir-là : inscrivez-vous !", 3, "19:00", "21:30", capacity="2",
              category="FOOD_DRINK", question="Une allergie à signaler ?", **HALL),
    )  # fmt: skip
    for n in (2, 3, 4):  # two places, then the waiting list
        await participation.join_event(demo.db, demo.config, meal, demo.people[f"member{n}"])
    made.append(meal)
    made.append(await events.create_event(
        demo.db, quartier, organizer,
        _form("Atelier réparation de vélos", "Outils et conseils, venez avec votre vélo.", 10,
              "14:00", "17:30", category="COMMUNITY", **HALL),
    ))  # fmt: skip
    made.append(await events.create_event(
        demo.db, quartier, organizer,
        EventForm(title="Braderie solidaire", description="Toute la journée, au profit de "
                  "l'épicerie solidaire.", start_date=_day(24), end_date=_day(25), all_day=True,
                  timezone="Europe/Paris", category="COMMUNITY", **HALL),  # type: ignore[arg-type]
    ))  # fmt: skip
    made.append(await events.create_event(
        demo.db, quartier, organizer,
        _form("Assemblée de quartier", "Bilan de l'année et projets.", -20, "18:30", "20:30",
              category="MEETING", **HALL),
    ))  # fmt: skip
    picnic = await events.create_event(
        demo.db, quartier, organizer,
        _form("Pique-nique au parc de la Cerisaie", "Annulé pour cause de pluie.", 6, "12:00",
              "15:00", category="PARTY", place_name="Parc de la Cerisaie", locality="Lyon"),
    )  # fmt: skip
    made.append(await events.cancel_event(demo.db, picnic, organizer))
    made.append(await events.create_event(
        demo.db, logement, organizer,
        _form("Rassemblement devant la mairie", "Contre l'expulsion de la famille K. Venez "
              "nombreux·ses.", 5, "18:00", "19:30", category="MOVEMENTS_POLITICS",
              place_name="Hôtel de ville", street_address="1 place de la Comédie",
              postal_code="69001", locality="Lyon", country="France"),
    ))  # fmt: skip
    made.append(await events.create_event(
        demo.db, logement, organizer,
        _form("Permanence en ligne : vos droits de locataire", "Questions et réponses en visio.",
              8, "20:00", "21:00", category="LEARNING",
              online_url="https://visio.example.org/logement"),
    ))  # fmt: skip
    made.append(await events.create_event(
        demo.db, cercle, organizer,
        _form(demo.private("Cercle de parole : l'épuisement des aidant·es"),
              demo.private("On se retrouve chez Fatou, au calme."), 12, "18:00", "20:00",
              category="HEALTH"),
    ))  # fmt: skip
    for event in made:
        demo.add(
            "events",
            {"title": event.title, "url": demo.url(f"/events/{event.id}"),
             "ics": demo.url(f"/events/{event.id}/event.ics"), "status": event.status},
        )  # fmt: skip
    for group in (quartier, logement):
        demo.add(
            "calendars",
            {"name": group.name, "url": demo.url(f"/groups/{group.slug}/calendar.ics")},
        )
