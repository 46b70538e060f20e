"""Takes behind Debian's nginx as deploy/nginx.conf ships it: Django checks access, nginx sends the bytes.

gunicorn runs Takes with `MEDIA_ACCEL_REDIRECT=/_media/`; every media request goes through the
access check and comes back as an X-Accel-Redirect that nginx serves itself, byte ranges and all.
A real Chromium plays and seeks a video through it.
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


@pytest.fixture
def video(project, editor, media_root, tmp_path) -> Output:
    path = samples.make_mp4(tmp_path / "take.mp4", seconds=4, w=320, h=240)
    generation = make_generation(project, editor, Status.SUCCEEDED, endpoint="image_to_video", model="gen4_turbo")
    output = Output(project=project, generation=generation, kind="video", content_type="video/mp4",
                    size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    width=320, height=240, duration=4)
    with path.open("rb") as fp:
        output.file.save("take.mp4", File(fp), save=False)
    output.save()
    return output


@pytest.fixture
def front(tmp_path, media_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(database_env())
    env.update({"DJANGO_SETTINGS_MODULE": "config.test_settings", "SECRET_KEY": settings.SECRET_KEY,
                "REDIS_URL": settings.REDIS_URL or "", "LOG_LEVEL": "WARNING"})
    server = FrontServer(tmp_path / "front", env=env, media_root=media_root,
                         static_root=settings.STATIC_ROOT).start()
    yield server
    server.stop()


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
    context = browser.new_context(base_url=front.url)
    context.add_cookies([{"name": name, "value": value, "url": front.url}
                         for name, value in session_of(viewer).items()])
    page = context.new_page()
    page.goto(front.url + reverse("accounts:profile"))
    page.set_content(f'<video id="v" muted preload="auto" src="{url}"></video>')
    page.wait_for_function("() => document.getElementById('v').readyState >= 2", timeout=20_000)
    assert page.evaluate("() => document.getElementById('v').duration") == pytest.approx(4, abs=0.5)
    page.evaluate("""() => new Promise((done) => { const v = document.getElementById('v');
        v.addEventListener('seeked', () => done(), { once: true }); v.currentTime = 3; })""")
    assert page.evaluate("() => document.getElementById('v').currentTime") == pytest.approx(3, abs=0.5)
    statuses = front.front_statuses("/play/")
    assert 206 in statuses, statuses  # the player asked for byte ranges, and nginx answered them
    assert set(front.web_sizes("/play/")) == {0}  # every byte of them from nginx
    context.close()
