"""HTTP helpers every app's views share: where to go next, how to redirect, how to serve a file.

Stored media are never public static files. Django checks access; the bytes then come from the
storage (S3: a short signed URL that carries our headers), from the front server (filesystem
behind nginx with `MEDIA_ACCEL_REDIRECT`: an `X-Accel-Redirect` to an internal location that
serves byte ranges itself, see deploy/nginx.conf; what players seek in, with
`MEDIA_SIGNED_URL_SECRET`: a redirect to a short signed URL that nginx checks), or, on a single
machine, from Django, streamed with the content type we detected and `nosniff`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def safe_next(request, *, within: str = "") -> str | None:
    """The `next` URL of the request when it is a path on this site (starting with `within`), else None.

    Only a path counts: anything else ("²", a view name, a scheme) would be read by
    `redirect()` as something to reverse or a place to leave for.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not (target.startswith("/") and target.isprintable()):
        return None
    if target.startswith(within) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def confirm_page(request, *, title: str, body: str, action: str, cancel_url: str, status: int = 200,
                 **extra) -> TemplateResponse:
    """The one "are you sure?" page; `extra` may add project, error, preview_url, items, hidden, action_url."""
    context = {"title": title, "body": body, "action": action, "cancel_url": cancel_url, **extra}
    return TemplateResponse(request, "confirm.html", context, status=status)


def redirect_after_post(request, url: str) -> HttpResponse:
    """PRG for plain posts; htmx follows with a client-side redirect."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


THUMB_TYPE = "image/jpeg"  # every poster and thumbnail we make
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _ascii_name(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single `Range: bytes=` request; False when it can't be met; None to ignore it.

    RFC 9110 §14.2: a Range header that doesn't parse (or asks for several ranges) is
    ignored and the whole file is sent; one that parses but lies outside the file is 416.
    """
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    # Beyond 19 digits a position is past the end of any file we hold; int() would refuse 4,300+.
    if first == "":  # a suffix: the last N bytes
        length = size if len(last) > 19 else int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    if len(first) > 19:
        return False
    start = int(first)
    if last and len(last) <= 19 and int(last) < start:
        return None  # "5-4" is not a range at all
    if start >= size:
        return False
    end = size - 1 if not last or len(last) > 19 else min(int(last), size - 1)
    return start, end


def _read(handle, start: int, length: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def _partial(handle, *, range_header: str, content_type: str, disposition: str | None) -> HttpResponse | None:
    size = handle.size
    wanted = _byte_range(range_header, size)
    if wanted is None:
        return None
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted
    response = StreamingHttpResponse(_read(handle, start, end - start + 1), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    if disposition:
        response["Content-Disposition"] = disposition
    return response


SIGNED_URL_STEP = 600  # expiry moments are rounded up to this, so a file's link stays the same for a while


def signed_media_url(name: str, *, now: float | None = None) -> str:
    """A link to the stored file `name` that nginx's secure_link checks itself, for about
    MEDIA_SIGNED_URL_SECONDS (deploy/nginx.conf: `secure_link_md5 "$secure_link_expires$uri <secret>"`)."""
    expires = int((now or time.time()) + settings.MEDIA_SIGNED_URL_SECONDS)
    expires += -expires % SIGNED_URL_STEP
    path = settings.MEDIA_SIGNED_URL_PREFIX + name  # what nginx's $uri holds: the path, decoded
    digest = hashlib.md5(f"{expires}{path} {settings.MEDIA_SIGNED_URL_SECRET}".encode(), usedforsecurity=False)
    token = base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")
    return f"{settings.MEDIA_SIGNED_URL_PREFIX}{quote(name)}?s={token}&e={expires}"


def serve_file(fieldfile: FieldFile, *, content_type: str, filename: str,
               as_attachment: bool = False, range_header: str | None = None, seekable: bool = False) -> HttpResponse:
    """Stream a stored file (or redirect to a signed URL) with safe headers; honours one byte range.

    `seekable`: a player will ask for it again at every seek; behind nginx with signed links,
    it gets one (the link is good for every seek after).
    """
    if not fieldfile:
        raise Http404("No such file")
    storage = fieldfile.storage
    disposition = "attachment" if as_attachment else "inline"
    if seekable and settings.MEDIA_SIGNED_URL_SECRET and isinstance(storage, FileSystemStorage):
        response = HttpResponseRedirect(signed_media_url(fieldfile.name))
        response["Cache-Control"] = "private, no-store"  # a link for this person, found by the check above
        return response
    if not isinstance(storage, FileSystemStorage):
        # S3-compatible storage: a short-lived signed URL that carries our headers with it.
        url = storage.url(fieldfile.name, parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": f'{disposition}; filename="{_ascii_name(filename)}"',
        })
        response: HttpResponse = HttpResponseRedirect(url)
    elif settings.MEDIA_ACCEL_REDIRECT:
        # The front server sends the bytes (and answers byte ranges); no web thread waits on them.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + quote(fieldfile.name)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
        response["Accept-Ranges"] = "bytes"
        response["Content-Security-Policy"] = "sandbox"
    else:
        try:
            handle = storage.open(fieldfile.name, "rb")
        except FileNotFoundError:
            raise Http404("No such file") from None
        # Players seek in video and audio with byte ranges.
        partial = _partial(handle, range_header=range_header, content_type=content_type,
                           disposition=content_disposition_header(as_attachment, filename)) if range_header else None
        if partial is not None:
            response = partial
        else:
            response = FileResponse(handle, content_type=content_type, as_attachment=as_attachment,
                                    filename=filename)
        response["Accept-Ranges"] = "bytes"
        response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
