"""Atom feeds (RFC 4287) of a public group's posts and of a person's public posts, for feed
readers; pages announce them with <link rel="alternate">."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from starlette.requests import Request
from starlette.responses import Response

from server.errors import NotFound
from server.models import Post
from server.services import accounts, groups, posts

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def atom(feed_id: str, title: str, page: str, items: list[Post], base_url: str) -> bytes:
    """Return an Atom document: one entry per post, its sanitized HTML as content."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=feed_id)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=page)
    newest = max((p.updated_at or p.created_at for p in items), default=datetime.now(UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(newest)
    for post in items:
        link = f"{base_url}/posts/{post.id}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = link
        words = " ".join(post.content.split()) or post.content_warning
        ET.SubElement(entry, f"{{{ATOM}}}title").text = (
            (words[:80] + "…") if len(words) > 80 else words
        )
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=link)
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = post.author_display_name or post.author_name
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(post.created_at)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(post.updated_at or post.created_at)
        if post.content_warning:
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = post.content_warning
        else:
            ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = post.content_html
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


async def group_feed(request: Request) -> Response:
    db, config = request.app.state.db, request.app.state.config
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    if group.visibility != "public":
        raise NotFound("This page does not exist.")
    page = await posts.list_group_posts(db, group, None)
    url = f"{config.base_url}/groups/{group.slug}"
    body = atom(f"{url}/feed.atom", group.name, url, page.posts, config.base_url)
    return Response(body, media_type=MEDIA_TYPE)


async def person_feed(request: Request) -> Response:
    db, config = request.app.state.db, request.app.state.config
    person = await accounts.get_account_by_username(db, request.path_params["username"])
    items = await posts.list_author_posts(db, person, None)
    url = f"{config.base_url}/users/{person.username}"
    title = person.display_name or person.username
    body = atom(f"{url}/feed.atom", title, url, items[:20], config.base_url)
    return Response(body, media_type=MEDIA_TYPE)
