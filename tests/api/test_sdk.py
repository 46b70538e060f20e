"""The official runwayml SDK against Takes' /v1/: a script with a personal token makes a video through
Takes, it lands in the project's gallery and the person's ledger, and limits refuse in Runway's shape."""

import asyncio
import uuid

import httpx
import pytest
import runwayml
from django.conf import settings

from audit.models import AuditEntry
from credits import ledger
from credits.models import Account, Kind, LedgerEntry
from generations.models import Generation, Output, Status
from tests.factories import drive, media_file

pytestmark = pytest.mark.django_db(transaction=True)


def made(task_id: str) -> Generation:
    return Generation.objects.get(api_id=uuid.UUID(task_id))


def test_a_script_makes_a_video_that_lands_in_the_gallery_and_the_ledger(api, png_data_uri, project, funded,
                                                                         runway_emulator):
    task = api.image_to_video.create(model="gen4.5", prompt_image=png_data_uri, prompt_text="a lighthouse",
                                     ratio="1280:720", duration=5)
    generation = made(task.id)
    assert generation.project == project and generation.created_by == funded
    assert generation.api_token.name == "render farm"
    entry = AuditEntry.objects.get(action="generation.api_create", object_id=str(generation.pk))
    assert entry.actor == funded and "render farm" in entry.note and entry.project_id == project.pk
    pending = api.tasks.retrieve(task.id)
    assert pending.status == "PENDING"
    assert task.estimated_cost.credits == generation.estimated_credits == 60  # gen4.5: 12 a second

    generation = drive(generation)
    assert generation.status == Status.SUCCEEDED
    done = api.tasks.retrieve(task.id)
    assert done.status == "SUCCEEDED"
    assert isinstance(done, runwayml.types.task_retrieve_response.Succeeded)
    # The emulator is the independent truth of what Runway charged; Takes charged the person the same.
    charged = {c["id"]: c for c in runway_emulator.charges()}
    assert charged[generation.runway_task_id]["charged"] == done.cost.credits > 0
    settle = LedgerEntry.objects.get(generation=generation, kind=Kind.SETTLE, account__user=funded)
    assert settle.credits == done.cost.credits
    # The output URL is Takes' own, signed, and serves the copy the gallery keeps.
    [url] = done.output
    assert url.startswith(api.base_url.__str__().rstrip("/") + "/v1/outputs/")
    output = Output.objects.in_project(project).get(generation=generation)
    fetched = httpx.get(url)  # no token: the signed URL is the credential
    assert fetched.status_code == 200
    assert fetched.content == output.file.open("rb").read()
    assert not url.startswith(settings.RUNWAY_BASE_URL)


def test_the_async_client_works_unchanged(async_api, project, funded):
    before = Account.objects.get(user=funded).balance
    async def script():
        task = await async_api.text_to_image.create(model="gen4_image", prompt_text="a red kite", ratio="1024:1024")
        again = await async_api.tasks.retrieve(task.id)
        org = await async_api.organization.retrieve()
        usage = await async_api.organization.retrieve_usage()
        return task, again, org, usage

    task, again, org, usage = asyncio.run(script())
    assert again.id == task.id and again.status == "PENDING"
    assert org.credit_balance == before - made(task.id).estimated_credits == Account.objects.get(user=funded).balance
    assert usage.results == []
    assert drive(made(task.id)).status == Status.SUCCEEDED


def test_uploads_become_project_assets_and_resolve(api, project, tmp_path):
    path = media_file(tmp_path / "in", "image 1280x720")
    uploaded = api.uploads.create_ephemeral(file=path)
    assert uploaded.uri.startswith("runway://")
    task = api.image_to_video.create(model="gen4_turbo", prompt_image=uploaded.uri, ratio="1280:720", duration=5)
    generation = made(task.id)
    [asset] = generation.inputs.all()
    assert asset.project == project and asset.name == path.name
    assert asset.width == 1280 and asset.height == 720
    assert drive(generation).status == Status.SUCCEEDED


def test_bad_input_is_refused_with_runways_error_shape(api, project):
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4.5", prompt_image="https://example.com/x.png", prompt_text="x",
                                  ratio="999:1", duration=5)
    body = caught.value.body
    assert isinstance(body["error"], str)
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4.5", prompt_image="http://example.com/x.png", prompt_text="x",
                                  ratio="1280:720", duration=5)
    assert "HTTPS" in caught.value.body["error"]
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="no-such-model", prompt_image="data:image/png;base64,AAAA")
    assert caught.value.body["issues"][0]["path"] == ["model"]
    assert not Generation.objects.filter(project=project).exists()


def test_ratio_outside_the_catalog_names_the_field(api, png_data_uri, project):
    with pytest.raises(runwayml.BadRequestError) as caught:
        api.image_to_video.create(model="gen4.5", prompt_image=png_data_uri, prompt_text="x", ratio="999:1",
                                  duration=5)
    assert caught.value.body["error"] == "Validation of body failed"
    assert caught.value.body["issues"][0]["path"] == ["ratio"]
    assert not Generation.objects.filter(project=project).exists()


def test_the_generation_page_names_the_token_it_was_made_with(api, png_data_uri, project, funded):
    from django.urls import reverse

    from tests.conftest import client_for

    task = api.image_to_video.create(model="gen4_turbo", prompt_image=png_data_uri, ratio="1280:720")
    generation = made(task.id)
    page = client_for(funded).get(reverse("generations:detail", args=[project.slug, generation.pk]))
    assert page.status_code == 200
    assert "API token “render farm”" in page.content.decode()


def test_the_async_client_uploads_deletes_and_is_refused_like_the_sync_one(async_api, project, owner, tmp_path):
    path = media_file(tmp_path / "in", "image 1280x720")

    async def script():
        uploaded = await async_api.uploads.create_ephemeral(file=path)
        task = await async_api.image_to_video.create(model="gen4_turbo", prompt_image=uploaded.uri, ratio="1280:720")
        await async_api.tasks.delete(task.id)
        try:
            await async_api.tasks.retrieve(task.id)
        except runwayml.NotFoundError as exc:
            gone = exc.body
        await asyncio.to_thread(ledger.set_project_budget, project=project, amount=0, by=owner)
        try:
            await async_api.image_to_video.create(model="gen4_turbo", prompt_image=uploaded.uri, ratio="1280:720")
        except runwayml.BadRequestError as exc:
            refused = exc.body
        return task, gone, refused

    task, gone, refused = asyncio.run(script())
    assert gone == {"error": "Task not found."}
    assert "not have enough credits" in refused["error"]
    assert made(task.id).status == Status.CANCELLED
    assert Generation.objects.filter(project=project).count() == 1
