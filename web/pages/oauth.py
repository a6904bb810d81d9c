"""The OAuth consent page: a signed-in person lets an app (Tusky, Ivory, Elk...) in, or not.

The protocol's other endpoints (token, revoke, app registration) belong to the client API in
`api/`; this page is the web's, since it runs on the person's browser session and its CSRF token.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.errors import Invalid, NotFound
from server.services import oauth
from web.forms import field, parse_id, require_account
from web.render import current_account, redirect, render

# The parameters of an authorization request, carried from the page to its form.
PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


async def _check(request: Request, values: dict[str, str]) -> oauth.AuthorizationRequest:
    return await oauth.check_authorization_request(request.app.state.db, **values)


def _with_form_action(response: Response, redirect_uri: str) -> Response:
    # Browsers apply the page's form-action to the redirect that follows the form: the app's
    # address (https page or custom scheme such as tusky:) must be allowed there.
    parts = urlsplit(redirect_uri)
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    csp = response.headers["content-security-policy"]
    response.headers["content-security-policy"] = csp.replace(
        "form-action 'self'", f"form-action 'self' {source}"
    )
    return response


async def authorize_page(request: Request) -> Response:
    """Show what the app asks for, to a signed-in person (others sign in first)."""
    account = await current_account(request)
    if account is None:
        target = request.url.path + "?" + request.url.query
        return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=302)
    values = {name: request.query_params.get(name, "") for name in PARAMS}
    try:
        checked = await _check(request, values)
    except (Invalid, NotFound) as exc:
        message = next(iter(exc.fields.values())) if isinstance(exc, Invalid) else exc.message
        return render(request, "error.html", {"status": 400, "message": message}, 400)
    context = {"app": checked.app, "scopes": checked.scopes, "params": values}
    response = render(request, "oauth_authorize.html", context)
    if checked.redirect_uri != oauth.OOB:
        _with_form_action(response, checked.redirect_uri)
    return response


async def authorize(request: Request, form: FormData) -> Response:
    """Give the app its code (in the redirect, or on a page for OOB apps), or refuse it."""
    account = await require_account(request)
    values = {name: field(form, name) for name in PARAMS}
    try:
        checked = await _check(request, values)
    except (Invalid, NotFound) as exc:
        message = next(iter(exc.fields.values())) if isinstance(exc, Invalid) else exc.message
        return render(request, "error.html", {"status": 400, "message": message}, 400)
    answer: dict[str, str]
    if field(form, "decision") == "approve":
        code = await oauth.authorize(request.app.state.db, checked, account)
        if checked.redirect_uri == oauth.OOB:
            return render(request, "oauth_code.html", {"code": code, "app": checked.app})
        answer = {"code": code}
    else:
        answer = {"error": "access_denied"}
    if checked.state:
        answer["state"] = checked.state
    separator = "&" if "?" in checked.redirect_uri else "?"
    return redirect(request, checked.redirect_uri + separator + urlencode(answer))


async def apps_page(request: Request) -> Response:
    """List the apps that hold a token to the person's account."""
    account = await require_account(request)
    tokens = await oauth.list_account_tokens(request.app.state.db, account)
    return render(request, "settings_apps.html", {"tokens": tokens})


async def revoke_app(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    token_id = parse_id(request.path_params["token_id"])
    await oauth.revoke_account_token(request.app.state.db, account, token_id)
    return redirect(request, "/settings/apps")
