"""Takes behind Debian's nginx as deploy/nginx.conf ships it: Django checks access, nginx sends the bytes.

gunicorn runs Takes with `MEDIA_ACCEL_REDIRECT=/_media/`; every media request goes through the
access check and comes back as an X-Accel-Redirect that nginx serves itself, byte ranges and all.
With `MEDIA_SIGNED_URL_SECRET` as well, what a page plays is checked once and redirected to a
link nginx checks itself. A real Chromium plays and seeks a video through both.
"""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from django.conf import settings
from django.core.files import File
from django.test import Client
from django.urls import reverse

from generations.models import Output, Status
from tests.deploy.front import FrontServer
from tests.faults.harness import database_env, wait_for
from tests.generations import media_samples as samples
from tests.generations.test_views import make_generation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def session_of(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def stored_video(project, user, path) -> Output:
    generation = make_generation(project, user, Status.SUCCEEDED, endpoint="image_to_video", model="gen4_turbo")
    output = Output(project=project, generation=generation, kind="video", content_type="video/mp4",
                    size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    width=320, height=240)
    with path.open("rb") as fp:
        output.file.save("take.mp4", File(fp), save=False)
    output.save()
    return output


@pytest.fixture
def video(project, editor, media_root, tmp_path) -> Output:
    return stored_video(project, editor, samples.make_mp4(tmp_path / "take.mp4", seconds=4, w=320, h=240))


@pytest.fixture
def long_video(project, editor, media_root, tmp_path) -> Output:
    """Half a minute of noisy frames (tens of MB): a player fetches it in byte ranges as it seeks."""
    return stored_video(project, editor, samples.make_mp4(tmp_path / "long.mp4", seconds=30, w=640, h=360, noise=60))


def start_front(tmp_path, media_root, *, signed: bool) -> FrontServer:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(database_env())
    env.update({"DJANGO_SETTINGS_MODULE": "config.test_settings", "SECRET_KEY": settings.SECRET_KEY,
                "REDIS_URL": settings.REDIS_URL or "", "LOG_LEVEL": "WARNING"})
    return FrontServer(tmp_path / "front", env=env, media_root=media_root, static_root=settings.STATIC_ROOT,
                       signed=signed).start()


@pytest.fixture
def front(tmp_path, media_root):
    server = start_front(tmp_path, media_root, signed=False)
    yield server
    server.stop()


@pytest.fixture
def signed_front(tmp_path, media_root):
    server = start_front(tmp_path, media_root, signed=True)
    yield server
    server.stop()


def play_and_seek(browser, front: FrontServer, url: str, viewer, *, to: tuple[float, ...], seconds: float = 4) -> None:
    """Chromium opens a page with the video, plays it and seeks to each moment of `to`."""
    context = browser.new_context(base_url=front.url)
    context.add_cookies([{"name": name, "value": value, "url": front.url}
                         for name, value in session_of(viewer).items()])
    page = context.new_page()
    page.goto(front.url + reverse("accounts:profile"))
    page.set_content(f'<video id="v" muted preload="metadata" src="{url}"></video>')
    page.wait_for_function("() => document.getElementById('v').readyState >= 1", timeout=20_000)
    assert page.evaluate("() => document.getElementById('v').duration") == pytest.approx(seconds, abs=0.5)
    for moment in to:
        page.evaluate("""(t) => new Promise((done) => { const v = document.getElementById('v');
            v.addEventListener('seeked', () => done(), { once: true }); v.currentTime = t; })""", moment)
        assert page.evaluate("() => document.getElementById('v').currentTime") == pytest.approx(moment, abs=0.5)
    context.close()


def test_media_is_authorised_by_takes_and_sent_by_nginx_with_byte_ranges(front, video, viewer, stranger):
    url = front.url + reverse("generations:output_play", args=[video.project.slug, video.pk])
    data = video.file.open("rb").read()
    with httpx.Client(cookies=session_of(viewer)) as member:
        whole = member.get(url)
        assert whole.status_code == 200, front.logs()
        assert whole.content == data
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["x-content-type-options"] == "nosniff"
        assert whole.headers["content-security-policy"] == "sandbox"
        assert "x-accel-redirect" not in whole.headers  # nginx's business, never the client's
        assert video.download_name in whole.headers["content-disposition"]
        part = member.get(url, headers={"Range": "bytes=1000-4999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-4999/{len(data)}"
        assert part.content == data[1000:5000]
        tail = member.get(url, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and tail.content == data[-100:]
        assert member.get(url, headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416
    # The bytes came from nginx: Takes answered each of these with an empty body (the redirect inside).
    sent_by_takes = wait_for(lambda: len(front.web_sizes("/play/")) == 4 and front.web_sizes("/play/"), timeout=10,
                             what="gunicorn to log the four requests")
    assert len(sent_by_takes) == 4 and set(sent_by_takes) == {0}, front.logs()
    assert sum(front.front_sizes("/play/")) >= len(data) + 4000 + 100
    with httpx.Client(cookies=session_of(stranger)) as outsider:
        assert outsider.get(url).status_code == 404
    anonymous = httpx.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["location"]
    # The internal location answers only Takes' redirects, never a request from outside.
    assert httpx.get(f"{front.url}/_media/{video.file.name}").status_code == 404


def test_chromium_plays_and_seeks_a_video_through_nginx(front, video, viewer, browser):
    url = front.url + reverse("generations:output_play", args=[video.project.slug, video.pk])
    play_and_seek(browser, front, url, viewer, to=(3,))
    statuses = front.front_statuses("/play/")
    assert 206 in statuses, statuses  # the player asked for byte ranges, and nginx answered them
    assert set(front.web_sizes("/play/")) == {0}  # every byte of them from nginx


def test_a_signed_link_is_given_after_the_access_check_and_nginx_checks_it(signed_front, video, viewer, stranger):
    front = signed_front
    url = front.url + reverse("generations:output_play", args=[video.project.slug, video.pk])
    data = video.file.open("rb").read()
    with httpx.Client(cookies=session_of(viewer)) as member:
        redirected = member.get(url)
        assert redirected.status_code == 302, front.logs()
        assert redirected.headers["cache-control"] == "private, no-store"
        link = front.url + redirected.headers["location"]
        assert link.startswith(f"{front.url}/_signed/{video.file.name}?s=")
        part = httpx.get(link, headers={"Range": "bytes=1000-4999"})  # the link alone: no cookie needed
        assert part.status_code == 206 and part.content == data[1000:5000], front.logs()
        assert part.headers["content-type"] == "video/mp4"
        assert part.headers["content-security-policy"] == "sandbox"
        assert part.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(link).content == data
        # Downloads are still checked at every request and sent by nginx (they are asked once).
        download = member.get(url.replace("/play/", "/file/") + "?download")
        assert download.status_code == 200 and download.content == data
    token = link.split("s=")[1].split("&")[0]
    name = video.file.name
    other = Output.objects.create(project=video.project, generation=video.generation, index=1, kind="video",
                                  content_type="video/mp4", size=1, sha256="0" * 64, file=name.replace(".mp4", "-2.mp4"))
    forged = [link.replace(token, token[::-1]),  # another signature
              link.replace(f"e={link.rsplit('e=', 1)[1]}", f"e={int(link.rsplit('e=', 1)[1]) + 600}"),  # a later expiry
              link.replace(name, other.file.name),  # another file, with this file's signature
              link.split("?")[0]]  # no signature at all
    for attempt in forged:
        assert httpx.get(attempt).status_code == 403, attempt
    with httpx.Client(cookies=session_of(stranger)) as outsider:
        assert outsider.get(url).status_code == 404  # a stranger is never given a link
    assert httpx.get(url).status_code == 302 and "/accounts/login/" in httpx.get(url).headers["location"]


def test_an_expired_link_is_refused_by_nginx(signed_front, video, settings):
    from core.http import signed_media_url

    settings.MEDIA_SIGNED_URL_SECRET = signed_front.signing_secret
    fresh = signed_front.url + signed_media_url(video.file.name)
    assert httpx.get(fresh).status_code == 200
    stale = signed_front.url + signed_media_url(video.file.name, now=1_000_000_000)  # expired in 2001
    assert httpx.get(stale).status_code == 410


def test_chromium_seeks_on_the_signed_link_without_asking_takes_again(signed_front, long_video, viewer, browser):
    url = signed_front.url + reverse("generations:output_play", args=[long_video.project.slug, long_video.pk])
    play_and_seek(browser, signed_front, url, viewer, to=(25, 5, 28, 15), seconds=30)
    ranges = signed_front.front_statuses("/_signed/")
    assert 206 in ranges, ranges  # the player's byte ranges went to the signed link, answered by nginx
    asked_takes = signed_front.front_statuses("/play/")
    assert asked_takes == [302] and len(ranges) >= 3, (asked_takes, ranges)  # one check; every seek after on the link
