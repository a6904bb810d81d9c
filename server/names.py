"""Names and handles as they are kept: no character that reorders or hides the text around it.

A display name holding U+202E (right-to-left override) would reverse the author and instance
shown next to it on a page (Unicode TR #36 §2.1, "bidirectional text spoofing"). Pages also
isolate every name in `<bdi>`; stripping here keeps the stored names honest for every reader.
"""

from __future__ import annotations

import unicodedata

# Embeddings, overrides, isolates and marks (UAX #9 §2): they steer the text after them.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Joiners shape Persian, Indic scripts and emoji sequences (👩‍👩‍👧): kept between two visible
# characters, dropped anywhere else, where they can only hide or pad a name.
JOINERS = frozenset("\u200c\u200d")


def clean_display_name(text: str) -> str:
    """Return a display name without bidi controls and invisible format characters."""
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in BIDI_CONTROLS:
            continue
        if char in JOINERS:
            before = kept[-1] if kept else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if _visible(before) and _visible(after):
                kept.append(char)
            continue
        if unicodedata.category(char) == "Cf":
            continue  # zero-width space, word joiner, BOM, soft hyphen, tags…
        kept.append(char)
    return " ".join("".join(kept).split())


def clean_handle(text: str) -> str:
    """Return a handle (preferredUsername) without any format or control character."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc", "Zl", "Zp"))


def _visible(char: str) -> bool:
    return bool(char) and not char.isspace() and unicodedata.category(char) not in ("Cf", "Cc")
