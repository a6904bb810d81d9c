"""Pages of events: agendas (group, instance, personal), the event page, the organizers' forms,
participation (join, leave, approval) and the CSV of participants."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Forbidden, Invalid
from server.models import Event
from server.services import avatars, events, groups, participation, posts
from server.services.events import CATEGORIES, EventForm, Picture
from web.calendar import FEEDS, MEDIA_TYPE, build_calendar
from web.forms import TIMEZONES, field, form_values, parse_id, require_account
from web.i18n import Translator
from web.pages.group_paths import account_and_group
from web.render import current_account, redirect, render, translator

# The categories the form offers (the others arrive from Mobilizon and are shown as they are).
FORM_CATEGORIES = CATEGORIES[:11]


DASH = "\u2013"  # an en dash between times, as typography wants


def event_when(t: Translator, event: Event) -> str:
    """Say when an event happens, in its own time zone (and name the zone)."""
    return _when(t.language, event.starts_at, event.ends_at, event.timezone, event.all_day)


# Babel takes ~0.7 ms to say when an event happens: an agenda of 100 would spend 70 ms.
@lru_cache(maxsize=20_000)
def _when(
    language: str, starts_at: datetime, ends_at: datetime, timezone: str, all_day: bool
) -> str:
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if all_day:
        last = (end - timedelta(days=1)).date()
        first = format_date(start.date(), format="full", locale=language)
        if last <= start.date():
            return first
        return f"{first} {DASH} {format_date(last, format='full', locale=language)}"
    day = format_date(start.date(), format="full", locale=language)
    hours = f"{format_time(start, 'short', locale=language)} {DASH} "
    if end.date() != start.date():
        hours += format_date(end.date(), format="full", locale=language) + ", "
    hours += format_time(end, "short", locale=language)
    return f"{day}, {hours} ({timezone})"


def osm_link(event: Event) -> str | None:
    """Return the place on OpenStreetMap: by its coordinates, else by searching its address."""
    if event.latitude is not None and event.longitude is not None:
        lat, lon = event.latitude, event.longitude
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    words = " ".join(
        p for p in (event.street_address, event.postal_code, event.locality, event.country) if p
    )
    return f"https://www.openstreetmap.org/search?query={quote(words)}" if words else None


def _form_of(form: FormData) -> EventForm:
    values: dict[str, object] = {name: field(form, name) for name in EventForm.names()}
    values["all_day"] = field(form, "all_day") == "on"
    values["show_participants"] = field(form, "show_participants") == "on"
    return EventForm(**values)  # type: ignore[arg-type]


def _shown(form: EventForm, picture_alt: str = "") -> dict[str, str]:
    """Return the form's values as the template's fields show them (check boxes as 'on')."""
    shown = {name: getattr(form, name) for name in EventForm.names()}
    shown["picture_alt"] = picture_alt
    shown["all_day"] = "on" if form.all_day else ""
    shown["show_participants"] = "on" if form.show_participants else ""
    return shown


def _form_context(
    request: Request, form: EventForm, errors: dict[str, str], picture_alt: str = ""
) -> dict[str, object]:
    t = translator(request)
    return {
        "form": _shown(form, picture_alt),
        "errors": errors,
        "timezones": TIMEZONES,
        "categories": [(c, t.gettext(c)) for c in FORM_CATEGORIES],
    }


def _agenda_context(request: Request, items: list[Event]) -> dict[str, object]:
    t = translator(request)
    return {"items": items, "event_when": lambda e: event_when(t, e)}


async def group_agenda(request: Request) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    membership = await groups.get_membership(db, group, account)
    upcoming, past = await events.list_group_events(db, group, account)
    context = _agenda_context(request, upcoming)
    context.update({"group": group, "membership": membership, "past": past})
    return render(request, "group_events.html", context)


async def public_agenda(request: Request) -> Response:
    await current_account(request)
    found = await events.list_public_events(request.app.state.db)
    context = _agenda_context(request, found)
    context.update({"title": "Agenda of the instance", "feed": "/events.ics"})
    return render(request, "agenda.html", context)


async def my_agenda(request: Request) -> Response:
    account = await require_account(request)
    found = await events.list_agenda(request.app.state.db, account)
    context = _agenda_context(request, found)
    context["title"] = "My agenda"
    return render(request, "agenda.html", context)


async def new_event_page(request: Request) -> Response:
    account, group = await account_and_group(request)
    context = _form_context(request, EventForm(timezone=account.timezone), {})
    context.update({"group": group, "action": f"/groups/{group.slug}/events", "editing": False})
    return render(request, "event_form.html", context)


async def _picture_of(form: FormData) -> Picture | None:
    """Return the uploaded picture with its description, or None when no file was sent."""
    upload = form.get("picture")
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read(avatars.MAX_BYTES + 1)
    return Picture(data, field(form, "picture_alt")) if data else None


async def create_event(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    db = request.app.state.db
    typed = _form_of(form)
    try:
        event = await events.create_event(
            db, group, account, typed, picture=await _picture_of(form),
            config=request.app.state.config,
        )  # fmt: skip
    except Invalid as exc:
        context = _form_context(request, typed, exc.fields, field(form, "picture_alt"))
        context.update({"group": group, "action": f"/groups/{group.slug}/events", "editing": False})
        return render(request, "event_form.html", context, status=422)
    return redirect(request, f"/events/{event.id}")


async def event_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    t = translator(request)
    context = {
        "view": view,
        "event": view.event,
        "event_time": event_when(t, view.event),
        "osm": osm_link(view.event),
        "participants": await participation.list_participants(db, view),
        "discussion": await posts.list_event_posts(db, view.event.id, account),
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "event.html", context, status=422 if errors else 200)


async def comment(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    if view.group is None:
        raise Forbidden("This event is organized on another server.")
    try:
        post = await posts.create_post(
            db, request.app.state.config, view.group, account,
            content=field(form, "content"), event_id=view.event.id,
        )  # fmt: skip
    except Invalid as exc:
        return await event_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/events/{view.event.id}#post-{post.id}")


async def edit_page(request: Request) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    if not view.can_manage:
        raise Forbidden("Only the event's organizers can do this.")
    context = _form_context(request, EventForm.of_event(view.event), {}, view.event.picture_alt)
    context.update(
        {"group": view.group, "action": f"/events/{view.event.id}/edit", "editing": True}
    )
    return render(request, "event_form.html", context)


async def edit(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    typed = _form_of(form)
    try:
        await events.update_event(
            db, view.event, account, typed, picture=await _picture_of(form),
            config=request.app.state.config,
        )  # fmt: skip
    except Invalid as exc:
        context = _form_context(request, typed, exc.fields, field(form, "picture_alt"))
        context.update(
            {"group": view.group, "action": f"/events/{view.event.id}/edit", "editing": True}
        )
        return render(request, "event_form.html", context, status=422)
    return redirect(request, f"/events/{view.event.id}")


async def cancel(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    await events.cancel_event(db, view.event, account)
    return redirect(request, f"/events/{view.event.id}")


async def delete(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    await events.delete_event(db, view.event, account)
    return redirect(request, f"/groups/{view.event.group_name}/events")


async def join(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    await participation.join_event(
        db, request.app.state.config, view.event, account, message=field(form, "message")
    )
    return redirect(request, f"/events/{view.event.id}")


async def leave(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    await participation.leave_event(db, view.event, account)
    return redirect(request, f"/events/{view.event.id}")


async def decide(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    participant_id = parse_id(request.path_params["participant_id"])
    accept = field(form, "decision") == "accept"
    await participation.decide_participant(db, view.event, account, participant_id, accept=accept)
    return redirect(request, f"/events/{view.event.id}")


async def participants_csv(request: Request) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    view = await events.get_event(db, parse_id(request.path_params["event_id"]), account)
    people = await participation.list_participants_for_export(db, view.event, account)
    host = request.app.state.config.host
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["handle", "name", "state", "message", "since"])
    for p in people:
        # A leading =, +, - or @ makes spreadsheets run the cell as a formula: quote it.
        handle = f"@{p.name}@{p.domain or host}"
        writer.writerow(
            [handle, _inert(p.display_name), p.state, _inert(p.message), p.created_at.isoformat()]
        )
    filename = f"event-{view.event.id}-participants.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _calendar_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )


async def event_ics(request: Request) -> Response:
    account = await current_account(request)
    view = await events.get_event(
        request.app.state.db, parse_id(request.path_params["event_id"]), account
    )
    body = build_calendar(request.app.state.config, [view.event], view.event.title)
    return _calendar_response(body, f"event-{view.event.id}.ics")


async def group_ics(request: Request) -> Response:
    db = request.app.state.db
    config = request.app.state.config
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    version = await events.get_calendar_version(db, group)
    key = (config.base_url, group.id, group.created_at, group.name, *version)
    body = FEEDS.find(key)
    if body is None:
        found = await events.list_calendar_events(db, group)
        body = FEEDS.put(key, build_calendar(config, found, group.name))
    return _calendar_response(body, f"{group.slug}.ics")


async def public_ics(request: Request) -> Response:
    config = request.app.state.config
    found = await events.list_public_events(request.app.state.db, limit=1000)
    return _calendar_response(build_calendar(config, found, config.host), "agenda.ics")
