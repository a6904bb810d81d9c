"""The notification centre: what happened for the person, marking it read, how each kind comes."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.services import notifications
from web.forms import require_account
from web.render import redirect, render, translator


async def notifications_page(request: Request) -> Response:
    account = await require_account(request)
    language = translator(request).language
    items = await notifications.list_notifications(request.app.state.db, account, language)
    return render(request, "notifications.html", {"items": items})


async def mark_all_read(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    await notifications.mark_read(request.app.state.db, account)
    return redirect(request, "/notifications")


async def open_notification(request: Request, form: FormData) -> Response:
    """Mark one notification read and go where it leads."""
    account = await require_account(request)
    db = request.app.state.db
    await notifications.mark_read(db, account, request.path_params["notification_id"])
    target = str(form.get("next") or "/notifications")
    # Only our own paths: a notification links inside the instance.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/notifications"
    return redirect(request, target)


async def preferences_page(
    request: Request, *, errors: dict[str, str] | None = None, saved: bool = False
) -> Response:
    account = await require_account(request)
    language = translator(request).language
    context = {
        "preferences": await notifications.list_preferences(
            request.app.state.db, account, language
        ),
        "errors": errors or {},
        "saved": saved or request.query_params.get("saved") == "1",
    }
    return render(request, "notification_settings.html", context, status=422 if errors else 200)


async def save_preferences(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    chosen = {k.removeprefix("kind-"): str(v) for k, v in form.items() if k.startswith("kind-")}
    try:
        await notifications.save_preferences(request.app.state.db, account, chosen)
    except Invalid as exc:
        return await preferences_page(request, errors=exc.fields)
    return redirect(request, "/settings/notifications?saved=1")
