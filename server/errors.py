"""The domain errors: each carries a message safe to show a person or a peer.

Messages are English sentences; the web layer translates them. Statuses are mapped in one place
(`STATUS`), used by both the web pages and the ActivityPub endpoints.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the family; `message` is shown to the client as is (after translation)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class Gone(DomainError):
    """It existed and was deleted: peers must forget it (they do on 410, never on 404)."""

    status = 410


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    status = 429


class Phrase(str):
    """A message with numbers in it: reads as its English text, translates by its template.

    `Phrase("{n} characters at most.", n=5000)` is "5,000 characters at most." in English; the
    web layer looks the template up in the catalog and formats the numbers for the reader.
    """

    template: str
    params: dict[str, int]

    def __new__(cls, template: str, **params: int) -> Phrase:
        text = template.format(**{k: f"{v:,}" for k, v in params.items()})
        phrase = super().__new__(cls, text)
        phrase.template = template
        phrase.params = params
        return phrase


class Invalid(DomainError):
    """Bad input; `fields` maps a form field to the message shown next to it."""

    status = 422

    def __init__(
        self, fields: dict[str, str], message: str = "Please correct the errors below."
    ) -> None:
        super().__init__(message)
        self.fields = fields
