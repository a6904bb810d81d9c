"""Reading ActivityStreams JSON from peers within limits: size, nesting, shape."""

from __future__ import annotations

import json
from typing import Any

MAX_BODY = 1024 * 1024  # Mastodon's ActivityPub::Activity::MAX_JSON_SIZE
MAX_DEPTH = 32
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({AS_PUBLIC, "as:Public", "Public"})


class DocumentError(Exception):
    """A document we refuse to read; the message is safe to send back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _depth(value: Any) -> int:
    """Return the nesting depth of a parsed document, iteratively (no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_document(body: bytes) -> dict[str, Any]:
    """Parse a JSON object, refusing what is too large, too deep or not an object."""
    if len(body) > MAX_BODY:
        raise DocumentError("Document too large")
    try:
        document = json.loads(body)
    except RecursionError:
        raise DocumentError("Document nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise DocumentError("Body is not JSON") from None
    if not isinstance(document, dict):
        raise DocumentError("Document is not a JSON object")
    if _depth(document) > MAX_DEPTH:
        raise DocumentError("Document nested too deeply")
    return document


def id_of(value: Any) -> str | None:
    """Return the id of a reference given as a string or as an object with `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def ids_of(value: Any) -> list[str]:
    """Return the ids of a reference or a list of references (to, cc, audience...)."""
    items = value if isinstance(value, list) else [value]
    return [i for i in (id_of(item) for item in items[:1000]) if i is not None]


def types_of(document: dict[str, Any]) -> list[str]:
    """Return the `type` as a list (Mastodon and others accept an array of types)."""
    value = document.get("type")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for t in value if isinstance(t, str)]
    return []


def first_type(document: dict[str, Any]) -> str:
    types = types_of(document)
    return types[0] if types else ""


def text_of(value: Any, limit: int) -> str:
    """Return a string field, or '' when absent or not a string; cut at `limit`."""
    return value[:limit] if isinstance(value, str) else ""
