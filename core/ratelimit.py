"""Rate limits: how often one person or one network address may do something, and the 429 page.

Every limit is a scope named in `settings.RATE_LIMITS` (`"invitations-person": "20/h"`: a count
per period of s, m, h or d, optionally with a multiple, `"20/15m"`), counted by django-ratelimit
in the default cache (shared by every process when REDIS_URL is set; per process otherwise).
Two ways to apply one:

- `@limit("uploads-person", key=person_of)` on a view: every request with one of its methods
  counts, and the one past the limit is refused;
- `spend(request, "sign-up-address", key=email)` inside a view once the input is valid, for
  limits that should count only real attempts (a mistyped form costs nothing).

Both refuse by raising `TooManyRequests`; django-ratelimit's middleware hands it to
`too_many_requests` (settings.RATELIMIT_VIEW), which answers 429 with a page and Retry-After.
Keys are plain strings: `ip_of(request)` (the client's address, read behind the trusted proxies;
IPv6 by its /64) and `person_of(request)` (the signed-in person, or the address when anonymous).
`client_ip` is also the address django-axes locks sign-ins by (AXES_CLIENT_IP_CALLABLE).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited


class TooManyRequests(Ratelimited):
    """A limit was reached; `retry_after` is how many seconds until it lifts."""

    def __init__(self, retry_after: int = 60):
        super().__init__("Too many requests")
        self.retry_after = max(1, retry_after)


def client_ip(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the one the outermost saw.

    Each proxy appends the address it received the request from to CLIENT_IP_HEADER, so the
    client's address is that many entries from the right; whatever the client wrote on the
    left is ignored. A request with fewer entries did not come through the proxies.
    """
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 (a key, never bound)
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
    hops = [hop.strip() for hop in request.META.get(header, "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def ip_of(request: HttpRequest) -> str:
    """The client's address as a rate-limit key; an IPv6 client by its /64, which one holder gets whole."""
    address = ipaddress.ip_address(client_ip(request))
    if address.version == 6:
        return "ip:" + str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return f"ip:{address}"


def person_of(request: HttpRequest) -> str:
    """The signed-in person as a rate-limit key, or the client's address when nobody is signed in."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return ip_of(request)


def _rate(scope: str) -> str:
    try:
        return settings.RATE_LIMITS[scope]
    except KeyError:
        raise ImproperlyConfigured(f"No rate for “{scope}” in settings.RATE_LIMITS.") from None


def _usage(request: HttpRequest, scope: str, key: str, *, increment: bool, rate: str = "") -> dict | None:
    return get_usage(request, group=scope, key=lambda _group, _request: key, rate=rate or _rate(scope),
                     increment=increment)


RATE = re.compile(r"[1-9][0-9]{0,8}/(?:[1-9][0-9]{0,3})?[smhd]")


def is_rate(text: str) -> bool:
    """True for a rate as the limits are written: a count per period, e.g. 600/m or 20/15m."""
    return bool(RATE.fullmatch(text or ""))


def spend(request: HttpRequest, scope: str, key: str, *, rate: str = "") -> None:
    """Count one use of `scope` by `key`; raise TooManyRequests when that goes past the limit.

    `rate` replaces the scope's rate from settings for this key (a limit set on one API token).
    """
    usage = _usage(request, scope, key, increment=True, rate=rate)
    if usage and usage["should_limit"]:
        raise TooManyRequests(usage["time_left"])


def tally(request: HttpRequest, scope: str, key: str) -> None:
    """Count one use of `scope` by `key` without refusing this one (a failure already answered)."""
    _usage(request, scope, key, increment=True)


def check(request: HttpRequest, scope: str, key: str) -> None:
    """Raise TooManyRequests when `key` has used up `scope`, counting nothing."""
    usage = _usage(request, scope, key, increment=False)
    if usage and usage["count"] >= usage["limit"]:
        raise TooManyRequests(usage["time_left"])


def limit(scope: str, *, key: Callable[[HttpRequest], str] = person_of,
          methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Decorate a view: each request with one of `methods` counts against `scope` for `key(request)`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                spend(request, scope, key(request))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 429 page: what happened and when to try again (settings.RATELIMIT_VIEW)."""
    retry_after = getattr(exception, "retry_after", 60)
    minutes = max(1, round(retry_after / 60))
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
