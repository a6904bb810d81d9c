"""Every sentence a person can see has a French translation in web/locales/fr.po.

The sentences are found in the source itself: `_()` and `ngettext()` in the templates, and the
messages of domain errors and field checks in server/ and web/ (found with `ast`, so a message
split over lines or passed as a keyword is found too). A new untranslated sentence fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from web.i18n import LOCALES_DIR, Translator, negotiate_language

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "web" / "templates"
PO_FILE = LOCALES_DIR / "fr.po"

# A Jinja string literal, either quote, with escapes.
_STRING = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
GETTEXT_CALL = re.compile(r"(?<![\w.])_\(\s*" + _STRING)
NGETTEXT_CALL = re.compile(r"(?<![\w.])ngettext\(\s*" + _STRING + r"\s*,\s*" + _STRING)
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _literal(token: str) -> str:
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def template_messages() -> dict[str, str]:
    """Return each msgid used in a template, with the first place it is used."""
    found: dict[str, str] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for match in GETTEXT_CALL.finditer(text):
            found.setdefault(_literal(match.group(1)), path.name)
        for match in NGETTEXT_CALL.finditer(text):
            found.setdefault(_literal(match.group(1)), path.name)
            found.setdefault(_literal(match.group(2)), path.name)
    return found


def _error_classes() -> set[str]:
    tree = ast.parse((ROOT / "server" / "errors.py").read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def _strings(node: ast.AST | None, *, dict_values_only: bool = True) -> Iterator[str]:
    """Yield the string constants an expression can evaluate to (dict values, both branches)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def python_messages() -> dict[str, str]:
    """Return the messages of domain errors and field checks in server/ and web/."""
    errors = _error_classes()
    found: dict[str, str] = {}
    files = sorted((ROOT / "server").rglob("*.py")) + sorted((ROOT / "web").rglob("*.py"))
    for path in files:
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "Phrase":
                # Phrase("{n} characters at most.", n=...): the template is the message.
                for text in _strings(node.args[0] if node.args else None):
                    found.setdefault(text, where)
            elif isinstance(node, ast.Call) and _call_name(node) in errors:
                # Raise Invalid({"field": "message"}) / NotFound("message") / message=...
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    for text in _strings(arg):
                        found.setdefault(text, where)
            elif isinstance(node, ast.Call) and _call_name(node) == "collect":
                # v.collect(field=check(...) or "message"): the literal branches are messages.
                for keyword in node.keywords:
                    for text in _strings(keyword.value):
                        found.setdefault(text, where)
            elif isinstance(node, ast.FunctionDef) and (
                node.name.startswith("check_") or path.name == "errors.py"
            ):
                # Field checks return their message; error classes default theirs.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return):
                        for text in _strings(inner.value):
                            found.setdefault(text, where)
                for default in [*node.args.defaults, *node.args.kw_defaults]:
                    for text in _strings(default):
                        found.setdefault(text, where)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and path.parts[-2:] != (
                "server",
                "config.py",
            ):
                # Messages prepared for an error page: `message = "..."`, `_HTTP_MESSAGES = {...}`.
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if any(n == "message" or n.endswith("MESSAGES") for n in names):
                    for text in _strings(node.value):
                        found.setdefault(text, where)
    return found


def setting_messages() -> dict[str, str]:
    """Return the descriptions of the settings, shown on the administration's page."""
    from server.config import SETTINGS

    return {s.help: "server/config.py" for s in SETTINGS}


def french_catalog() -> dict[str, str]:
    with PO_FILE.open("rb") as f:
        catalog = read_po(f, locale="fr")
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_the_extraction_finds_known_sentences() -> None:
    # Guards the regexes and the AST walk: if they found nothing, the tests below would pass.
    templates = template_messages()
    assert {"Log in", "Skip to content", "{n} member", "{n} members"} <= set(templates)
    python = python_messages()
    assert {
        "Wrong username or password.",  # Invalid({...}) in a service
        "Registrations are closed on this instance.",  # Forbidden("...")
        "{n} characters at most.",  # a Phrase returned by a check_ function
        "Your group is ready. Invite people, or write its first post.",  # FLASH_MESSAGES
        "Choose one of the options.",  # a literal branch inside collect()
        "This page does not accept this kind of request.",  # _HTTP_MESSAGES in web/errors.py
        "This form has expired. Go back, reload the page and try again.",  # message = "..."
        "Please correct the errors below.",  # Invalid's default message
        "Send a PNG, JPEG, GIF or WebP image.",  # Invalid raised in a web handler
    } <= set(python)
    assert len(templates) > 80 and len(python) > 40


def test_every_template_message_is_translated() -> None:
    catalog = french_catalog()
    missing = {m: where for m, where in template_messages().items() if not catalog.get(m)}
    assert missing == {}, "add these to web/locales/fr.po"


def test_every_error_message_is_translated() -> None:
    catalog = french_catalog()
    missing = {m: where for m, where in python_messages().items() if not catalog.get(m)}
    assert missing == {}, "add these to web/locales/fr.po"


def test_every_setting_description_is_translated() -> None:
    catalog = french_catalog()
    missing = {m: where for m, where in setting_messages().items() if not catalog.get(m)}
    assert missing == {}, "add these to web/locales/fr.po"


def test_numbers_in_messages_are_written_the_readers_way() -> None:
    from server.errors import Phrase

    message = Phrase("{n} characters at most.", n=5000)
    assert str(message) == "5,000 characters at most."
    assert Translator("en").gettext(message) == "5,000 characters at most."
    assert Translator("fr").gettext(message) == "5\u202f000 caractères au maximum."


def test_french_puts_a_non_breaking_space_before_double_punctuation() -> None:
    # French typography: "Avertissement :" with a space that never breaks the line before ":".
    bad = {
        msgstr
        for msgstr in french_catalog().values()
        if re.search(r"(?<![\u00a0\u202f])[:;?!](?=\s|$)", msgstr)
    }
    assert bad == set()


def test_translations_keep_the_placeholders() -> None:
    wrong = {
        msgid: msgstr
        for msgid, msgstr in french_catalog().items()
        if msgstr and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    }
    assert wrong == {}


def test_catalog_has_no_fuzzy_or_duplicate_entries() -> None:
    with PO_FILE.open("rb") as f:
        catalog = read_po(f, locale="fr")
    fuzzy = [str(m.id) for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    msgids = re.findall(r'^msgid "(.+)"$', PO_FILE.read_text(), flags=re.MULTILINE)
    assert len(msgids) == len(set(msgids))


def test_translator_fills_placeholders_and_falls_back_to_english() -> None:
    french = Translator("fr")
    assert french.gettext("Log in") == "Se connecter"
    assert french.gettext("A sentence nobody translated") == "A sentence nobody translated"
    # French counts 0 and 1 as singular; English only 1.
    assert french.ngettext("{n} member", "{n} members", 0) == "0 membre"
    assert french.ngettext("{n} member", "{n} members", 2) == "2 membres"
    assert Translator("en").ngettext("{n} member", "{n} members", 0) == "0 members"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,de;q=0.9", "xx"),
        ("fr;q=0.2,en;q=0.8", "en"),
        ("fr;q=abc,en;q=0.1", "en"),
        ("", "xx"),
        ("*", "xx"),
    ],
)
def test_language_negotiation(header: str, expected: str) -> None:
    assert negotiate_language(header, "xx") == expected
