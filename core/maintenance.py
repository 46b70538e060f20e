"""The maintenance page: the database or the queue out of reach is a 503 with Retry-After, never a bare 500.

`MaintenanceMiddleware` sits near the top of MIDDLEWARE, outside sessions and auth (which read
the database and the cache). A request that meets an unreachable database (OperationalError,
InterfaceError) or an unreachable Redis (the cache, and the django-q2 broker when REDIS_URL is
set) gets a page rendered from `503.html` without touching either: no request context, no
context processors, no session, no user. htmx requests get its `unavailable` fragment.

Such an error is seen in one of two places. Raised by a view (or while its template renders),
it reaches `process_exception`. Raised anywhere else inside, such as by the sign-in middleware
reading the session's person, Django has already turned it into a 500 by the time it comes
back out; `got_request_exception`, sent while the error is being handled, marks the request so
the 500 can be replaced.

Nothing is left half-written: every workflow writes inside `transaction.atomic`, so an error
in the middle rolls the whole change back before the page is rendered.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: What a database or Redis out of reach raises.
UNREACHABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, RedisConnectionError,
                                                RedisTimeoutError)
#: Seconds a client is told to wait before trying again.
RETRY_AFTER = 30
_MARK = "_takes_unreachable"


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 page (its fragment for htmx), rendered from the template alone."""
    template = "503.html#unavailable" if request.headers.get("HX-Request") == "true" else "503.html"
    response = HttpResponse(loader.get_template(template).render({"retry_after": RETRY_AFTER}), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def _note_unreachable(sender, request: HttpRequest | None = None, **kwargs) -> None:
    # Sent by Django's exception handling while the exception is current.
    if request is not None and isinstance(sys.exc_info()[1], UNREACHABLE):
        setattr(request, _MARK, True)


class MaintenanceMiddleware:
    """Answer 503 with Retry-After when the database or Redis cannot be reached."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_note_unreachable, dispatch_uid="takes-maintenance")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False) and response.status_code == 500:
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNREACHABLE):
            return None
        logger.error("Service out of reach while answering %s %s: %s", request.method, request.path, exception,
                     exc_info=exception)
        return unavailable(request)
