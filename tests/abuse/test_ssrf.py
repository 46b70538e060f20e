"""Output downloads never reach our own network: the SSRF table, and redirects into it."""

from __future__ import annotations

import socket

import pytest

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
