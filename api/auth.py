"""Who is calling `/v1/`: the personal token in `Authorization: Bearer`, checked like Runway checks a key.

`api_view` wraps every `/v1/` view: the `X-Runway-Version` header, the token (unknown, revoked
or expired → 401), the person's membership of the token's project through `core.access`
(gone → 401, no longer an editor → 403), the token's rate limit (→ 429 with Retry-After), and
JSON errors in Runway's shape for anything refused on the way. Sessions and CSRF play no part:
the token is the credential, sent by a script, never by a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiToken
from core.access import Role, access_token_project
from core.ratelimit import TooManyRequests, spend

API_VERSION = "2024-11-06"
#: How often last-used is written: a busy script should not write the token's row on every call.
LAST_USED_EVERY = 60


def error(status: int, message: str, **extra) -> JsonResponse:
    """An error body in Runway's shape: `{"error": message, ...}`."""
    return JsonResponse({"error": message, **extra}, status=status)


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate(request: HttpRequest) -> ApiToken | HttpResponse:
    """The usable token the request carries, or the error response Runway would give."""
    raw = _bearer(request)
    if not raw:
        return error(401, "Missing or malformed API key. Send 'Authorization: Bearer <key>'.")
    token = ApiToken.objects.by_secret(raw)
    if token is None:
        return error(401, "Invalid API key.")
    if token.state == "revoked":
        return error(401, "This API token was revoked.")
    if token.state == "expired":
        return error(401, "This API token has expired.")
    try:
        request.membership = access_token_project(token, Role.EDITOR)
    except Http404:
        return error(401, "This API token's person is no longer a member of its project.")
    except PermissionDenied:
        return error(403, "This API token's person is no longer an editor of its project.")
    version = request.headers.get("X-Runway-Version")
    if version != API_VERSION:
        return error(400, f"The X-Runway-Version header is required and must be '{API_VERSION}'. Got {version!r}.")
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_view(*methods: str) -> Callable:
    """Decorate a `/v1/` view taking (request, token, ...): methods allowed, token checked, rate limited."""

    def decorator(view):
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} is not allowed here.")
                response["Allow"] = ", ".join(methods)
                return response
            token = authenticate(request)
            if isinstance(token, HttpResponse):
                return token
            try:
                spend(request, "api-token", f"token:{token.pk}", rate=token.rate_limit)
            except TooManyRequests as exc:
                response = error(429, "Too many requests for this API token; slow down and try again.")
                response["Retry-After"] = str(exc.retry_after)
                return response
            _touch(token)
            request.api_token = token
            return view(request, token, *args, **kwargs)

        return wrapped

    return decorator
