"""The administrator's view of federation: the queue, failing hosts, and the settings in force."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.config import SETTINGS, mail_server
from server.errors import Forbidden
from server.services import queue
from web.forms import field, require_account
from web.render import redirect, render

# Shown as set / not set only: their values are secrets or credentials.
SECRET_SETTINGS = frozenset({"DATABASE_URL", "ENTRAIDE_SECRET_KEY"})


async def queue_page(request: Request) -> Response:
    admin = await require_account(request)
    db = request.app.state.db
    hosts = await queue.list_failing_hosts(db, admin)
    config = request.app.state.config
    values = {
        "DATABASE_URL": "set" if config.database_url else "embedded",
        "ENTRAIDE_URL": config.base_url,
        "ENTRAIDE_DATA_DIR": str(config.data_dir),
        "ENTRAIDE_SECRET_KEY": "set",
        "ENTRAIDE_REGISTRATIONS": config.registrations,
        "ENTRAIDE_LANGUAGE": config.language,
        "ENTRAIDE_ALLOW_PRIVATE_ADDRESSES": str(config.allow_private_addresses).lower(),
        "ENTRAIDE_LOG_FORMAT": config.log_format,
        "ENTRAIDE_TIMEZONE": config.timezone,
        # Never its password: the scheme, host and port only.
        "ENTRAIDE_SMTP_URL": mail_server(config),
        "ENTRAIDE_MAIL_FROM": config.mail_from,
        "ENTRAIDE_CONFIRM_EMAIL": str(config.confirm_email).lower(),
    }
    # A setting this page does not know yet shows its default rather than nothing.
    settings = [(s.name, values.get(s.name) or s.default, s.help) for s in SETTINGS]
    context = {
        "state": await queue.get_queue_state(db),
        "hosts": hosts,
        "settings": settings,
    }
    return render(request, "admin_queue.html", context)


async def host_action(request: Request, form: FormData) -> Response:
    admin = await require_account(request)
    db = request.app.state.db
    host = field(form, "host")[:300]
    action = field(form, "action")
    if action == "retry":
        await queue.retry_host_now(db, admin, host)
    elif action == "give_up":
        await queue.give_up_host(db, admin, host)
    else:
        raise Forbidden("Only administrators can do this.")
    return redirect(request, "/admin/queue")
