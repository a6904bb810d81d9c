"""The one module that turns text into HTML and cleans HTML: every page and peer gets it from here.

Allowlist compatible with what Mastodon sends (paragraphs, line breaks, links, mention and
hashtag spans: app/lib/sanitize_config.rb in Mastodon) plus basic emphasis and lists.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, MutableMapping
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "span", "strong", "em", "b", "i", "u", "del", "code", "pre",
     "blockquote", "ul", "ol", "li"}
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Mastodon keeps only these classes (microformats and its own mention/hashtag markers).
ALLOWED_CLASSES = frozenset(
    {"h-card", "u-url", "mention", "hashtag", "invisible", "ellipsis", "e-content"}
)


def _filter_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a" and name == "href":
        return True  # the protocol allowlist applies to href
    if tag == "a" and name == "rel":
        return True
    return name == "class" and tag in ("a", "span")


def _keep_known_classes(html_text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        kept = [c for c in match.group(1).split() if c in ALLOWED_CLASSES]
        return f' class="{" ".join(kept)}"' if kept else ""

    return re.sub(r' class="([^"]*)"', repl, html_text)


def _set_link_attributes(
    attrs: MutableMapping[tuple[str | None, str], str], new: bool = False
) -> MutableMapping[tuple[str | None, str], str]:
    # Links written by people lead away from the instance: no referrer, no ranking credit.
    attrs[(None, "rel")] = "nofollow noopener noreferrer ugc"
    return attrs


# Cleaning and linkifying in one pass: the callback also sets `rel` on links already present.
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_filter_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_attributes], skip_tags={"pre", "code"})],
)

# @name or @name@host, not preceded by a word character (so e-mail addresses are left alone).
MENTION = re.compile(
    r"(?<![\w@/])@([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?))?"
)
# #word, not inside an HTML entity (&#39;) or a URL fragment.
HASHTAG = re.compile(r"(?<![\w&#/])#(\w{1,60})")

MentionResolver = Callable[[str, str | None], str | None]


def sanitize_html(untrusted: str) -> str:
    """Clean HTML from a peer or a person down to the allowlist."""
    cleaned: str = _cleaner.clean(untrusted)
    return _keep_known_classes(cleaned)


def render_text(
    text: str,
    resolve_mention: MentionResolver | None = None,
    tag_url: Callable[[str], str] | None = None,
) -> str:
    """Turn plain text into safe HTML: paragraphs, line breaks, links, mentions, hashtags."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    parts = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph.strip(), quote=True)
        if resolve_mention is not None:
            escaped = MENTION.sub(lambda m: _mention(m, resolve_mention), escaped)
        if tag_url is not None:
            escaped = HASHTAG.sub(lambda m: _hashtag(m, tag_url), escaped)
        parts.append("<p>" + escaped.replace("\n", "<br>") + "</p>")
    return sanitize_html("".join(parts))


def _mention(match: re.Match[str], resolve: MentionResolver) -> str:
    url = resolve(match.group(1), match.group(2))
    if url is None:
        return match.group(0)
    return (
        f'<span class="h-card"><a href="{html.escape(url)}" class="u-url mention">'
        f"@<span>{match.group(1)}</span></a></span>"
    )


def _hashtag(match: re.Match[str], tag_url: Callable[[str], str]) -> str:
    tag = match.group(1)
    return (
        f'<a href="{html.escape(tag_url(tag.lower()))}" class="mention hashtag" rel="tag">'
        f"#<span>{tag}</span></a>"
    )


def find_hashtags(text: str) -> list[str]:
    """Return the hashtags of a text, lower-cased, in order, without repeats."""
    return list(dict.fromkeys(m.group(1).lower() for m in HASHTAG.finditer(html.escape(text))))


def find_mentions(text: str) -> list[tuple[str, str | None]]:
    """Return the (name, host) pairs mentioned in a text, in order, without repeats."""
    seen: dict[tuple[str, str | None], None] = {}
    for m in MENTION.finditer(text):
        seen[(m.group(1).lower(), m.group(2).lower() if m.group(2) else None)] = None
    return list(seen)
