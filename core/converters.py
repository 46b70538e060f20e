"""URL path converters: a part of a path that is not of the expected shape never reaches a view.

`token` is a URL-safe secret (`secrets.token_urlsafe`): anything else in its place — a NUL, which
PostgreSQL cannot even compare, a newline, 5,000 characters — is simply no such page (404).
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import get_converters


class TokenConverter:
    """A URL-safe token of 8–128 characters."""

    regex = r"[A-Za-z0-9_-]{8,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    """Make `<token:...>` usable in URL patterns (idempotent)."""
    if "token" not in get_converters():
        register_converter(TokenConverter, "token")
