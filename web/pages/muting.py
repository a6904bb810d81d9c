"""The person's own mutes and blocks: the list, with undo, and the form that adds one."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.services import muting
from web.forms import field, parse_id, require_account
from web.render import redirect, render


async def muting_page(
    request: Request, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    context = {
        "muted": await muting.list_muted(db, account),
        "blocked": await muting.list_blocked(db, account),
        "errors": errors or {},
        "form": form or {},
        "done": request.query_params.get("done", ""),
    }
    return render(request, "muting.html", context, status=422 if errors else 200)


async def silence(request: Request, form: FormData) -> Response:
    """Mute or block the person named in the form (from this page or a profile)."""
    account = await require_account(request)
    handle, action = field(form, "handle"), field(form, "action")
    try:
        await muting.silence_by_handle(
            request.app.state.db, request.app.state.config, account, handle, action
        )
    except Invalid as exc:
        return await muting_page(request, errors=exc.fields, form={"handle": handle})
    return redirect(request, f"/settings/muting?done={'muted' if action == 'mute' else 'blocked'}")


async def unmute(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    await muting.unmute(request.app.state.db, account, _actor_id(request))
    return redirect(request, "/settings/muting?done=unmuted")


async def unblock(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    await muting.unblock(request.app.state.db, account, _actor_id(request))
    return redirect(request, "/settings/muting?done=unblocked")


def _actor_id(request: Request) -> int:
    return parse_id(str(request.path_params["actor_id"]))
