"""Bad input to /v1/ gets a clear message and a 4xx in Runway's shape, never a 500, and leaves nothing made."""

import base64

import httpx
import pytest
import runwayml

from accounts.actions import deactivate_user
from api.models import Upload
from assets.models import Asset
from generations.models import Generation
from tests.factories import media_file

pytestmark = pytest.mark.django_db(transaction=True)

BODIES = [
    b"not json", b"[1, 2]", b'"text"', b"null", b'{"model": 5}', b'{"model": "gen4.5", "promptImage": 5}',
    b'{"model": "gen4.5", "promptImage": [{"uri": 7}], "promptText": "x", "ratio": "1280:720", "duration": 5}',
    b'{"model": "gen4.5", "promptImage": [{"position": "last", "uri": "data:image/png;base64,AAAA"}], '
    b'"promptText": "x", "ratio": "1280:720", "duration": "five"}',
    b'{"model": "gen4.5", "promptImage": "data:image/png;base64,!!!!", "promptText": "x", "ratio": "1280:720", '
    b'"duration": 5}',
    b'{"model": "gen4.5", "promptImage": "data:text/html;base64,PGI+", "promptText": "x", "ratio": "1280:720", '
    b'"duration": 5}',
    b'{"model": "gen4.5", "promptImage": "runway://takes/nope-nope-nope-nope-nope", "promptText": "x", '
    b'"ratio": "1280:720", "duration": 5}',
    b'{"model": "gen4.5", "promptImage": "data:image/png;base64,AAAA", "promptText": "\\u0000", '
    b'"ratio": "1280:720", "duration": 1e308}',
    b'{"model": "eleven_multilingual_v2", "promptText": "hi", "voice": "Maya"}',
]


@pytest.mark.parametrize("body", BODIES)
def test_hostile_bodies_get_a_4xx_with_an_error(body, live_server, runway_emulator, media_root, token, project):
    path = "text_to_speech" if b"eleven" in body else "image_to_video"
    response = httpx.post(f"{live_server.url}/v1/{path}", content=body, headers={
        "Authorization": f"Bearer {token}", "X-Runway-Version": "2024-11-06", "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:300]
    assert isinstance(response.json()["error"], str)
    assert not Generation.objects.exists()


def test_unknown_paths_and_methods_answer_in_runways_shape(live_server, runway_emulator, token):
    headers = {"Authorization": f"Bearer {token}", "X-Runway-Version": "2024-11-06"}
    unknown = httpx.post(f"{live_server.url}/v1/no_such_endpoint", json={}, headers=headers)
    assert unknown.status_code == 404 and "error" in unknown.json()
    wrong = httpx.put(f"{live_server.url}/v1/organization", json={}, headers=headers)
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_a_data_uri_over_runways_cap_is_refused(api, project):
    too_long = "data:image/png;base64," + "A" * 5_242_880
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4_turbo", prompt_image=too_long, ratio="1280:720")
    assert "upload the file instead" in caught.value.body["error"]
    assert not Asset.objects.exists()


def test_an_input_of_the_wrong_kind_is_refused_naming_the_field(api, tmp_path, project):
    audio = media_file(tmp_path / "in", "audio 6s")
    uri = "data:audio/wav;base64," + base64.b64encode(audio.read_bytes()).decode()
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4_turbo", prompt_image=uri, ratio="1280:720")
    assert "promptImage" in caught.value.body["error"]
    assert not Generation.objects.exists()


def test_an_upload_target_takes_one_file_and_only_media(api, live_server, tmp_path, project):
    slot = api.post("/v1/uploads", body={"filename": "notes.png", "type": "ephemeral"}, cast_to=object)
    target = slot["uploadUrl"]
    refused = httpx.post(target, files={"file": ("notes.png", b"<html>not an image</html>" * 40, "image/png")})
    assert refused.status_code == 400 and "error" in refused.json()
    image = media_file(tmp_path / "in", "image 640x360")
    assert httpx.post(target, files={"file": ("a.png", image.read_bytes(), "image/png")}).status_code == 204
    again = httpx.post(target, files={"file": ("a.png", image.read_bytes(), "image/png")})
    assert again.status_code == 403
    assert Upload.objects.get().asset.project == project
    secret = target.rstrip("/").split("/")[-2]
    assert secret not in str(Upload.objects.values().get())  # the target's secret is kept only as a hash
    assert Upload.objects.get().slot not in target  # the runway:// name does not open the target
    with pytest.raises(runwayml.BadRequestError):
        api.post("/v1/uploads", body={"filename": "x", "type": "permanent"}, cast_to=object)


def test_a_deactivated_persons_token_gets_401(api, funded, project):
    deactivate_user(user=funded, by=None)
    with pytest.raises(runwayml.AuthenticationError):
        api.organization.retrieve()


@pytest.mark.parametrize("url", ["https://127.0.0.1/x.png", "https://localhost/x.png", "https://[::1]/x.png",
                                 "https://169.254.169.254/latest/meta-data"])
def test_urls_takes_would_fetch_pass_its_download_guards(url, api, project):
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4_turbo", prompt_image=url, ratio="1280:720")
    assert "Failed to fetch asset in promptImage" in caught.value.body["error"]
    assert not Asset.objects.exists() and not Generation.objects.exists()


def test_an_upload_slot_is_only_for_media_files(api):
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.post("/v1/uploads", body={"filename": "notes.txt", "type": "ephemeral"}, cast_to=object)
    assert "Unsupported file type" in caught.value.body["error"]
    assert not Upload.objects.exists()
