"""Pages of people: sign-up, login, logout, settings, profiles, and the admin's registrations."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Forbidden, Invalid
from server.models import Account
from server.services import accounts, avatars, exports, groups, posts, sessions
from web.forms import TIMEZONES, field, form_values, require_account
from web.render import current_account, redirect, render
from web.security import client_address, is_known_device, remember_device, safe_next


async def signup_page(request: Request) -> Response:
    await current_account(request)
    return render(request, "signup.html", {"form": {}, "errors": {}}, scripts=True)


async def signup(request: Request, form: FormData) -> Response:
    await current_account(request)
    config = request.app.state.config
    try:
        account = await accounts.register_account(
            request.app.state.db,
            config,
            username=field(form, "username"),
            email=field(form, "email"),
            password=field(form, "password"),
            # Filled in by /static/timezone.js from the browser's own zone.
            timezone=field(form, "timezone"),
        )
    except Invalid as exc:
        context = {"form": form_values(form, "password"), "errors": exc.fields}
        return render(request, "signup.html", context, status=422, scripts=True)
    if account.status in ("pending", "unconfirmed"):
        return render(request, "message.html", {"message": account.status})
    request.state.set_session = await sessions.open_session(request.app.state.db, account)
    remember_device(request, account.username)
    request.state.new_csrf_seed = None
    return redirect(request, "/", flash="welcome")


async def login_page(request: Request) -> Response:
    await current_account(request)
    next_url = safe_next(request.query_params.get("next"))
    return render(request, "login.html", {"form": {"next": next_url}, "errors": {}})


async def login(request: Request, form: FormData) -> Response:
    await current_account(request)
    username = field(form, "username")
    try:
        account = await accounts.authenticate(
            request.app.state.db,
            username=username,
            password=field(form, "password"),
            address=client_address(request),
            known_device=is_known_device(request, username),
        )
    except (Invalid, Forbidden) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {"username": exc.message}
        context = {"form": form_values(form, "password"), "errors": errors}
        return render(request, "login.html", context, status=exc.status)
    old = request.cookies.get("entraide_session")
    if old:
        await sessions.close_session(request.app.state.db, old)
    # A new session token at every login: a token planted before login is worthless after.
    request.state.set_session = await sessions.open_session(request.app.state.db, account)
    remember_device(request, account.username)
    return redirect(request, safe_next(form.get("next")))


async def logout(request: Request, form: FormData) -> Response:
    token = request.cookies.get("entraide_session")
    if token:
        await sessions.close_session(request.app.state.db, token)
    request.state.set_session = ""
    return redirect(request, "/")


def _settings_form(account: Account) -> dict[str, str]:
    return {
        "display_name": account.display_name,
        "summary": account.summary,
        "language": account.language or "",
        "timezone": account.timezone,
    }


async def settings_page(request: Request) -> Response:
    account = await require_account(request)
    context = {"form": _settings_form(account), "errors": {}, "timezones": TIMEZONES}
    return render(request, "settings.html", context)


async def update_settings(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        await accounts.update_profile(
            request.app.state.db,
            account,
            display_name=field(form, "display_name"),
            summary=field(form, "summary"),
            language=field(form, "language"),
            timezone=field(form, "timezone"),
        )
    except Invalid as exc:
        context = {"form": form_values(form), "errors": exc.fields, "timezones": TIMEZONES}
        return render(request, "settings.html", context, status=422)
    return redirect(request, "/settings?saved=1")


async def update_avatar(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    upload = form.get("avatar")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid({"avatar": "Send a PNG, JPEG, GIF or WebP image."})
        data = await upload.read(avatars.MAX_BYTES + 1)
        await avatars.set_account_avatar(
            request.app.state.db, request.app.state.config, account, data
        )
    except Invalid as exc:
        context = {"form": _settings_form(account), "errors": exc.fields, "timezones": TIMEZONES}
        return render(request, "settings.html", context, status=422)
    return redirect(request, "/settings?saved=1")


async def password_page(request: Request) -> Response:
    await require_account(request)
    return render(request, "password.html", {"errors": {}})


async def change_password(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        await accounts.change_password(
            request.app.state.db,
            account,
            current=field(form, "current_password"),
            new=field(form, "new_password"),
        )
    except Invalid as exc:
        return render(request, "password.html", {"errors": exc.fields}, status=422)
    # Every session was closed; this browser gets a fresh one.
    request.state.set_session = await sessions.open_session(request.app.state.db, account)
    return redirect(request, "/settings?saved=1")


async def profile_page(request: Request) -> Response:
    viewer = await current_account(request)
    account = await accounts.get_account_by_username(
        request.app.state.db, request.path_params["username"]
    )
    member_of = await groups.list_account_groups(request.app.state.db, account)
    # Belonging to a members-only group is shown to that group's members only, like its list.
    shared = await groups.list_account_groups(request.app.state.db, viewer) if viewer else []
    shared_ids = {g.id for g in shared}
    visible = [g for g in member_of if g.visibility == "public" or g.id in shared_ids]
    their_posts = await posts.list_author_posts(request.app.state.db, account, viewer)
    context = {
        "person": account,
        "groups": visible,
        "posts": their_posts,
        "liked": await posts.list_liked(request.app.state.db, viewer, their_posts),
    }
    return render(request, "profile.html", context)


async def admin_page(request: Request) -> Response:
    admin = await require_account(request)
    pending = await accounts.list_pending_accounts(request.app.state.db, admin)
    return render(request, "admin.html", {"pending": pending, "errors": {}, "form": {}})


async def admin_decide(request: Request, form: FormData) -> Response:
    admin = await require_account(request)
    account_id = int(request.path_params["account_id"])
    if field(form, "decision") == "approve":
        await accounts.approve_account(request.app.state.db, admin, account_id)
        return redirect(request, "/admin", flash="account_approved")
    await accounts.reject_account(request.app.state.db, admin, account_id)
    return redirect(request, "/admin", flash="account_rejected")


async def admin_reset_password(request: Request, form: FormData) -> Response:
    admin = await require_account(request)
    try:
        await accounts.reset_password(
            request.app.state.db,
            admin,
            username=field(form, "username"),
            new=field(form, "new_password"),
        )
    except Invalid as exc:
        pending = await accounts.list_pending_accounts(request.app.state.db, admin)
        context = {
            "pending": pending,
            "errors": exc.fields,
            "form": form_values(form, "new_password"),
        }
        return render(request, "admin.html", context, status=422)
    return redirect(request, "/admin?reset=1")


async def delete_account(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        await accounts.delete_account(
            request.app.state.db, account, password=field(form, "password")
        )
    except Invalid as exc:
        # The deletion form is on the settings page: its error shows there, by its field.
        context = {"form": _settings_form(account), "errors": exc.fields, "timezones": TIMEZONES}
        return render(request, "settings.html", context, status=422)
    request.state.set_session = ""
    request.state.account = None
    return redirect(request, "/")


async def export_data(request: Request) -> Response:
    """Send the account's own data as a ZIP archive (never cached on the way)."""
    account = await require_account(request)
    archive = await exports.export_account(request.app.state.db, account)
    name = f"entraide-{account.username}.zip"
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
