"""A small HTML tree built with the standard library's parser, to assert on pages as a browser
sees them (elements and attributes) rather than on raw strings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that never have a closing tag (HTML Living Standard §13.1.2).
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
# Attributes that hold a URL a browser may navigate to or load.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href"}
)
_DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)
# Browsers drop ASCII tab and newline anywhere in a URL and trim C0 controls and spaces.
_URL_NOISE = re.compile(r"[\x00-\x20]")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    # Every attribute as written, repeats included (html.parser lowercases the names).
    attr_list: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the text inside, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def iter(self) -> Iterator[Element]:
        """Yield this element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Return the elements with this tag (any if None) whose attributes have these values."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        """Return the single element that matches, or fail naming what was looked for."""
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag or '*'} {attrs}>, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, list(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}, list(attrs)))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open element; a stray end tag is ignored, as browsers do.
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """Parse a page into a tree whose root holds the whole document."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def field_value(page: Element, name: str) -> str:
    """Return what a form field shows: an input's value or a textarea's text."""
    element = page.find("input", name=name) or page.find("textarea", name=name)
    assert element is not None, f"no field named {name!r}"
    if element.tag == "textarea":
        return "".join(c for c in element.children if isinstance(c, str)).removeprefix("\n")
    return element.attrs.get("value", "")


def field_error(page: Element, name: str) -> str | None:
    """Return the error shown next to a field (the element its aria-describedby names)."""
    element = page.find("input", name=name) or page.find("textarea", name=name)
    element = element or page.find("select", name=name)
    assert element is not None, f"no field named {name!r}"
    # aria-describedby may name a hint too: the error is the one of class "error".
    for described_by in element.attrs.get("aria-describedby", "").split():
        described = page.one(id=described_by)
        if "error" in described.attrs.get("class", "").split():
            assert element.attrs.get("aria-invalid") == "true"
            return described.text
    return None


def executable_markup(page: Element) -> list[str]:
    """List what in the page a browser could run: scripts, event handlers, script URLs."""
    found = []
    for element in page.iter():
        if element.tag in ("script", "iframe", "object", "embed", "base", "svg", "math"):
            found.append(f"<{element.tag}> element")
        for name, value in element.attr_list:
            if name.startswith("on"):
                found.append(f"{name}= attribute on <{element.tag}>")
            if (
                name in URL_ATTRIBUTES
                and value
                and _DANGEROUS_SCHEME.match(_URL_NOISE.sub("", value))
            ):
                found.append(f'{name}="{value}" on <{element.tag}>')
            if name == "http-equiv" and value and value.lower() == "refresh":
                found.append(f"<meta http-equiv=refresh> on <{element.tag}>")
    return found
