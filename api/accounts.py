"""Accounts: the signed-in person, look-ups, an account's statuses, follows, relationships."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities, things
from api.http import ApiError, caller, me, params, path_id, text
from api.pages import paged, read_range
from server.services import accounts, muting, relationships, timelines


async def verify_credentials(request: Request) -> Response:
    account = me(request)
    profile = await timelines.get_profile(request.app.state.db, account.id)
    config = request.app.state.config
    return JSONResponse(entities.credential_account(config, profile, account.summary))


async def update_credentials(request: Request) -> Response:
    account = me(request)
    values = await params(request)
    db = request.app.state.db
    updated = await accounts.update_profile(
        db,
        account,
        display_name=text(values, "display_name", account.display_name),
        summary=text(values, "note", account.summary),
        language=account.language or "",
        timezone=account.timezone,
    )
    profile = await timelines.get_profile(db, updated.id)
    config = request.app.state.config
    return JSONResponse(entities.credential_account(config, profile, updated.summary))


async def lookup(request: Request) -> Response:
    values = await params(request)
    config = request.app.state.config
    profile = await timelines.find_profile(request.app.state.db, config, text(values, "acct"))
    return JSONResponse(entities.account(config, profile))


async def search_accounts(request: Request) -> Response:
    values = await params(request)
    config = request.app.state.config
    found, _posts = await timelines.search(
        request.app.state.db, config, caller(request).account, text(values, "q"), 40
    )
    return JSONResponse([entities.account(config, p) for p in found])


async def show(request: Request) -> Response:
    profile = await timelines.get_profile(request.app.state.db, path_id(request))
    return JSONResponse(entities.account(request.app.state.config, profile))


async def statuses(request: Request) -> Response:
    values = await params(request)
    db = request.app.state.db
    profile = await timelines.get_profile(db, path_id(request))
    views = await timelines.account_statuses(
        db, caller(request).account, profile, read_range(values)
    )
    config = request.app.state.config
    return paged(request, [things.status(config, v) for v in views])


async def relationships_of(request: Request) -> Response:
    values = await params(request)
    raw = values.get("id", [])
    ids = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    if not all(isinstance(i, str) and i.isascii() and i.isdigit() and len(i) < 19 for i in ids):
        raise ApiError(404, "Record not found")
    found = await timelines.relationships(request.app.state.db, me(request), [int(i) for i in ids])
    return JSONResponse([entities.relationship(r) for r in found])


async def _relationship(request: Request, actor_id: int) -> Response:
    found = await timelines.relationships(request.app.state.db, me(request), [actor_id])
    return JSONResponse(entities.relationship(found[0]))


async def follow(request: Request) -> Response:
    db = request.app.state.db
    profile = await timelines.get_profile(db, path_id(request))
    await relationships.follow_profile(db, me(request), profile)
    return await _relationship(request, profile.id)


async def unfollow(request: Request) -> Response:
    db = request.app.state.db
    profile = await timelines.get_profile(db, path_id(request))
    await relationships.unfollow_profile(db, me(request), profile)
    return await _relationship(request, profile.id)


async def mute(request: Request) -> Response:
    await muting.mute(request.app.state.db, me(request), path_id(request))
    return await _relationship(request, path_id(request))


async def unmute(request: Request) -> Response:
    await muting.unmute(request.app.state.db, me(request), path_id(request))
    return await _relationship(request, path_id(request))


async def block(request: Request) -> Response:
    db = request.app.state.db
    await muting.block(db, request.app.state.config, me(request), path_id(request))
    return await _relationship(request, path_id(request))


async def unblock(request: Request) -> Response:
    await muting.unblock(request.app.state.db, me(request), path_id(request))
    return await _relationship(request, path_id(request))


async def mutes(request: Request) -> Response:
    config = request.app.state.config
    found = await muting.list_muted(request.app.state.db, me(request))
    return JSONResponse([entities.account(config, p) for p in found])


async def blocks(request: Request) -> Response:
    config = request.app.state.config
    found = await muting.list_blocked(request.app.state.db, me(request))
    return JSONResponse([entities.account(config, p) for p in found])
