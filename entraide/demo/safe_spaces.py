"""The demo's safe space: a members-only support group with rules, posts and an anonymous post."""

from __future__ import annotations

from entraide.demo import Demo
from entraide.demo.base import free_name
from server.services import anonymous, groups, moderation, posts

RULES = (
    "Ce qui est dit ici reste ici. On écoute sans juger, on ne donne pas de conseil qu\u2019on ne "
    "nous a pas demandé, on prend soin de soi et des autres."
)
POSTS = (
    ("member3", "Premier mardi sans pleurer depuis le diagnostic. Merci pour vos messages."),
    ("organizer", "Prochaine rencontre jeudi à 18 h 30, salle du fond, tisane et biscuits."),
    ("member4", "Je n\u2019ose pas en parler au travail : comment avez-vous fait, vous ?"),
)
# Typographic apostrophes (\u2019), which no page escapes: a leak is found as typed.
ANONYMOUS = (
    "Je n\u2019ai jamais dit à personne que mon frère boit depuis des années. "
    "Écrire ici me soulage."
)


async def add_safe_spaces(demo: Demo) -> None:
    """Create a members-only support group whose texts are all listed under `never_public`."""
    organizer = demo.people["organizer"]
    group = await groups.create_group(
        demo.db, demo.config, organizer, slug=await free_name(demo, "groupe_de_parole"),
        name="Groupe de parole", visibility="members", join_policy="open",
        description="Un espace protégé pour se dire les choses difficiles, entre membres.",
    )  # fmt: skip
    group = await groups.update_group(
        demo.db, organizer, group, name=group.name, description=group.description,
        visibility="members", join_policy="open", rules=RULES,
    )  # fmt: skip
    for role in ("member1", "member2", "member3", "member4"):
        person = demo.people.get(role)
        if person is not None and person.id != organizer.id:
            await groups.join_group(demo.db, group, person, accepted_rules=True)
    group = await groups.update_group(
        demo.db, organizer, group, name=group.name, description=group.description,
        visibility="members", join_policy="approval",
    )  # fmt: skip
    made = []
    for role, text in POSTS:
        author = demo.people.get(role, organizer)
        post = await posts.create_post(
            demo.db, demo.config, group, author, content=demo.private(text)
        )
        made.append(post.id)
    await anonymous.set_anonymous_posts(demo.db, group, organizer, "on")
    writer = demo.people.get("member2", organizer)
    anonymous_id = await anonymous.post_anonymously(
        demo.db, demo.config, group, writer, content=demo.private(ANONYMOUS)
    )
    # The group's own log starts with a report, as a moderator would find it.
    await moderation.report(
        demo.db, demo.people.get("member1", organizer), post_id=made[-1],
        reason=demo.private("Message à relire ensemble, il me semble très douloureux."),
    )  # fmt: skip
    demo.add(
        "safe_spaces",
        {"slug": group.slug, "url": demo.url(f"/groups/{group.slug}"),
         "moderation": demo.url(f"/groups/{group.slug}/moderation"),
         "anonymous_post": demo.url(f"/posts/{anonymous_id}")},
    )  # fmt: skip
