"""The ActivityPub ids of local things. Changing these breaks every follow: they are forever."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from server.models import Actor


def number(text: str, max_digits: int = 18) -> int | None:
    """Return a number given in ASCII digits (str.isdigit() also takes "²"), or None."""
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None


class Urls:
    """Build and recognise local ids from the instance's public origin."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.host = urlsplit(base_url).netloc.lower()
        self._post_re = re.compile(re.escape(base_url) + r"/posts/(\d{1,18})$")
        self._actor_re = re.compile(re.escape(base_url) + r"/(users|groups)/([A-Za-z0-9_]{1,30})$")

    def actor(self, actor: Actor) -> str:
        if actor.uri is not None:
            return actor.uri
        if actor.kind == "application":
            return f"{self.base}/actor"
        prefix = "groups" if actor.kind == "group" else "users"
        return f"{self.base}/{prefix}/{actor.name}"

    def key_id(self, actor: Actor) -> str:
        return actor.key_id if actor.key_id else self.actor(actor) + "#main-key"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def post(self, post_id: int) -> str:
        return f"{self.base}/posts/{post_id}"

    def picture(self, name: str) -> str:
        """Return the address of a stored picture (a post's, a group's header)."""
        return f"{self.base}/media/pictures/{name}"

    def is_local(self, uri: str) -> bool:
        return urlsplit(uri).netloc.lower() == self.host

    def local_post_id(self, uri: str) -> int | None:
        match = self._post_re.match(uri)
        return int(match.group(1)) if match else None

    def local_actor_name(self, uri: str) -> str | None:
        match = self._actor_re.match(uri)
        return match.group(2) if match else None
