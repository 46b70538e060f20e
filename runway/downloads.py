"""Fetching Runway's output files: streamed, size-capped, and never towards our own network.

Output URLs come from a third party, so they are treated as hostile: https only
(or the configured emulator origin), no redirects, no private, loopback or
link-local addresses, a byte cap, a total deadline and a media content type.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import certifi
import httpx
from django.conf import settings

from runway.catalog.data import MAX_MEDIA_BYTES

CHUNK = 256 * 1024
# Built once: a new SSL context per download loads the whole CA bundle again (~20 ms of CPU).
_SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
ACCEPTED_TYPES = ("image/", "video/", "audio/", "application/octet-stream", "binary/octet-stream")


class DownloadError(Exception):
    """An output could not be fetched; `expired` means asking Runway for a fresh URL may help."""

    def __init__(self, message: str, *, expired: bool = False, transient: bool = False):
        super().__init__(message)
        self.expired = expired
        self.transient = transient


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def check_url(url: str) -> None:
    """Refuse URLs we must never fetch (DownloadError); allow the emulator's own origin."""
    try:
        scheme, host, port = _origin(url)
    except ValueError as exc:
        raise DownloadError(f"Malformed output URL: {exc}") from exc
    if not host:
        raise DownloadError("The output URL has no host.")
    if settings.RUNWAY_USES_EMULATOR and (scheme, host, port) == _origin(settings.RUNWAY_BASE_URL):
        return
    if scheme != "https":
        raise DownloadError(f"Refusing a {scheme or 'schemeless'} output URL; only https is allowed.")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise DownloadError("Refusing an output URL that names an IP address instead of a host.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DownloadError(f"Could not resolve {host}.", transient=True) from exc
    for info in infos:
        if not _is_public(info[4][0]):
            raise DownloadError(f"Refusing {host}: it resolves to a private or local address.")


def fetch_to_temp(url: str, *, max_bytes: int = MAX_MEDIA_BYTES, deadline_seconds: float = 300.0,
                  directory: str | None = None, prefix: str = "takes-output-",
                  alive: Callable[[], None] | None = None, alive_every: float = 10.0) -> Path:
    """Stream `url` into a temporary file and return its path; the caller deletes it.

    `alive`, if given, is called every `alive_every` seconds while bytes arrive (a long
    download keeps its claim fresh that way).
    """
    check_url(url)
    started = time.monotonic()
    timeout = httpx.Timeout(30.0, connect=5.0)
    handle = tempfile.NamedTemporaryFile(prefix=prefix, dir=directory, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle, httpx.stream("GET", url, timeout=timeout, follow_redirects=False, verify=_SSL_CONTEXT) as response:
            if response.is_redirect:
                raise DownloadError("The output URL redirected elsewhere; redirects are not followed.")
            if response.status_code in (401, 403, 404, 410):
                raise DownloadError(f"The output URL answered {response.status_code}.", expired=True)
            if response.status_code >= 500:
                raise DownloadError(f"The output host answered {response.status_code}.", transient=True)
            if response.status_code != 200:
                raise DownloadError(f"The output URL answered {response.status_code}.")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith(ACCEPTED_TYPES):
                raise DownloadError(f"The output is {content_type or 'of no type'}, not media.")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise DownloadError(f"The output is {declared} bytes, over the {max_bytes} byte limit.")
            received = 0
            beat = time.monotonic()
            for chunk in response.iter_bytes(CHUNK):
                if alive is not None and time.monotonic() - beat >= alive_every:
                    alive()
                    beat = time.monotonic()
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadError(f"The output passed the {max_bytes} byte limit.")
                if time.monotonic() - started > deadline_seconds:
                    raise DownloadError("The output took too long to download.", transient=True)
                handle.write(chunk)
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(f"Downloading the output failed: {exc}", transient=True) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
