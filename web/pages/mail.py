"""Pages behind e-mailed links: a forgotten password, a new address, stopping daily digests."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid, NotFound
from server.services import mail
from web.forms import field, form_values, require_account
from web.render import redirect, render


async def forgot_page(request: Request) -> Response:
    return render(request, "password_forgot.html", {"form": {}, "errors": {}, "sent": False})


async def forgot(request: Request, form: FormData) -> Response:
    try:
        await mail.request_password_reset(request.app.state.db, field(form, "email"))
    except Invalid as exc:
        context = {"form": form_values(form), "errors": exc.fields, "sent": False}
        return render(request, "password_forgot.html", context, status=422)
    # The same answer whether or not an account uses the address: no one learns who is here.
    return render(request, "password_forgot.html", {"form": {}, "errors": {}, "sent": True})


async def reset_page(request: Request) -> Response:
    token = request.path_params["token"]
    valid = await mail.is_reset_link_valid(request.app.state.db, token)
    context = {"errors": {}, "valid": valid, "token": token}
    return render(request, "password_reset.html", context, status=200 if valid else 404)


async def reset(request: Request, form: FormData) -> Response:
    token = request.path_params["token"]
    try:
        await mail.reset_password_with_token(
            request.app.state.db, token, field(form, "new_password")
        )
    except Invalid as exc:
        context = {"errors": exc.fields, "valid": True, "token": token}
        return render(request, "password_reset.html", context, status=422)
    except NotFound:
        context = {"errors": {}, "valid": False, "token": token}
        return render(request, "password_reset.html", context, status=404)
    return redirect(request, "/login", flash="password_reset")


async def email_page(request: Request) -> Response:
    await require_account(request)
    return render(request, "email_change.html", {"form": {}, "errors": {}, "sent": False})


async def change_email(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        await mail.request_email_change(
            request.app.state.db,
            account,
            email=field(form, "email"),
            password=field(form, "password"),
        )
    except Invalid as exc:
        context = {"form": form_values(form), "errors": exc.fields, "sent": False}
        return render(request, "email_change.html", context, status=422)
    return render(request, "email_change.html", {"form": {}, "errors": {}, "sent": True})


async def confirm_email_page(request: Request) -> Response:
    return render(request, "email_confirm.html", {"token": request.path_params["token"]})


async def confirm_email(request: Request, form: FormData) -> Response:
    try:
        await mail.confirm_email_change(request.app.state.db, request.path_params["token"])
    except (NotFound, Invalid):
        context = {"token": request.path_params["token"], "failed": True}
        return render(request, "email_confirm.html", context, status=404)
    return redirect(request, "/settings", flash="email_changed")


async def unsubscribe_page(request: Request) -> Response:
    params = request.path_params
    path = f"/unsubscribe/{params['account_id']}/{params['token']}"
    return render(request, "unsubscribe.html", {"path": path, "done": False})


async def unsubscribe(request: Request, form: FormData) -> Response:
    """Stop the digests: RFC 8058's one-click POST, from a mail program or the page's button."""
    params = request.path_params
    path = f"/unsubscribe/{params['account_id']}/{params['token']}"
    if field(form, "List-Unsubscribe") != "One-Click":  # RFC 8058 §3.1: what the POST says
        return render(request, "unsubscribe.html", {"path": path, "failed": True}, status=400)
    try:
        await mail.unsubscribe(
            request.app.state.db, request.app.state.config, params["account_id"], params["token"]
        )
    except NotFound:
        return render(request, "unsubscribe.html", {"path": path, "failed": True}, status=404)
    return render(request, "unsubscribe.html", {"path": path, "done": True})


async def confirm_signup_page(request: Request) -> Response:
    return render(request, "email_confirm.html", {"token": request.path_params["token"],
                                                  "action": "/signup/confirm/"})  # fmt: skip


async def confirm_signup(request: Request, form: FormData) -> Response:
    config = request.app.state.config
    try:
        account = await mail.confirm_signup(
            request.app.state.db, config, request.path_params["token"]
        )
    except NotFound:
        context = {"token": request.path_params["token"], "failed": True}
        return render(request, "email_confirm.html", context, status=404)
    if account.status == "pending":
        return render(request, "message.html", {"message": "pending"})
    return redirect(request, "/login", flash="email_confirmed")
