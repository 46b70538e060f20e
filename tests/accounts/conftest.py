"""Fixtures for the accounts tests: fresh rate-limit counters, and the links our mails carry."""

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts from zero: its rate-limit counters live under a cache prefix of its own."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


def link_in_mail(path_start: str, message=None) -> str:
    """The path of the first link in the mail (the last sent, by default) that starts with `path_start`."""
    message = message or mail.outbox[-1]
    match = re.search(re.escape(path_start) + r"[^\s\"<>]*", message.body)
    assert match, f"no {path_start} link in {message.body!r}"
    return match.group(0)


def query_value(link: str, name: str) -> str:
    """One query parameter of a link, decoded."""
    return parse_qs(urlsplit(link).query)[name][0]
