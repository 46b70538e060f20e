"""The issue's "done when": find last week's video by a word, play, download, upscale, share, revoke."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from assets.models import Asset
from gallery.models import ShareLink
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_newcomer_finds_plays_downloads_upscales_shares_and_revokes(project, owner, editor, make_output):
    video = make_output(project, owner, "video", "Night market in the rain, neon reflections",
                        created_at=timezone.now() - timedelta(days=6))
    for i in range(30):
        make_output(project, owner, "image", f"unrelated still {i}")
    newcomer = client_for(editor)
    slug = project.slug

    # Find it by one word of its prompt.
    page = newcomer.get(reverse("gallery:index", args=[slug]) + "?q=neon")
    assert [o.pk for o in page.context["page"].object_list] == [video.pk]
    html = page.content.decode()
    file_url = reverse("generations:output_file", args=[slug, video.pk])
    play_url = reverse("generations:output_play", args=[slug, video.pk])
    assert f'src="{play_url}"' in html  # the inline player (an MP4 plays as delivered)

    # Play it, then download it.
    played = newcomer.get(play_url)
    assert played.status_code == 200 and played["Content-Type"] == "video/mp4"
    assert played["Content-Disposition"].startswith("inline")
    downloaded = newcomer.get(file_url + "?download")
    assert downloaded["Content-Disposition"] == f'attachment; filename="{video.download_name}"'
    assert len(b"".join(downloaded.streaming_content)) == video.size

    # One click: an upscale form with the video already in it.
    detail = newcomer.get(reverse("gallery:output", args=[slug, video.pk])).content.decode()
    assert 'value="video_upscale"' in detail
    response = newcomer.post(reverse("gallery:use", args=[slug, video.pk]), {"follow": "video_upscale"})
    asset = Asset.objects.get(source_output=video)
    assert parse_qs(urlparse(response.url).query) == {"endpoint": ["video_upscale"], "video_uri": [str(asset.pk)]}

    # Share a link that opens in a logged-out browser, then revoke it.
    newcomer.post(reverse("gallery:share", args=[slug, video.pk]))
    link = ShareLink.objects.get(output=video)
    logged_out = client_for(None)
    assert logged_out.get(reverse("share", args=[link.token])).status_code == 200
    assert logged_out.get(reverse("share_media", args=[link.token])).status_code == 200
    newcomer.post(reverse("gallery:share_revoke", args=[slug, link.pk]))
    assert logged_out.get(reverse("share", args=[link.token])).status_code == 404
    assert logged_out.get(reverse("share_media", args=[link.token])).status_code == 404
