"""Names and handles are kept without characters that reorder or hide the text around them."""

from __future__ import annotations

import pytest

from server.names import clean_display_name, clean_handle


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("\u202eAlice", "Alice"),  # right-to-left override
        ("Bob\u2066 evil\u2069", "Bob evil"),  # isolates
        ("Chl\u200boé\u2060", "Chloé"),  # zero-width space, word joiner
        ("\ufeffDan\u00ad", "Dan"),  # byte order mark, soft hyphen
        ("\u200e\u200f\u061cEve", "Eve"),  # marks
        ("  Fanny \n Martin  ", "Fanny Martin"),
        ("\u200dGus\u200d", "Gus"),  # joiners at the edges hide nothing useful
    ],
)
def test_display_name_loses_bidi_controls_and_invisible_characters(given: str, kept: str) -> None:
    assert clean_display_name(given) == kept


@pytest.mark.parametrize(
    "name",
    [
        "\U0001f469\u200d\U0001f469\u200d\U0001f467 Famille",  # an emoji sequence joins with ZWJ
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian needs ZWNJ between letters
        "\u05e9\u05dc\u05d5\u05dd",  # right-to-left letters stay: only controls go
    ],
)
def test_display_name_keeps_joiners_between_letters_and_rtl_scripts(name: str) -> None:
    assert clean_display_name(name) == name


def test_handle_loses_every_format_and_control_character() -> None:
    assert clean_handle("ali\u200dce\u202e\u0007") == "alice"
