"""Rate limits on submissions, retries, estimates, uploads and share links: a 429 page past the count, per person or address.

Each test counts from zero under a cache prefix of its own and sets its own small rates; the
defaults are settings, documented in the README and .env.example.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from assets.models import Asset
from credits import ledger
from gallery import actions
from generations.models import Generation, Status
from tests.conftest import client_for
from tests.factories import media_file
from tests.gallery.conftest import make_output, samples  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SCOPES = ("submissions-person", "estimates-person", "uploads-person", "share-pages-ip", "share-media-ip")


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts from zero: its rate-limit counters live under a cache prefix of its own."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.fixture
def rates(settings):
    """Set some rates for this test (the rest keep their defaults)."""

    def set_rates(**scopes):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS,
                                **{name.replace("_", "-"): rate for name, rate in scopes.items()}}

    return set_rates


@pytest.fixture
def funded(editor, owner):
    for person in (editor, owner):
        ledger.grant(user=person, amount=100_000, note="test credits")


def assert_429_page(response):
    assert response.status_code == 429, response.status_code
    html = response.content.decode()
    assert "Too many requests" in html
    assert "try again" in html
    assert int(response["Retry-After"]) > 0


def text_to_video() -> dict:
    return {"endpoint": "text_to_video", "model": "gen4.5", "prompt_text": "A lighthouse at dusk",
            "ratio": "1280:720", "duration": "5"}


# --- the defaults and where they are written down --------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_each_limit_has_a_default_rate_documented_in_the_readme_and_env_example(scope):
    count, _, period = django_settings.RATE_LIMITS[scope].partition("/")
    assert int(count) > 0 and re.fullmatch(r"\d*[smhd]", period)
    variable = "RATE_LIMIT_" + scope.upper().replace("-", "_")
    assert f"`{variable}`" in (ROOT / "README.md").read_text()
    assert f"# {variable}={django_settings.RATE_LIMITS[scope]}" in (ROOT / ".env.example").read_text()


# --- submissions and retries ------------------------------------------------------------------


def test_submissions_are_limited_per_person(project, editor, owner, funded, rates):
    rates(submissions_person="2/h")
    url = reverse("generations:new", args=[project.slug])
    editor_client = client_for(editor)
    assert [editor_client.post(url, text_to_video()).status_code for _ in range(2)] == [302, 302]
    assert_429_page(editor_client.post(url, text_to_video()))
    assert Generation.objects.filter(created_by=editor).count() == 2
    # Another person of the project is not held back by it.
    assert client_for(owner).post(url, text_to_video()).status_code == 302


def test_retries_count_as_submissions(project, editor, owner, funded, rates):
    rates(submissions_person="1/h")
    failed = Generation.objects.create(project=project, created_by=editor, status=Status.FAILED,
                                       failure_code="INTERNAL", endpoint="text_to_video", model="gen4.5",
                                       params={"prompt_text": "A lighthouse", "ratio": "1280:720", "duration": 5})
    editor_client = client_for(editor)
    assert editor_client.post(reverse("generations:new", args=[project.slug]), text_to_video()).status_code == 302
    assert_429_page(editor_client.post(reverse("generations:retry", args=[project.slug, failed.pk])))
    assert not Generation.objects.filter(retry_of=failed).exists()
    assert client_for(owner).post(reverse("generations:retry", args=[project.slug, failed.pk])).status_code == 302


def test_showing_the_form_is_not_counted(project, editor, funded, rates):
    rates(submissions_person="1/h")
    editor_client = client_for(editor)
    url = reverse("generations:new", args=[project.slug])
    for _ in range(3):
        assert editor_client.get(url).status_code == 200
    assert editor_client.post(url, text_to_video()).status_code == 302


# --- estimates --------------------------------------------------------------------------------


def test_estimates_are_limited_per_person(project, editor, owner, rates):
    rates(estimates_person="3/m")
    url = reverse("generations:estimate", args=[project.slug])
    editor_client = client_for(editor)
    query = {"endpoint": "text_to_video", "model": "gen4.5", "duration": "5"}
    assert [editor_client.get(url, query, HTTP_HX_REQUEST="true").status_code for _ in range(3)] == [200] * 3
    assert_429_page(editor_client.get(url, query, HTTP_HX_REQUEST="true"))
    assert client_for(owner).get(url, query, HTTP_HX_REQUEST="true").status_code == 200


# --- uploads ----------------------------------------------------------------------------------


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_uploads_are_limited_per_person(project, editor, owner, rates, tmp_path, media_root):
    rates(uploads_person="2/h")
    url = reverse("assets:list", args=[project.slug])
    path = media_file(tmp_path / "in", "image 640x360")
    editor_client = client_for(editor)

    def upload(client):
        with path.open("rb") as fp:
            return client.post(url, {"file": fp})

    assert [upload(editor_client).status_code for _ in range(2)] == [302, 302]
    stored = stored_files(media_root)
    assert_429_page(upload(editor_client))
    assert Asset.objects.filter(uploaded_by=editor).count() == 2
    assert stored_files(media_root) == stored  # refused before the body was read
    assert upload(client_for(owner)).status_code == 302


# --- share links, per client address ----------------------------------------------------------


@pytest.fixture
def link(project, editor, make_output):  # noqa: F811
    return actions.share_output(output=make_output(project, editor, "video"), user=editor)


def test_share_pages_are_limited_per_client_address(link, rates):
    rates(share_pages_ip="2/m")
    anonymous = client_for(None)
    url = reverse("share", args=[link.token])
    here = {"REMOTE_ADDR": "203.0.113.7"}
    assert [anonymous.get(url, **here).status_code for _ in range(2)] == [200, 200]
    assert_429_page(anonymous.get(url, **here))
    assert anonymous.get(url, REMOTE_ADDR="203.0.113.8").status_code == 200


def test_share_media_and_posters_are_limited_per_client_address_with_byte_ranges_counted(link, rates):
    rates(share_media_ip="3/m")
    anonymous = client_for(None)
    media, poster = reverse("share_media", args=[link.token]), reverse("share_poster", args=[link.token])
    here = {"REMOTE_ADDR": "198.51.100.9"}
    assert anonymous.get(media, HTTP_RANGE="bytes=0-99", **here).status_code == 206
    assert anonymous.get(poster, **here).status_code == 200
    assert anonymous.get(reverse("share_play", args=[link.token]), HTTP_RANGE="bytes=100-199", **here).status_code == 206
    assert_429_page(anonymous.get(media, HTTP_RANGE="bytes=200-299", **here))
    assert_429_page(anonymous.get(poster, **here))
    # The share page has a limit of its own; another address has all of its count.
    assert anonymous.get(reverse("share", args=[link.token]), **here).status_code == 200
    assert anonymous.get(media, HTTP_RANGE="bytes=0-99", REMOTE_ADDR="198.51.100.10").status_code == 206
