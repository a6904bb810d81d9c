"""Property-based fuzzing of what strangers send: peer documents, HTML, addresses and forms.

Hypothesis runs derandomized (the same examples on every run, no example database kept) with a
bounded number of examples per property, so the file gives the same verdict every time and
runs in well under a minute. Each property says what must hold for every input, hostile or not:
only the documented errors are raised, nothing invalid is stored, nothing that runs is shown.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from federation.fetch import FetchError
from federation.inbox import receive
from federation.jsondoc import (
    AS_PUBLIC,
    MAX_BODY,
    DocumentError,
    first_type,
    fits_id,
    id_of,
    ids_of,
    parse_document,
    text_of,
    types_of,
)
from federation.processing import process_activity
from federation.remote_actors import parse_actor
from server.config import Config
from server.db import Pool
from server.sanitize import render_text, sanitize_html
from server.services import inbound
from tests.factories import make_account, make_group, make_post, snapshot
from tests.security.stage import (
    ALICE,
    ALICE_POST,
    BASE,
    CONTEXTS,
    GROUP,
    LOCAL_POST,
    MALLORY,
    PEER,
    SECRET_GROUP,
    SECRET_POST,
    Stage,
    assert_inert,
    assert_nothing_invalid_stored,
    encode,
    inbox_request,
    send_as_mallory,
    stored_row,
)
from tests.web.conftest import OpenVisitor
from tests.web.test_csrf import COMMON_FIELDS as FORM_FIELDS
from tests.web.test_csrf import LAST, browser_post_routes, build_world, fill
from web.security import safe_next


def fuzz(examples: int) -> Any:
    """Return the settings of one property: derandomized, bounded, no deadline, no database."""
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=examples,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the database is reused across examples
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# --- hostile values -----------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # half of a UTF-16 pair, alone
    "\udfff\ud800",
    "\u202etxt.exe",
    "\u200b",
    "\U0001d552\U0001d55d\U0001d55a\U0001d554\U0001d556",  # "alice" in double-struck letters
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://127.0.0.1:1/evil",
    "http://169.254.169.254/latest/meta-data",
    "file:///etc/passwd",
    "../../etc/passwd",
    "%00",
    f"{PEER}/" + "x" * 3000,  # an id longer than an index entry holds
    f"{PEER}/" + "é" * 1500,  # short enough in characters, not in bytes
    "Create",
    "Undo",
    "Person",
    AS_PUBLIC,
    "as:Public",
    MALLORY,
    f"{MALLORY}#main-key",
    ALICE,
    ALICE_POST,
    GROUP,
    GROUP + "\n",
    SECRET_GROUP,
    LOCAL_POST,
    SECRET_POST,
    f"{BASE}/users/owner",
    f"{BASE}/actor",
    f"{BASE}/posts/999999999999999999999",
    f"{BASE}/posts/\u00b2",  # a digit to str.isdigit(), not to int()
]
SCALARS = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.floats(),  # NaN and infinities included: json.dumps writes them, JSON has none
    st.booleans(),
    st.none(),
)
KEYS = st.sampled_from(["id", "type", "href", "url", "name", "content", "object", "actor"])
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=4), inner),
    max_leaves=8,
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from one of the strategies, each chosen in proportion to its weight."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda index: table[index])


# HTML-ish text: tags, attributes, URL schemes and entities that sanitizers get wrong.
TAGS = ["script", "SCRIPT", "img", "a", "p", "span", "svg", "iframe", "style", "math", "form",
        "object", "base", "meta", "template", "noscript", "textarea", "xmp", "pre"]  # fmt: skip
ATTRIBUTES = ["href", "src", "onerror", "onclick", "OnLoad", "style", "class", "rel", "srcdoc",
              "formaction", "xlink:href", "action", "on", "data-x"]  # fmt: skip
URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "\x01javascript:x",
        "jav&#x09;ascript:alert(1)", "&#106;avascript:alert(1)", " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox(1)", "https://ok.example/",
        "//evil.example", "mailto:a@b.example", "http://x.example/?a=<script>", "", "#",
        "background:url(javascript:alert(1))", "h-card mention u-url evil"]  # fmt: skip
PIECES = ["<!--", "-->", "<![CDATA[", "]]>", "</", "<", ">", "&", "&lt;script&gt;",
          "&#60;script&#62;", "\x00", "<scr<script>ipt>", "</script>", "<p style=color:red>",
          "\n", "\n\n", "@alice@peer.example", "@alice", "#tag", "https://example.org/x",
          "www.example.org", "<br/>", "<?xml?>", '"', "'", "`", "=", " "]  # fmt: skip


@st.composite
def html_tag(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(TAGS))
    attributes = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ATTRIBUTES),
                st.sampled_from(['"', "'", ""]),
                st.sampled_from(URLS) | st.text(max_size=8),
            ),
            max_size=3,
        )
    )
    inside = "".join(f" {name}={q}{value}{q}" for name, q, value in attributes)
    closing = draw(st.sampled_from(["", f"</{tag}>", "/>"]))
    return f"<{tag}{inside}>{draw(st.text(max_size=6))}{closing}"


HTML = st.lists(
    html_tag() | st.sampled_from(PIECES) | st.sampled_from(URLS) | st.text(max_size=10),
    max_size=12,
).map("".join)


def test_assert_inert_catches_each_kind_of_markup() -> None:
    # The properties below lean on this check: it must be able to fail.
    for html in (
        "<p><script>alert(1)</script></p>",
        "<img src=x onerror=alert(1)>",
        '<a href=" java\tscript:alert(1)">x</a>',
        "<a href='DATA:text/html,x'>x</a>",
        '<form action="vbscript:x"></form>',
        '<p style="color:red">x</p>',
        "<br onload=x />",
    ):
        with pytest.raises(AssertionError):
            assert_inert(html)
    assert_inert('<p><a href="https://ok.example/" rel="nofollow">ok</a> &lt;script&gt;</p>')


# --- (b) the one sanitizer ----------------------------------------------------------------------


@fuzz(600)
@given(HTML)
def test_sanitize_html_leaves_nothing_that_runs_and_is_idempotent(untrusted: str) -> None:
    cleaned = sanitize_html(untrusted)
    assert_inert(cleaned)
    assert sanitize_html(cleaned) == cleaned


@fuzz(400)
@given(HTML | st.text(max_size=60))
def test_render_text_shows_any_text_inert(text: str) -> None:
    def resolve(name: str, host: str | None) -> str | None:
        # A resolver handing back a hostile URL must not make a link of it either.
        return "javascript:alert(1)" if name == "alice" and host is None else f"{PEER}/@{name}"

    for rendered in (
        render_text(text),
        render_text(text, resolve, lambda tag: f"/tags/{tag}"),
    ):
        assert_inert(rendered)
        assert sanitize_html(rendered) == rendered


# --- (c) the redirect after login ---------------------------------------------------------------

NEXT_PREFIXES = ["/", "//", "/\\", "\\", "/\t/", " /", "/%2f", "https:", "/.", "\x00/", "/\u3000/",
                 "/\n", "\\/", "/ /", "http://127.0.0.1:8000/", "javascript:"]  # fmt: skip


@fuzz(1500)
@given(
    st.text(max_size=40)
    | st.builds(str.__add__, st.sampled_from(NEXT_PREFIXES), st.text(max_size=20))
    | st.none()
    | st.integers()
    | st.lists(st.text(max_size=3), max_size=2)
)
def test_safe_next_always_stays_on_this_site(value: Any) -> None:
    target = safe_next(value)
    assert target.startswith("/")
    assert not target.startswith(("//", "/\\"))
    assert "\\" not in target
    assert target.isprintable()  # no tab, newline or other control character
    assert len(target) < 500
    # What a browser does with it, from the login page: the same scheme and host.
    parts = urlsplit(urljoin(f"{BASE}/login", target))
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000")
    if isinstance(value, str) and target != "/":
        assert target == value  # a local path is kept as it was


# --- (a) peer documents: the pure readers -------------------------------------------------------


@st.composite
def note(draw: st.DrawFn) -> dict[str, Any]:
    """A Note-like object: plausible fields (drawn more often), any of them hostile."""
    own_id = st.builds(lambda n: f"{MALLORY}/statuses/{n}", st.integers(0, 10**6))
    post_types = st.sampled_from(["Note", "Article", "Page", "Event", "Question"])
    return draw(
        st.fixed_dictionaries(
            {
                "id": weighted((3, own_id), (1, st.sampled_from(HOSTILE_STRINGS))),
                "type": weighted(
                    (6, post_types),
                    (1, st.lists(st.sampled_from(["Note", "Person", "Tombstone"]), max_size=2)),
                    (1, VALUES),
                ),
                # None (VALUES draws it) stands for a field left out.
                "attributedTo": weighted(
                    (3, st.sampled_from([MALLORY, [MALLORY, ALICE], ALICE])), (1, VALUES)
                ),
                "content": weighted((3, HTML), (1, VALUES)),
                "inReplyTo": weighted(
                    (3, st.sampled_from([LOCAL_POST, LOCAL_POST, SECRET_POST, ALICE_POST])),
                    (1, VALUES),
                ),
            },
            optional={
                "to": st.sampled_from([[AS_PUBLIC], [GROUP], [SECRET_GROUP], GROUP]) | VALUES,
                "cc": st.sampled_from([[GROUP], [SECRET_GROUP, GROUP]]) | VALUES,
                "audience": st.sampled_from([GROUP, SECRET_GROUP]) | VALUES,
                "tag": VALUES,
                "summary": HTML | VALUES,
                "sensitive": VALUES,
                "name": VALUES,
                "url": VALUES,
                "@context": st.sampled_from([CONTEXTS, CONTEXTS[0]]) | VALUES,
            },
        )
    )


REFERENCES = st.sampled_from(
    [MALLORY, ALICE, GROUP, SECRET_GROUP, LOCAL_POST, SECRET_POST, ALICE_POST, f"{BASE}/actor"]
)
HANDLED_TYPES = ["Create", "Update", "Delete", "Follow", "Undo", "Like", "Announce", "Accept",
                 "Reject", "Join", "Leave"]  # fmt: skip
OTHER_TYPES = ["Add", "Flag", "Block", "Move", "Tombstone"]


@st.composite
def embedded_activity(draw: st.DrawFn) -> dict[str, Any]:
    """An activity inside another (Undo of a Like, Announce of a Create, Accept of a Follow)."""
    own_id = st.builds(lambda n: f"{MALLORY}/activities/x{n}", st.integers(0, 99))
    return {
        "id": draw(weighted((3, own_id), (1, SCALARS))),
        "type": draw(st.sampled_from(HANDLED_TYPES) | SCALARS),
        "actor": draw(st.sampled_from([MALLORY, ALICE, f"{BASE}/users/owner"]) | SCALARS),
        "object": draw(note() | REFERENCES | VALUES),
    }


@st.composite
def activity(draw: st.DrawFn) -> dict[str, Any]:
    """An activity by Mallory (id and actor are set by the test), hostile in its other fields."""
    handled = st.sampled_from(HANDLED_TYPES)
    return draw(
        st.fixed_dictionaries(
            {
                "type": weighted(
                    (4, st.just("Create")),
                    (8, handled),
                    (1, st.sampled_from(OTHER_TYPES)),
                    (1, st.lists(handled, min_size=1, max_size=2)),
                    (1, VALUES),
                ),
                "object": weighted(
                    (4, note()), (2, embedded_activity()), (2, REFERENCES), (1, VALUES)
                ),
            },
            optional={
                "to": st.sampled_from([[AS_PUBLIC], [GROUP]]) | VALUES,
                "cc": VALUES,
                "tag": VALUES,
                "content": HTML | VALUES,
                "@context": st.just(CONTEXTS),
            },
        )
    )


def scrub(value: Any) -> Any:
    """Take out what parse_document refuses (NUL, lone surrogates, NaN, infinities).

    The shapes stay hostile; the door's refusal of these characters is fuzzed on its own.
    """
    if isinstance(value, str):
        return re.sub("[\x00\ud800-\udfff]", "?", value)
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


@fuzz(400)
@given(
    activity()
    | note()
    | VALUES
    | st.binary(max_size=200).map(lambda raw: ("raw", raw))
    | st.sampled_from([b"{" * 40 + b"}" * 40, b'{"a":' + b"1" * 5000 + b"}", b"\xff{}"]).map(
        lambda raw: ("raw", raw)
    )
)
def test_parse_document_raises_only_document_error_and_readers_keep_their_types(
    document: Any,
) -> None:
    body = document[1] if isinstance(document, tuple) else encode(document)
    try:
        parsed = parse_document(body)
    except DocumentError as exc:
        assert exc.message
        return
    assert isinstance(parsed, dict)
    # What parse_document lets through can be stored: json.dumps and PostgreSQL agree on it.
    text = json.dumps(parsed, allow_nan=False, ensure_ascii=False)  # no NaN, no infinity
    assert "\\u0000" not in text
    text.encode("utf-8")  # no lone surrogate
    for value in parsed.values():
        found = id_of(value)
        assert found is None or (isinstance(found, str) and fits_id(found))
        assert all(isinstance(i, str) and fits_id(i) for i in ids_of(value))
        assert isinstance(text_of(value, 10), str) and len(text_of(value, 10)) <= 10
        if isinstance(value, dict):
            assert all(isinstance(t, str) for t in types_of(value))
    assert isinstance(first_type(parsed), str)


ACTOR = {
    "@context": ["https://www.w3.org/ns/activitystreams", "http://127.0.0.1:1/evil"],
    "id": MALLORY,
    "type": "Person",
    "preferredUsername": "mallory",
    "name": "Mallory",
    "summary": "<p>Hello</p>",
    "inbox": f"{MALLORY}/inbox",
    "outbox": f"{MALLORY}/outbox",
    "followers": f"{MALLORY}/followers",
    "endpoints": {"sharedInbox": f"{PEER}/inbox"},
    "icon": {"type": "Image", "url": f"{PEER}/avatar.png"},
    "url": f"{PEER}/@mallory",
    "publicKey": {"id": f"{MALLORY}#main-key", "owner": MALLORY, "publicKeyPem": "PEM"},
}


@fuzz(500)
@given(
    st.dictionaries(
        st.sampled_from(sorted(ACTOR)) | st.text(max_size=6),
        VALUES | HTML | st.sampled_from([f"{PEER}/x", f"{ALICE}/inbox", "http://10.0.0.1/"]),
        max_size=5,
    ),
    st.lists(st.sampled_from(sorted(ACTOR)), max_size=3),
)
def test_parse_actor_keeps_only_what_is_safe_or_refuses(
    changes: dict[str, Any], removed: list[str]
) -> None:
    document = {k: v for k, v in ACTOR.items() if k not in removed} | changes
    try:
        parsed = parse_document(encode(document))
        data = parse_actor(parsed)
    except (DocumentError, FetchError):
        return
    host = urlsplit(data.uri).netloc.lower()
    assert data.domain == host and fits_id(data.uri)
    assert urlsplit(data.inbox).netloc.lower() == host and fits_id(data.inbox)
    assert urlsplit(data.key_id).netloc.lower() == host and fits_id(data.key_id)
    assert data.shared_inbox is None or fits_id(data.shared_inbox)
    assert data.avatar is None or data.avatar.startswith("https://")
    assert data.kind in ("person", "group", "application")
    assert 0 < len(data.name) <= 100 and len(data.display_name) <= 200
    assert_inert(data.summary_html)
    assert isinstance(data.public_key_pem, str)


# --- (a) the inbox and the processing of what it stores, in-process -----------------------------


CONTENT_TYPES = ["application/activity+json", "application/ld+json; profile=x", "text/html", ""]


@fuzz(200)
@given(
    body=VALUES.map(encode)
    | activity().map(encode)
    | st.binary(max_size=100)
    | st.just(b"{" + b" " * MAX_BODY + b"}"),
    content_type=st.sampled_from(CONTENT_TYPES),
    signature=st.none() | st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=30),
)
async def test_unsigned_or_badly_signed_posts_are_refused_before_anything_is_stored(
    stage: Stage, body: bytes, content_type: str, signature: str | None
) -> None:
    headers = {"Content-Type": content_type, "Host": "127.0.0.1:8000"}
    headers["Content-Length"] = str(len(body))
    if signature is not None:
        headers["Signature"] = signature.encode("latin-1", "replace").decode("latin-1")
    before = await snapshot(stage.db)
    reply = await receive(stage.fed, inbox_request(body, headers))
    assert reply.status in (400, 401, 413, 415), reply
    assert reply.message
    assert await snapshot(stage.db) == before


# Most activities come from Mallory as the inbox requires, without the characters the door
# refuses; some hold such a character or number, some lie about their id or actor.
ENVELOPES = ["valid", "valid", "valid", "valid", "unstorable", "hostile id", "hostile actor"]
UNSTORABLE = st.sampled_from(["a\x00b", "\x00", "\ud800", "x\udfff", math.nan, math.inf, -math.inf])


@fuzz(200)
@given(activity(), st.sampled_from(ENVELOPES), st.data())
async def test_signed_hostile_activities_are_answered_processed_and_store_nothing_invalid(
    stage: Stage, drawn: dict[str, Any], envelope: str, data: st.DataObject
) -> None:
    # Mallory may have deleted herself or changed her key in an earlier example: reset her.
    await inbound.store_remote_actor(stage.db, stage.mallory)
    fixed = await stage.fixed_rows()
    document = stage.resolve(scrub(drawn))
    document["id"] = f"{MALLORY}/activities/{next(stage.counter)}"
    document["actor"] = MALLORY
    if envelope == "unstorable":
        # Somewhere in the activity or its object, a value PostgreSQL cannot keep.
        inner = document.get("object")
        target = inner if isinstance(inner, dict) and data.draw(st.booleans()) else document
        key = data.draw(st.sampled_from(["content", "summary", "name", "tag", "x\x00", "\ud800"]))
        target[key] = data.draw(UNSTORABLE)
    elif envelope == "hostile id":
        document["id"] = data.draw(VALUES)
    elif envelope == "hostile actor":
        document["actor"] = stage.resolve(data.draw(VALUES | REFERENCES))
    reply = await send_as_mallory(stage, document)

    assert reply.status in (202, 400, 401), reply
    if envelope == "valid":
        assert reply.status in (202, 400), reply
    if envelope == "unstorable":
        assert reply.status == 400, reply  # refused at the door, before anything is stored
    if reply.status == 202:
        row_id = await stored_row(stage, document["id"])
        assert row_id is not None
        outcome = await process_activity(stage.fed, row_id)  # raises nothing
        assert isinstance(outcome, str) and outcome
        event(f"processed: {re.sub(r'[0-9]+', 'N', outcome)[:40]}")  # --hypothesis-show-statistics
    else:
        event(f"refused with {reply.status}: {reply.message[:40]}")
    await assert_nothing_invalid_stored(stage, fixed)


# --- (a) the same, over HTTP: hostile addresses and form fields on every page -------------------

SEGMENTS = [
    "%00", "a%00b", "%C2%B2", "%D9%A3", "9" * 40, "999999999999999999", "..", "%2e%2e",
    "..%2f..%2fsecret_key", "alice", "voisins", "instance", "%C3%A9mile", "%0d%0aX:y", "-1",
    "acct:a%00b@127.0.0.1:8000", "acct:..%2f..%2fetc@127.0.0.1:8000", "acct:@127.0.0.1:8000",
]  # fmt: skip
PATHS = [
    "/users/{}", "/groups/{}", "/groups/{}/members", "/posts/{}", "/posts/{}/edit", "/@{}",
    "/tags/{}", "/media/avatars/{}", "/users/{}/outbox?page=true&max_id={}",
    "/users/alice/followers?page={}", "/groups/voisins?before={}", "/groups/{}/followers?page=2",
    "/.well-known/webfinger?resource={}", "/nodeinfo/{}", "/login?next={}", "/posts/{}/activity",
    "/events/{}", "/events/{}/edit", "/events/{}/participants.csv", "/groups/{}/events",
    "/events/{}/{}/x",
]  # fmt: skip


SEGMENT = st.sampled_from(SEGMENTS) | st.text(max_size=12).map(lambda s: quote(s, safe=""))


@fuzz(300)
@given(
    st.sampled_from(PATHS),
    st.lists(SEGMENT, min_size=2, max_size=2),
    st.sampled_from(["text/html", "application/activity+json"]),
)
async def test_hostile_addresses_are_answered_without_a_server_error(
    app: Starlette, visitors: OpenVisitor, db: Pool, web_config: Config, path: str,
    segments: list[str], accept: str,
) -> None:  # fmt: skip
    if not await _has(db, "alice"):
        owner = await make_account(db, web_config, "alice")
        await make_post(db, web_config, await make_group(db, web_config, owner, "voisins"), owner)
    visitor = visitors()
    try:
        response = await visitor.get(path.format(*segments), headers={"accept": accept})
    finally:
        await visitor.aclose()
    assert response.status_code < 500, (path, segments, response.status_code)
    if "webfinger" in path:
        assert response.status_code in (200, 404)
        assert response.headers["content-type"].startswith("application/")


async def _has(db: Pool, name: str) -> bool:
    async with db.acquire() as conn:
        return bool(await conn.fetchval("SELECT 1 FROM actors WHERE name = $1", name))


# A browser cannot send half a UTF-16 pair: the form values leave those out.
FIELD_STRINGS = [s for s in HOSTILE_STRINGS if not re.search("[\ud800-\udfff]", s)]
HOSTILE_FIELD_VALUES = weighted(
    (1, st.sampled_from(["\x00", "a\x00b"])),
    (3, st.sampled_from([*FIELD_STRINGS, "\u00b2", "\u0663", "9" * 30, "x" * 6000])),
    (2, st.text(max_size=15)),
)


@pytest.fixture
async def form_world(start_app: Any, visitors: OpenVisitor, db: Pool, web_config: Config) -> Any:
    app = await start_app()
    world = await build_world(db, web_config, visitors, app)
    routes = [(t, r) for t, r in browser_post_routes(app) if t not in LAST]
    return world, routes


@fuzz(200)
@given(st.data())
async def test_every_form_answers_hostile_fields_without_a_server_error(
    form_world: Any, data: st.DataObject
) -> None:
    world, routes = form_world
    template, _route = data.draw(st.sampled_from(routes))
    fields = dict(FORM_FIELDS)
    for name in [*sorted(FORM_FIELDS), "username", "next"]:
        if data.draw(st.booleans()):
            fields[name] = data.draw(HOSTILE_FIELD_VALUES)
    path = fill(template, world.params.get(template, world.params["*"]))
    response = await world.admin.post(path, fields)
    assert response.status_code < 500, (template, fields, response.status_code)
