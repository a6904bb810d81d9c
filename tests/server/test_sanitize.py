"""Text to HTML and HTML cleaning: paragraphs, links, mentions, and nothing that runs."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from server.sanitize import ALLOWED_TAGS, find_mentions, render_text, sanitize_html

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="https://ok.example" onclick="alert(1)" onmouseover="alert(2)">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mtext></math>",
    "<!--<script>alert(1)</script>-->",
    '<span class="mention" onfocus="alert(1)" autofocus tabindex=1>x</span>',
    "javascript:alert(1)",
    'https://ok.example/"onmouseover="alert(1)',
    "<<script>script>alert(1)<</script>/script>",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)


def parse(html_text: str) -> _Collector:
    collector = _Collector()
    collector.feed(html_text)
    collector.close()
    return collector


def assert_harmless(html_text: str) -> None:
    """Fail if the HTML holds a tag outside the allowlist, an on* handler or a script URL."""
    parsed = parse(html_text)
    assert set(parsed.tags) <= ALLOWED_TAGS, html_text
    for tag, name, value in parsed.attrs:
        assert not name.startswith("on"), html_text
        assert name in ("href", "rel", "class"), html_text
        if name == "href":
            scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
            assert scheme in ("", "http", "https", "mailto"), html_text
            assert tag == "a"
    assert "<script" not in html_text.lower()


def links(html_text: str) -> list[str]:
    return [value for tag, name, value in parse(html_text).attrs if name == "href"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sanitize_html_removes_scripts_handlers_and_script_urls(attack: str) -> None:
    assert_harmless(sanitize_html(attack))


@pytest.mark.parametrize("attack", ATTACKS)
def test_render_text_shows_markup_as_text_and_never_as_html(attack: str) -> None:
    out = render_text(attack)
    assert_harmless(out)
    assert parse(out).tags[0] == "p"


@pytest.mark.parametrize("attack", ATTACKS)
def test_render_text_with_mentions_stays_harmless(attack: str) -> None:
    out = render_text(
        f"@alice {attack} @bob@remote.example", lambda n, h: f"https://x.example/@{n}"
    )
    assert_harmless(out)


def test_render_text_drops_script_url_returned_by_mention_resolver() -> None:
    out = render_text("hello @alice", lambda name, host: "javascript:alert(1)")
    assert_harmless(out)
    assert "javascript" not in out


def test_render_text_splits_paragraphs_and_line_breaks() -> None:
    out = render_text("first line\nsecond line\r\n\r\n\n  second paragraph  \n\n")
    assert out == "<p>first line<br>second line</p><p>second paragraph</p>"


def test_render_text_of_blank_text_is_empty() -> None:
    assert render_text("  \n\n  ") == ""


def test_render_text_escapes_markup() -> None:
    assert render_text("1 < 2 & <b>bold</b>") == "<p>1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;</p>"


def test_render_text_links_urls_with_nofollow() -> None:
    out = render_text("see https://example.org/page?a=1&b=2 for details")
    assert links(out) == ["https://example.org/page?a=1&b=2"]
    assert 'rel="nofollow noopener noreferrer ugc"' in out


def test_render_text_links_mentions_through_the_resolver() -> None:
    seen: list[tuple[str, str | None]] = []

    def resolve(name: str, host: str | None) -> str | None:
        seen.append((name, host))
        return None if name == "nobody" else f"https://{host or 'here.example'}/@{name}"

    out = render_text("hi @alice and @bob@remote.example, not @nobody", resolve)
    assert seen == [("alice", None), ("bob", "remote.example"), ("nobody", None)]
    assert links(out) == ["https://here.example/@alice", "https://remote.example/@bob"]
    assert '<span class="h-card"><a href="https://here.example/@alice"' in out
    assert 'class="u-url mention"' in out
    assert "@nobody" in out
    assert_harmless(out)


def test_render_text_leaves_email_addresses_out_of_mentions() -> None:
    out = render_text("write to alice@example.org", lambda n, h: f"https://x.example/@{n}")
    assert "mention" not in out


def test_sanitize_html_keeps_mastodon_mentions_and_drops_unknown_classes() -> None:
    mastodon = (
        '<p><span class="h-card"><a href="https://m.example/@a" class="u-url mention evil">'
        '@<span>a</span></a></span> hello <span class="invisible big">x</span></p>'
    )
    out = sanitize_html(mastodon)
    assert 'class="u-url mention"' in out
    assert 'class="invisible"' in out
    assert "evil" not in out
    assert "big" not in out


def test_sanitize_html_keeps_allowed_formatting() -> None:
    out = sanitize_html("<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul><h1>d</h1>")
    assert out.startswith("<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul>")
    assert "h1" not in out
    assert out.rstrip().endswith("d")


def test_find_mentions_returns_each_name_once_in_order() -> None:
    text = "@Alice @bob@Remote.Example hi @alice and mail@example.org"
    assert find_mentions(text) == [("alice", None), ("bob", "remote.example")]
