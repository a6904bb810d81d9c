"""What the pages under /groups/<slug>/ start with: the signed-in person and the group the
path names, and the form of something new in that group, empty or with its errors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.models import Account, Group
from server.services import groups
from web.forms import require_account
from web.render import render


async def account_and_group(request: Request) -> tuple[Account, Group]:
    """Return the signed-in account (others are sent to log in) and the group of the path."""
    account = await require_account(request)
    group = await groups.get_group_by_slug(request.app.state.db, request.path_params["slug"])
    return account, group


def group_form(
    request: Request,
    template: str,
    group: Group,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    """Render a group's form of something new: as first shown, or refused with its errors."""
    context = {"group": group, "form": form, "errors": errors or {}}
    return render(request, template, context, status=422 if errors else 200)


async def new_in_group_page(
    request: Request, template: str, form: dict[str, str] | None = None
) -> Response:
    """Show a signed-in person the empty form of something new in the group of the path."""
    _, group = await account_and_group(request)
    return group_form(request, template, group, form or {})
