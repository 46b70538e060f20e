"""Output downloads never reach our own network: the SSRF table, and redirects into it."""

from __future__ import annotations

import contextlib
import datetime
import io
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from runway import downloads

pytestmark = pytest.mark.django_db

REFUSED = [
    # other schemes
    "http://example.com/a.mp4", "ftp://example.com/a.mp4", "file:///etc/passwd", "gopher://example.com/_x",
    "data:video/mp4;base64,AAAA", "javascript:alert(1)", "dict://127.0.0.1:6379/info", "ldap://example.com/",
    "//example.com/a.mp4", "example.com/a.mp4", "https:///nohost", "https://",
    # IP literals, every spelling
    "https://127.0.0.1/a.mp4", "https://127.1/a.mp4", "https://2130706433/a.mp4", "https://0x7f000001/a.mp4",
    "https://0x7f.1/a.mp4", "https://017700000001/a.mp4", "https://0177.0.0.1/a.mp4", "https://0/a.mp4",
    "https://0.0.0.0/a.mp4", "https://8.8.8.8/a.mp4", "https://[::1]/a.mp4", "https://[::]/a.mp4",
    "https://[::ffff:127.0.0.1]/a.mp4", "https://[::ffff:7f00:1]/a.mp4", "https://[0:0:0:0:0:ffff:a00:1]/a.mp4",
    "https://[fe80::1]/a.mp4", "https://[fd00::1]/a.mp4", "https://[2001:4860:4860::8888]/a.mp4",
    # private, loopback, link-local, cloud metadata, CGNAT, broadcast
    "https://10.0.0.8/a.mp4", "https://172.16.0.1/a.mp4", "https://192.168.1.1/a.mp4",
    "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/a.mp4", "https://255.255.255.255/a.mp4",
    "https://224.0.0.1/a.mp4",
    # names that resolve to us
    "https://localhost/a.mp4", "https://LOCALHOST./a.mp4", "https://localhost:443/a.mp4",
    "https://127.0.0.1.nip.io.invalid/a.mp4",
    # credentials and ports trying to confuse the parser
    "https://example.com@127.0.0.1/a.mp4", "https://127.0.0.1#@example.com/a.mp4",
    "https://example.com:99999/a.mp4",
]


@pytest.mark.parametrize("url", REFUSED)
def test_url_is_refused(url, runway_emulator, chaos_report):
    chaos_report.add("bad_inputs_tried")
    with pytest.raises(downloads.DownloadError):
        downloads.check_url(url)
    with pytest.raises(downloads.DownloadError):
        downloads.fetch_to_temp(url)


def test_a_name_resolving_to_loopback_is_refused(runway_emulator, chaos_report):
    # `localhost` is the one name every machine resolves to 127.0.0.1 without a network.
    assert socket.getaddrinfo("localhost", 443)[0][4][0] in ("127.0.0.1", "::1")
    chaos_report.add("bad_inputs_tried")
    with pytest.raises(downloads.DownloadError, match="private or local"):
        downloads.check_url("https://localhost/video.mp4")


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:6379/",
                                    "http://10.0.0.1/", "file:///etc/passwd", "https://example.com/"])
def test_redirect_from_the_emulator_origin_is_not_followed(target, runway_emulator, emulator_server, tmp_path,
                                                           chaos_report):
    import uuid

    task_id = str(uuid.uuid4())
    runway_emulator.seed_task(id=task_id, status="SUCCEEDED", model="gen4_image", endpoint="text_to_image",
                              ratio="1280:720", output="redirect", redirect_to=target)
    import httpx

    url = httpx.get(f"{emulator_server.url}/v1/tasks/{task_id}",
                    headers={"Authorization": "Bearer key_x", "X-Runway-Version": "2024-11-06"}).json()["output"][0]
    downloads.check_url(url)  # the emulator's own origin is allowed…
    chaos_report.add("bad_inputs_tried")
    with pytest.raises(downloads.DownloadError, match="redirect"):  # …but not where it sends us
        downloads.fetch_to_temp(url, directory=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


# --- DNS rebinding: the connection goes to the address that was vetted -----------------------

PUBLIC = "93.184.215.14"  # a global address: what the rebinding name answers first
REBOUND = "127.0.0.1"  # what it answers every time after


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (trusted by nobody, which is the point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Listener:
    """A TCP server on 127.0.0.1 in a thread that hands each connection to `serve`."""

    def __init__(self, serve, host: str = "127.0.0.1", port: int = 0):
        self.hits: list[tuple[str, int]] = []
        self._serve = serve
        self._sock = socket.create_server((host, port))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            try:
                conn, peer = self._sock.accept()
            except OSError:
                return
            self.hits.append(peer)
            with conn, contextlib.suppress(OSError):  # ssl.SSLError is an OSError
                self._serve(conn)

    def close(self):
        self._sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`socket.getaddrinfo` for names under .rebind.test: a first answer, then another for good.

    Returns a dict to fill with {name: (first, later)}; other names resolve as usual.
    """
    answers: dict[str, tuple[str, str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        first, later = answers[name]
        address = first if name not in asked else later
        asked.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_download_connects_to_the_vetted_address_not_a_rebound_one(
        runway_emulator, rebinding_dns, monkeypatch, tmp_path, chaos_report):
    # What a rebinding attack reaches if the client resolves again: a service on loopback.
    inside = _Listener(lambda conn: conn.recv(4096))
    # The vetted public address is stood in for by a TLS server on loopback that notes the
    # name the client asks for (SNI) and presents a certificate for that name that no CA signed.
    cert, key = _certificate(tmp_path, "cdn.rebind.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_tls.sni_callback = lambda sslobj, name, context: names.append(name)
    outside = _Listener(lambda conn: server_tls.wrap_socket(conn, server_side=True).recv(4096))
    connects: list[tuple] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        connects.append(tuple(address[:2]))
        if address[0] == PUBLIC:  # the public address is really the stand-in server
            address = ("127.0.0.1", outside.port)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    rebinding_dns["cdn.rebind.test"] = (PUBLIC, REBOUND)
    url = f"https://cdn.rebind.test:{inside.port}/out.mp4"
    chaos_report.add("bad_inputs_tried")
    try:
        with pytest.raises(downloads.DownloadError) as refused:
            downloads.fetch_to_temp(url, directory=str(tmp_path))
    finally:
        inside.close()
        outside.close()
    assert inside.hits == [], "the download connected to the rebound address"
    assert connects == [(PUBLIC, inside.port)]
    assert names == ["cdn.rebind.test"]  # TLS still asks for the name, not the address…
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)  # …and still checks the certificate


def test_a_download_sends_the_host_name_it_was_given(
        runway_emulator, rebinding_dns, settings, tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(png, "PNG")
    seen: list[bytes] = []

    def serve(conn):
        request = conn.recv(65536)
        seen.append(request)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(png.getvalue()) + png.getvalue())

    served = _Listener(serve)
    # The one origin allowed over plain HTTP (the emulator's) given by name, so the Host header
    # can be read; the name answers loopback once, then an address where nothing listens.
    rebinding_dns["emulator.rebind.test"] = ("127.0.0.1", "127.0.0.9")
    settings.RUNWAY_BASE_URL = f"http://emulator.rebind.test:{served.port}"
    try:
        path = downloads.fetch_to_temp(f"{settings.RUNWAY_BASE_URL}/out.png", directory=str(tmp_path))
    finally:
        served.close()
    assert path.read_bytes() == png.getvalue()
    assert f"\r\nHost: emulator.rebind.test:{served.port}\r\n".encode() in seen[0]
