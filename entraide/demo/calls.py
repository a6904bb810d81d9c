"""The demo's calls to action: an open petition with a few signatures and a mobilization.

Interface, for the `entraide demo` command that runs the sections in order:

    urls = await add_calls(db, config, group="cantine", organizer="amina",
                           signers=["lucas", "chloe"], ally_group="voisins",
                           ally_organizer="marc")

- `db` is the instance's pool, `config` its configuration; the group, its organizer (an owner
  or moderator), the signers and the optional ally (a public group of this instance with its
  organizer) already exist.
- It adds an open petition with a goal, signed publicly by each of `signers` and privately by
  one person it creates for this (a signer who chose not to be named), a petition already won
  (its status history), an alliance with `ally_group` when given, and an urgent mobilization,
  which the ally relays.
- It returns `{"urls": {name: absolute URL}, "never_public": [texts]}`: `never_public` holds
  the private signer's name, which no public page may show (only the organizers'
  CSV export lists them).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from entraide.demo import Demo
from entraide.demo.base import free_name
from server.config import Config
from server.db import Pool
from server.services import accounts, groups, mobilizations, petitions

PRIVATE_SIGNER = ("smarchetti", "Solène Marchetti")


async def add_calls(
    db: Pool,
    config: Config,
    *,
    group: str,
    organizer: str,
    signers: list[str],
    ally_group: str | None = None,
    ally_organizer: str | None = None,
    private_signer: str = PRIVATE_SIGNER[0],
) -> dict[str, Any]:
    """Add the demo's petitions, alliance and mobilization; return their URLs.

    `private_signer` is the username given to the signer who stays unnamed (a free one).
    """
    base = config.base_url
    the_group = await groups.get_group_by_slug(db, group)
    lead = await accounts.get_account_by_username(db, organizer)
    in_a_month = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT18:00")
    petition = await petitions.create_petition(
        db,
        config,
        the_group,
        lead,
        title="Un local chauffé pour la halte de nuit",
        body=(
            "Chaque hiver, la halte de nuit du quartier ferme faute de local. Nous demandons "
            "à la mairie de mettre à disposition la salle Jean-Moulin, inoccupée depuis deux "
            "ans, de décembre à mars, pour accueillir jusqu'à trente personnes."
        ),
        addressee="Mairie du 7e arrondissement",
        goal="250",
        deadline=in_a_month,
    )
    for username in signers:
        signer = await accounts.get_account_by_username(db, username)
        await petitions.sign(db, config, petition, signer, public=True)
    username, name = private_signer, PRIVATE_SIGNER[1]
    discreet = await accounts.register_account(
        db, config, username=username, email=f"{username}@example.org",
        password=secrets.token_urlsafe(24), by_operator=True,
    )  # fmt: skip
    discreet = await accounts.update_profile(
        db, discreet, display_name=name, summary="", language="fr", timezone="Europe/Paris"
    )
    await petitions.sign(db, config, petition, discreet, public=False)

    won = await petitions.create_petition(
        db,
        config,
        the_group,
        lead,
        title="Des fontaines d'eau potable au square Gabriel-Péri",
        body="L'été dernier, le square n'avait aucun point d'eau. Nous en demandons deux.",
        addressee="Direction des espaces verts",
        goal="100",
    )
    won = await petitions.change_status(
        db, won, lead, status="delivered", note="Remise en main propre le 14 octobre."
    )
    await petitions.change_status(
        db, won, lead, status="won", note="Deux fontaines installées en novembre !"
    )

    urls = {
        "petition": f"{base}/petitions/{petition.id}",
        "petition_won": f"{base}/petitions/{won.id}",
    }
    if ally_group and ally_organizer:
        ally = await groups.get_group_by_slug(db, ally_group)
        ally_lead = await accounts.get_account_by_username(db, ally_organizer)
        await mobilizations.propose_alliance(db, config, the_group, lead, ally.slug)
        await mobilizations.accept_alliance(db, ally, ally_lead, the_group.id)
        urls["alliances"] = f"{base}/groups/{the_group.slug}/alliances"
    in_three_days = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT18:30")
    mobilization = await mobilizations.publish_mobilization(
        db,
        config,
        the_group,
        lead,
        what="Rassemblement pour la halte de nuit",
        place="Parvis de la mairie du 7e, place Jean-Macé",
        starts_at=in_three_days,
        why="Le conseil d'arrondissement vote ce soir-là le budget des locaux associatifs.",
        how_to_help="Venez à 18 h 30, apportez une couverture en signe de soutien.",
        urgency="high",
    )
    urls["mobilization"] = f"{base}/mobilizations/{mobilization.id}"
    return {"urls": urls, "never_public": [name]}


async def add_calls_to_demo(demo: Demo) -> None:
    """Give the demo's housing collective its calls to action, the neighbourhood as its ally."""
    organizer = demo.people["organizer"].username
    made = await add_calls(
        demo.db, demo.config, group=demo.groups["logement"].slug, organizer=organizer,
        signers=[demo.people[f"member{n}"].username for n in (2, 3, 4)],
        ally_group=demo.groups["quartier"].slug, ally_organizer=organizer,
        private_signer=await free_name(demo, PRIVATE_SIGNER[0]),
    )  # fmt: skip
    for name, url in made["urls"].items():
        demo.add("calls", {"name": name, "url": url})
    for text in made["never_public"]:
        demo.private(text)
