"""Pages of posts: write in a group, read one in its thread, edit, delete (after a confirmation)."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.models import Group
from server.services import actors, anonymous, groups, pictures, posts
from web.forms import confirmed, field, form_values, parse_id, require_account
from web.pages.groups import group_page
from web.render import current_account, redirect, render


async def create_post(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    reply_to_raw = field(form, "in_reply_to")
    reply_to = parse_id(reply_to_raw) if reply_to_raw else None
    if field(form, "anonymous") == "on" and reply_to is None:
        return await _post_anonymously(request, form, group)
    try:
        uploads = await read_pictures(form)
        post = await posts.create_post(
            db,
            request.app.state.config,
            group,
            account,
            content=field(form, "content"),
            content_warning=field(form, "content_warning"),
            in_reply_to_id=reply_to,
            uploads=uploads,
        )
    except Invalid as exc:
        if reply_to is not None:
            return await post_page(request, reply_to, form=form_values(form), errors=exc.fields)
        return await group_page(request, form=form_values(form), errors=exc.fields)
    if reply_to is not None:
        return redirect(request, f"/posts/{reply_to}#post-{post.id}")
    return redirect(request, f"/groups/{group.slug}#post-{post.id}")


async def _post_anonymously(request: Request, form: FormData, group: Group) -> Response:
    """Post in the group's name (no pictures: their files could tell who took them)."""
    account = await require_account(request)
    try:
        post_id = await anonymous.post_anonymously(
            request.app.state.db, request.app.state.config, group, account,
            content=field(form, "content"), content_warning=field(form, "content_warning"),
        )  # fmt: skip
    except Invalid as exc:
        return await group_page(request, form=form_values(form), errors=exc.fields)
    if post_id is None:
        return redirect(request, f"/groups/{group.slug}", flash="anonymous_pending")
    return redirect(request, f"/groups/{group.slug}#post-{post_id}", flash="anonymous_posted")


async def read_pictures(form: FormData) -> list[tuple[bytes, str]]:
    """Return the pictures sent (fields picture1..picture4), each with its description."""
    uploads = []
    for index in range(1, pictures.MAX_PICTURES + 1):
        upload = form.get(f"picture{index}")
        # A browser sends an empty part for a file field left alone.
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(pictures.MAX_BYTES + 1)
            if data:
                uploads.append((data, field(form, f"alt{index}")))
        elif field(form, f"alt{index}").strip():
            raise Invalid({f"picture{index}": "Choose the picture this description is for."})
    return uploads


async def group_posts_page(request: Request) -> Response:
    """Send a GET of the posting address (back after a form error) to the group's page."""
    group = await groups.get_group_by_slug(request.app.state.db, request.path_params["slug"])
    return redirect(request, f"/groups/{group.slug}")


async def post_page(
    request: Request,
    post_id: int | None = None,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    if post_id is None:
        post_id = parse_id(request.path_params["post_id"])
    thread = await posts.get_thread(db, post_id, account)
    membership = await groups.get_membership(db, thread.group, account)
    stats = None
    if membership is not None and membership.is_moderator and not thread.post.deleted:
        stats = await actors.get_post_delivery_stats(db, thread.post.id)
    shown = [thread.post, *thread.replies]
    context = {
        "stats": stats,
        "post": thread.post,
        "parent": thread.parent,
        "group": thread.group,
        "membership": membership,
        "replies": thread.replies,
        "liked": await posts.list_liked(db, account, shown),
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "post.html", context, status=422 if errors else 200)


async def edit_page(request: Request) -> Response:
    account = await require_account(request)
    post, group = await posts.get_post_to_edit(
        request.app.state.db, parse_id(request.path_params["post_id"]), account
    )
    form = {"content": post.content, "content_warning": post.content_warning}
    return render(
        request, "post_edit.html", {"post": post, "group": group, "form": form, "errors": {}}
    )


async def edit(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    post, group = await posts.get_post(db, parse_id(request.path_params["post_id"]), account)
    try:
        await posts.edit_post(
            db,
            request.app.state.config,
            post,
            account,
            content=field(form, "content"),
            content_warning=field(form, "content_warning"),
        )
    except Invalid as exc:
        context = {"post": post, "group": group, "form": form_values(form), "errors": exc.fields}
        return render(request, "post_edit.html", context, status=422)
    return redirect(request, f"/posts/{post.id}")


async def delete_page(request: Request) -> Response:
    """Ask before deleting a post."""
    account = await require_account(request)
    post, _group = await posts.get_post_to_delete(
        request.app.state.db, parse_id(request.path_params["post_id"]), account
    )
    return _confirm_delete(request, post.id, post.content_warning or post.content)


def _confirm_delete(request: Request, post_id: int, excerpt: str) -> Response:
    context = {
        "kind": "delete_post",
        "excerpt": excerpt[:200],
        "action": f"/posts/{post_id}/delete",
        "cancel": f"/posts/{post_id}",
    }
    return render(request, "confirm.html", context)


async def delete(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    post_id = parse_id(request.path_params["post_id"])
    post, group = await posts.get_post_to_delete(db, post_id, account)
    if not confirmed(form):
        return _confirm_delete(request, post.id, post.content_warning or post.content)
    await posts.delete_post(db, post, account)
    return redirect(request, f"/groups/{group.slug}", flash="post_deleted")


async def tag_page(request: Request) -> Response:
    account = await current_account(request)
    tag = request.path_params["tag"]
    db = request.app.state.db
    found = await posts.list_tagged_posts(db, request.app.state.config, tag)
    liked = await posts.list_liked(db, account, found)
    return render(request, "tag.html", {"tag": tag.lower(), "posts": found, "liked": liked})
