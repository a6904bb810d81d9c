"""Following people and groups on other servers, and reading what they post."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.errors import Invalid
from server.services import follows, goals, groups, mobilizations, petitions, posts, resources
from web.forms import field, form_values, parse_id, require_account
from web.pages.groups import group_page
from web.render import redirect, render
from web.security import safe_next

# A host name, with an optional port: no scheme, no path, nothing to inject in a redirect.
# fullmatch and [0-9]: "$" lets a final newline through, and \d takes any script's digits.
HOST_RE = re.compile(r"[a-z0-9.-]{1,253}(:[0-9]{1,5})?")


async def following_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    feed = await posts.list_feed(db, account)
    context = {
        "following": await follows.list_following(db, account),
        "rules": await follows.list_rules_received(db, account),
        "feed": feed,
        "liked": await posts.list_liked(db, account, feed),
        "failed": await follows.list_failed_lookups(db, account),
        "petitions": await petitions.list_followed_petitions(db, account),
        "mobilizations": await mobilizations.list_followed_mobilizations(db, account),
        "library": await resources.list_followed_resources(db, account),
        "goals": await goals.list_followed_goals(db, account),
        "form": form or {},
        "errors": errors or {},
        "queued": request.query_params.get("queued") == "1",
    }
    return render(request, "following.html", context, status=422 if errors else 200)


async def follow(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        await follows.request_follow(request.app.state.db, account, field(form, "handle"))
    except Invalid as exc:
        return await following_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, "/following?queued=1")


async def unfollow(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    target_id = parse_id(request.path_params["actor_id"])
    await follows.unfollow(request.app.state.db, account, target_id)
    return redirect(request, "/following")


async def remote_follow(request: Request, form: FormData) -> Response:
    """Send a visitor to their own server to follow the group (Mastodon's interaction URL)."""
    group = await groups.get_group_by_slug(request.app.state.db, request.path_params["slug"])
    instance = field(form, "instance").strip().lower()
    instance = instance.removeprefix("https://").rstrip("/").split("@")[-1]
    if not HOST_RE.fullmatch(instance) or "." not in instance:
        message = "Type the address of your server, such as mastodon.social."
        return await group_page(request, form=form_values(form), errors={"instance": message})
    config = request.app.state.config
    uri = f"{config.base_url}/groups/{group.slug}"
    target = f"https://{instance}/authorize_interaction?uri={quote(uri, safe='')}"
    return RedirectResponse(target, status_code=303)


async def decide_follow(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    follower_id = parse_id(request.path_params["actor_id"])
    accept = field(form, "decision") == "accept"
    await follows.decide_follow(db, group, account, follower_id, accept=accept)
    return redirect(request, f"/groups/{group.slug}/members")


async def like(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    post = await posts.get_post_to_like(db, parse_id(request.path_params["post_id"]), account)
    await posts.toggle_like(db, request.app.state.config, post, account)
    # Back where the button was (the group's page, a thread, a profile), at the post.
    back = safe_next(form.get("next")) if form.get("next") else None
    if back is None:
        back = f"/posts/{post.id}" if post.group_id is not None else "/following"
    return redirect(request, back.split("#")[0] + f"#post-{post.id}")
