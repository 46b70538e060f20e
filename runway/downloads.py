"""Fetching Runway's output files: streamed, size-capped, and never towards our own network.

Output URLs come from a third party, so they are treated as hostile: https only
(or the configured emulator origin), no redirects, no private, loopback or
link-local addresses, a byte cap, a total deadline and a media content type.

The host is resolved once, its addresses vetted, and the connection made to those
addresses only (`_PinnedBackend`): a name that answers a public address to the check
and a private one a moment later (DNS rebinding) never reaches the second. The URL is
left as it is, so TLS still asks for (SNI) and verifies the certificate of the name,
and the `Host` header still carries it. Environment proxies are not used: a proxy
would resolve the name again itself.

Webhook deliveries (`webhooks.delivery`) go out through the same guard: `vet_url` with
`what="webhook URL"` and `guarded_client`, so one vetting covers everything Takes fetches
or posts to outside.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx
from django.conf import settings

from runway.catalog.data import MAX_MEDIA_BYTES

CHUNK = 256 * 1024
# Built once: a new SSL context per download loads the whole CA bundle again (~20 ms of CPU).
_SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
# Media, or a ZIP of frames (PNG and EXR sequences), or bytes of no stated type.
ACCEPTED_TYPES = ("image/", "video/", "audio/", "application/zip", "application/x-zip-compressed",
                  "application/octet-stream", "binary/octet-stream")


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


@dataclass(frozen=True)
class Vetted:
    """An origin that passed the checks, with the addresses it resolved to when checked."""

    host: str  # as the HTTP client writes it (IDNA-encoded, lower case)
    port: int
    addresses: tuple[str, ...]


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def vet_url(url: str, *, what: str = "output URL", allow_loopback: bool = False) -> Vetted:
    """Refuse URLs we must never fetch (DownloadError); the origin and its vetted addresses.

    The emulator's own origin is allowed as configured (any scheme, any address).
    `allow_loopback` lets a caller whose setting says so (tests' receivers) reach this
    machine: http and loopback addresses, never another private network. `what` names
    the URL in the refusals ("output URL", "webhook URL").
    """
    try:
        scheme, host, port = _origin(url)
        wire_host = httpx.URL(url).raw_host.decode("ascii").lower()
    except (ValueError, httpx.InvalidURL) as exc:
        raise DownloadError(f"Malformed {what}: {exc}") from exc
    if not host or not wire_host:
        raise DownloadError(f"The {what} has no host.")
    trusted = settings.RUNWAY_USES_EMULATOR and (scheme, host, port) == _origin(settings.RUNWAY_BASE_URL)
    literal = False
    try:
        ipaddress.ip_address(host.strip("[]"))
        literal = True
    except ValueError:
        pass
    local = allow_loopback and (literal and _is_loopback(host.strip("[]")) or host == "localhost")
    if not trusted and not local:
        if scheme != "https":
            raise DownloadError(f"Refusing a {scheme or 'schemeless'} {what}; only https is allowed.")
        if literal:
            raise DownloadError(f"Refusing a {what} that names an IP address instead of a host.")
    if scheme not in ("http", "https"):
        raise DownloadError(f"Refusing a {scheme or 'schemeless'} {what}; only https is allowed.")
    try:
        infos = socket.getaddrinfo(wire_host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DownloadError(f"Could not resolve {host}.", transient=True) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DownloadError(f"Could not resolve {host}.", transient=True)
    if local and not all(_is_loopback(address) for address in addresses):
        raise DownloadError(f"Refusing {host}: only loopback addresses are allowed besides public ones.")
    if not trusted and not local and not all(_is_public(address) for address in addresses):
        raise DownloadError(f"Refusing {host}: it resolves to a private or local address.")
    return Vetted(wire_host, port, addresses)


def check_url(url: str) -> None:
    """Refuse URLs we must never fetch (DownloadError); allow the emulator's own origin."""
    vet_url(url)


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens TCP connections to the vetted addresses of the vetted origin, and nowhere else.

    httpcore hands us the URL's host; we connect to the addresses it had when it was checked
    instead of resolving it again. TLS is started on the stream afterwards with the URL's
    host name, so the name is what the certificate is checked against.
    """

    def __init__(self, vetted: Vetted):
        self._vetted = vetted
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        if (host.lower(), port) != (self._vetted.host, self._vetted.port):
            raise httpcore.ConnectError(f"{host}:{port} was not vetted for this download.")
        error: Exception | None = None
        for address in self._vetted.addresses:
            try:
                return self._tcp.connect_tcp(address, port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # vet_url never returns an empty address list
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("Output downloads never use Unix sockets.")

    def sleep(self, seconds: float) -> None:
        self._tcp.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (request mapping, errors, streaming) over a pinned connection pool."""

    def __init__(self, vetted: Vetted):
        super().__init__(verify=_SSL_CONTEXT)
        # httpx 0.28 has no argument for the network backend, so the pool it built is
        # replaced by one with ours (the SSRF tests fail if httpx stops using `_pool`).
        self._pool = httpcore.ConnectionPool(ssl_context=_SSL_CONTEXT, max_connections=1,
                                             network_backend=_PinnedBackend(vetted))


def guarded_client(vetted: Vetted, *, timeout: httpx.Timeout) -> httpx.Client:
    """An httpx client that connects only to `vetted`'s addresses and follows no redirect."""
    return httpx.Client(transport=_PinnedTransport(vetted), timeout=timeout, follow_redirects=False)


def fetch_to_temp(url: str, *, max_bytes: int = MAX_MEDIA_BYTES, deadline_seconds: float = 300.0,
                  directory: str | None = None, prefix: str = "takes-output-",
                  alive: Callable[[], None] | None = None, alive_every: float = 10.0) -> Path:
    """Stream `url` into a temporary file and return its path; the caller deletes it.

    `alive`, if given, is called every `alive_every` seconds while bytes arrive (a long
    download keeps its claim fresh that way).
    """
    vetted = vet_url(url)
    started = time.monotonic()
    timeout = httpx.Timeout(30.0, connect=5.0)
    handle = tempfile.NamedTemporaryFile(prefix=prefix, dir=directory, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with (handle,
              guarded_client(vetted, timeout=timeout) as client,
              client.stream("GET", url) as response):
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
