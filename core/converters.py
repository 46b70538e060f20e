"""URL path converters: a part of a path that is not of the expected shape never reaches a view.

`token` is where a secret goes (`secrets.token_urlsafe`). A control character (a NUL, which
PostgreSQL cannot even compare, a newline) or more than 256 characters there is simply no such
page (404); any other wrong token still reaches its view, which says why the link doesn't work.
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import get_converters


class TokenConverter:
    """Up to 256 printable characters, no slash."""

    regex = r"[^/\x00-\x1f\x7f]{1,256}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    """Make `<token:...>` usable in URL patterns (idempotent)."""
    if "token" not in get_converters():
        register_converter(TokenConverter, "token")
