"""Reading ActivityStreams JSON from peers within limits: size, nesting, shape."""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_BODY = 1024 * 1024  # Mastodon's ActivityPub::Activity::MAX_JSON_SIZE
MAX_DEPTH = 32
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({AS_PUBLIC, "as:Public", "Public"})
# Ids and URIs go into PostgreSQL btree indexes, whose entries hold some 2,700 bytes at most.
MAX_ID_BYTES = 2048
# PostgreSQL text and jsonb hold neither NUL nor a UTF-16 half without its pair.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class DocumentError(Exception):
    """A document we refuse to read; the message is safe to send back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_tree(value: Any) -> None:
    """Refuse a parsed document too deep or with text we could not store (iteratively)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DocumentError("Document nested too deeply")
        if isinstance(node, dict):
            for key, item in node.items():
                if _UNSTORABLE.search(key):
                    raise DocumentError("Document holds a NUL character or a lone surrogate")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str) and _UNSTORABLE.search(node):
            raise DocumentError("Document holds a NUL character or a lone surrogate")


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity, which JSON (and PostgreSQL's jsonb) does not have.
    raise DocumentError(f"Document holds {name}, which is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DocumentError("Document holds a number out of range")
    return value


def parse_document(body: bytes) -> dict[str, Any]:
    """Parse a JSON object, refusing what is too large, too deep, not an object or unstorable."""
    if len(body) > MAX_BODY:
        raise DocumentError("Document too large")
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise DocumentError("Document nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise DocumentError("Body is not JSON") from None
    if not isinstance(document, dict):
        raise DocumentError("Document is not a JSON object")
    _check_tree(document)
    return document


def fits_id(value: str) -> bool:
    """Tell whether a string is short enough to be kept as an id (in an indexed column)."""
    return len(value) <= MAX_ID_BYTES and len(value.encode(errors="replace")) <= MAX_ID_BYTES


def id_of(value: Any) -> str | None:
    """Return the id of a reference given as a string or as an object with `id`.

    An id too long to keep is no id: None.
    """
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and fits_id(value) else None


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
