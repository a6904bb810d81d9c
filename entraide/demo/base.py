"""The demo's base: a neighbourhood collective, its members, three groups and their posts."""

from __future__ import annotations

from entraide.demo import Demo
from server.errors import Invalid
from server.models import Account
from server.services import accounts, groups, posts
from server.storage import accounts as account_store

PEOPLE = (
    # role, username, display name, who they are
    ("organizer", "camille", "Camille Martin", "Coordinatrice bénévole de l'épicerie solidaire."),
    ("member", "yanis", "Yanis Benali", "Je répare des vélos le samedi."),
    ("member", "fatou", "Fatou Diallo", "Aidante de ma mère, je cherche du répit."),
    ("member", "lucie", "Lucie Bernard", "Locataire, membre du collectif logement."),
    ("member", "marc", "Marc Lefèvre", "Retraité, chauffeur pour les courses solidaires."),
)
GROUPS = (
    # role, slug, name, description, visibility, join policy
    ("quartier", "entraide_croixrousse", "Entraide Croix-Rousse",
     "Offres et besoins du quartier : courses, bricolage, covoiturage, repas partagés.",
     "public", "open"),
    ("cercle", "cercle_aidants", "Cercle de parole des aidant·es",
     "Un espace protégé pour les personnes qui accompagnent un proche malade.",
     "members", "approval"),
    ("logement", "logement_digne", "Collectif logement digne",
     "Locataires mobilisé·es contre l'habitat indigne et les expulsions.",
     "public", "open"),
)  # fmt: skip
# What each group offers, for the directory's filters.
GROUP_PROFILES = {
    "quartier": ["material", "social"],
    "cercle": ["emotional", "companionship"],
    "logement": ["advocacy", "information"],
}
POSTS = (
    ("quartier", "organizer", "Bonjour à toutes et à tous ! L'épicerie solidaire cherche deux "
     "bénévoles pour la distribution de jeudi, de 17 h à 19 h. #solidarité"),
    ("quartier", "member", "Je propose un covoiturage vers le marché de gros samedi matin, "
     "trois places libres."),
    ("logement", "member", "Réunion d'information sur les charges abusives : venez avec vos "
     "quittances, on les épluche ensemble."),
)  # fmt: skip
# Members-only words: they must never reach a page or a peer outside the group.
PRIVATE_POSTS = (
    "Cette semaine a été très dure avec ma mère, merci d'avoir été là mardi.",
    "Je peux garder ton papa jeudi après-midi si tu veux souffler un peu.",
)


async def free_name(demo: Demo, base: str) -> str:
    """Return `base`, or `base2`, `base3`... whichever no account or group holds yet."""
    async with demo.db.acquire() as conn:
        for n in range(1, 10_000):
            name = base if n == 1 else f"{base[:27]}{n}"
            if not await account_store.name_taken(conn, name):
                return name
    raise Invalid({"username": "This name is already taken."})


async def add_base(demo: Demo) -> None:
    """Create the people, the groups (one members-only) and their first posts.

    `demo.people` holds the organizer under "organizer", everyone under "member1"... too.
    """
    members: list[Account] = []
    for role, username, display_name, summary in PEOPLE:
        name = await free_name(demo, username)
        account = await accounts.register_account(
            demo.db, demo.config, username=name, email=f"{name}@demo.invalid",
            password=demo.password, by_operator=True,
        )  # fmt: skip
        account = await accounts.update_profile(
            demo.db, account, display_name=display_name, summary=summary,
            language="fr", timezone="Europe/Paris",
        )  # fmt: skip
        demo.people.setdefault(role, account)
        demo.people[f"member{len(members) + 1}"] = account
        members.append(account)
        demo.add("accounts", {"username": name, "url": demo.url(f"/users/{name}")})
    organizer = demo.people["organizer"]
    for role, slug, name, description, visibility, join_policy in GROUPS:
        group = await groups.create_group(
            demo.db, demo.config, organizer, slug=await free_name(demo, slug), name=name,
            description=description, visibility=visibility, join_policy="open",
            topics=GROUP_PROFILES[role], place="Lyon, Croix-Rousse", language="fr",
        )  # fmt: skip
        for member in members[1:]:
            await groups.join_group(demo.db, group, member)
        if join_policy != "open":
            group = await groups.update_group(
                demo.db, organizer, group, name=name, description=description,
                visibility=visibility, join_policy=join_policy,
            )  # fmt: skip
        demo.groups[role] = group
        demo.add(
            "groups",
            {"slug": group.slug, "name": name, "visibility": visibility,
             "url": demo.url(f"/groups/{group.slug}")},
        )  # fmt: skip
    for group_role, author_role, text in POSTS:
        author = organizer if author_role == "organizer" else members[len(text) % 4 + 1]
        post = await posts.create_post(
            demo.db, demo.config, demo.groups[group_role], author, content=text
        )
        demo.add("posts", {"url": demo.url(f"/posts/{post.id}")})
    cercle = demo.groups["cercle"]
    first = await posts.create_post(
        demo.db, demo.config, cercle, members[2], content=demo.private(PRIVATE_POSTS[0])
    )
    await posts.create_post(
        demo.db, demo.config, cercle, organizer, content=demo.private(PRIVATE_POSTS[1]),
        in_reply_to_id=first.id,
    )  # fmt: skip
    demo.add("posts", {"url": demo.url(f"/posts/{first.id}")})
