"""`client.generate.*` under a saved router: which model is chosen (filters, preference, capacity), that the
task is charged that model's own price, and that the choice shows in the answer and the routing history."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import runwayml
from runwayml.types.generate import AudioCreateResponse, ImageCreateResponse, VideoCreateResponse

from emulator import models

from .conftest import finish
from .sdk_shapes import conform, raw_json

PAIR = ["gen4.5", "veo3.1_fast"]
KITE = {"prompt_text": "a kite over a beach", "duration": 8, "aspect_ratio": "16:9"}


def only(*ids: str, mode: str = "allowlist_only") -> dict:
    return {"ids": list(ids), "mode": mode}


def charged(control, task_id: str) -> dict:
    return next(item for item in control.charges() if item["id"] == task_id)


def test_cost_picks_the_cheapest_model_and_the_task_is_charged_its_price(client, control):
    client.routers.create(slug="pair", settings={"optimize_for": "cost", "models": only(*PAIR)})
    # gen4.5 bills 12 credits a second; veo3.1_fast 15 with its default audio on, 10 with it off.
    loud = conform(VideoCreateResponse, raw_json(client.generate.video.with_raw_response.create,
                                                 config_id="pair", input=KITE)).routing
    direct = client.text_to_video.create(model="gen4.5", prompt_text=KITE["prompt_text"], duration=8,
                                         ratio="1280:720")
    assert (loud.model, loud.estimated_cost.credits) == ("gen4.5", direct.estimated_cost.credits)
    silent = client.generate.video.create(config_id="pair", input={**KITE, "audio": False})
    direct_silent = client.text_to_video.create(model="veo3.1_fast", prompt_text=KITE["prompt_text"], duration=8,
                                                ratio="1280:720", audio=False)
    assert silent.routing.model == "veo3.1_fast"
    assert silent.routing.estimated_cost.credits == direct_silent.estimated_cost.credits
    item = charged(control, silent.id)
    assert (item["model"], item["endpoint"], item["estimate"]) == (
        "veo3.1_fast", "text_to_video", direct_silent.estimated_cost.credits)
    assert (silent.routing.config_id, silent.routing.resolved_settings.optimize_for) == ("pair", "cost")
    assert silent.routing.resolved_input.model_dump() == {"duration": 8, "ratio": "1280:720", "resolution": "720p"}
    assert silent.routing.capacity_fallback is None
    done = finish(control, client, silent.id)
    assert done.status == "SUCCEEDED" and done.cost.credits == item["estimate"]
    assert httpx.get(done.output[0], timeout=120).status_code == 200


@pytest.mark.parametrize(("preference", "reason"), [("quality", "best_quality"), ("latency", "best_latency")])
def test_quality_and_latency_pick_by_our_ranking(client, preference, reason):
    client.routers.create(slug=preference, settings={"optimize_for": preference, "models": only(*PAIR)})
    created = client.generate.video.create(config_id=preference, input=KITE)
    ranks = {c.model: getattr(c, preference) for c in models.ROUTER_CANDIDATES["generate/video"]}
    assert created.routing.model == min(PAIR, key=ranks.__getitem__)
    router = next(r for r in client.routers.list(limit=10) if r.slug == preference)
    (item,) = client.routers.list_requests(router.id, limit=5).data
    assert (item.reason_code, item.pipeline[-1].outcome) == (reason, "selected")


def test_one_eligible_model_is_the_single_candidate(client, control):
    router = client.routers.create(slug="solo", settings={"models": only("gen4_image")})
    created = client.generate.image.create(config_id="solo", input={"prompt_text": "a fox", "aspect_ratio": "16:9"})
    assert created.routing.model == "gen4_image"
    ratio = created.routing.resolved_input.ratio
    width, height = map(int, ratio.split(":"))
    assert abs(width / height - 16 / 9) < 0.05 and created.routing.resolved_input.aspect_ratio == "16:9"
    (item,) = client.routers.list_requests(router.id, limit=5).data
    assert (item.reason_code, item.pipeline[-1].outcome) == ("only_eligible_model", "single_candidate")
    filters = [p for p in item.pipeline if p.type == "filter"]
    assert [p.filter for p in filters] == ["capability", "prompt_length", "input_support", "allow_deny", "price"]
    assert filters[-1].models == ["gen4_image"]
    direct = client.text_to_image.create(model="gen4_image", prompt_text="a fox", ratio=ratio)
    assert charged(control, created.id)["estimate"] == direct.estimated_cost.credits


def test_an_excluded_model_is_never_chosen(client):
    client.routers.create(slug="cheapest", settings={"optimize_for": "cost"})
    first = client.generate.image.create(config_id="cheapest", input={"prompt_text": "a fox"}).routing
    client.routers.create(slug="not-that", settings={"optimize_for": "cost",
                                                     "models": only(first.model, mode="allow_new_except")})
    second = client.generate.image.create(config_id="not-that", input={"prompt_text": "a fox"}).routing
    assert second.model != first.model
    assert second.estimated_cost.credits >= first.estimated_cost.credits


def test_a_price_cap_applies_per_output(client, control):
    client.routers.create(slug="capped", settings={"optimize_for": "quality", "models": only("gpt_image_2",
                                                                                            "seedream5_lite"),
                                                   "max_credits_per_generation": {"image": 5}})
    created = client.generate.image.create(config_id="capped", input={"prompt_text": "a fox", "output_count": 4})
    direct = client.text_to_image.create(model="seedream5_lite", prompt_text="a fox",
                                         ratio=created.routing.resolved_input.ratio, output_count=4)
    assert created.routing.model == "seedream5_lite"
    assert created.routing.resolved_settings.price_ceiling == 5
    assert created.routing.resolved_input.resolution == "2k"  # nearest seedream5_lite's smallest square, 2048:2048
    assert charged(control, created.id)["estimate"] == direct.estimated_cost.credits
    done = finish(control, client, created.id)
    assert len(done.output) == 4


@pytest.mark.parametrize(("endpoint", "inputs", "emptied"), [
    ("video", {"prompt_text": "a fox", "duration": 10}, "price"),
    ("video", {"prompt_text": "x" * 4000}, "prompt_length"),
    ("video", {"prompt_text": "a fox", "keyframes": [{"seconds": 0, "uri": "https://example.com/k.png"}]},
     "input_support"),
    ("audio", {"type": "speech", "prompt_text": "Hello", "loop": True}, "capability"),
])
def test_no_eligible_model_names_the_filter_that_emptied_the_pool(client, endpoint, inputs, emptied):
    router = client.routers.create(slug="tight", settings={"max_credits_per_generation": {"video": 60}})
    with pytest.raises(runwayml.BadRequestError) as caught:
        getattr(client.generate, endpoint).create(config_id="tight", input=inputs)
    body = caught.value.body
    assert (body["code"], body["emptiedBy"]) == ("no_eligible_model", [emptied])
    assert body["pipeline"][-1] == {"type": "filter", "filter": emptied, "models": []}
    (item,) = client.routers.list_requests(router.id, limit=5).data
    assert (item.status, item.emptied_by) == ("no_eligible_model", [emptied])


def test_capacity_fallback_skips_a_full_model(client, control):
    control.set_tier(5, models={m: {"maxConcurrentGenerations": 1} for m in PAIR})
    router = client.routers.create(slug="spill", settings={"optimize_for": "quality", "models": only(*PAIR),
                                                           "fallback": {"on_capacity": True}})
    best = min(PAIR, key={c.model: c.quality for c in models.ROUTER_CANDIDATES["generate/video"]}.__getitem__)
    other = next(m for m in PAIR if m != best)
    first = client.generate.video.create(config_id="spill", input=KITE).routing
    assert (first.model, first.capacity_fallback) == (best, None)
    second = client.generate.video.create(config_id="spill", input=KITE)
    assert second.routing.model == other
    assert second.routing.capacity_fallback.model_dump() == {"all_exhausted": False, "skipped": [best]}
    third = client.generate.video.create(config_id="spill", input=KITE)
    assert third.routing.model == best
    assert third.routing.capacity_fallback.model_dump() == {"all_exhausted": True, "skipped": []}
    assert client.tasks.retrieve(third.id).status == "THROTTLED"
    latest = client.routers.list_requests(router.id, limit=1).data[0]
    capacity = next(p for p in latest.pipeline if p.type == "capacity")
    assert capacity.all_exhausted is True


def test_without_fallback_a_full_model_queues(client, control):
    control.set_tier(5, models={m: {"maxConcurrentGenerations": 1} for m in PAIR})
    client.routers.create(slug="queue", settings={"optimize_for": "quality", "models": only(*PAIR)})
    first = client.generate.video.create(config_id="queue", input=KITE).routing.model
    second = client.generate.video.create(config_id="queue", input=KITE)
    assert second.routing.model == first and second.routing.capacity_fallback is None
    assert client.tasks.retrieve(second.id).status == "THROTTLED"


@pytest.mark.parametrize(("endpoint", "inputs", "run_endpoint"), [
    ("video", {"prompt_text": "a fox", "reference_images": [{"role": "first", "uri": "image"}], "duration": 5},
     "image_to_video"),
    ("video", {"prompt_text": "a fox", "reference_videos": [{"role": "source", "uri": "video"}]}, "video_to_video"),
    ("video", {"prompt_text": "a fox", "duration": 5}, "text_to_video"),
    ("image", {"prompt_text": "a fox", "reference_images": [{"uri": "image"}]}, "text_to_image"),
    ("audio", {"type": "speech", "prompt_text": "Hello", "voice": {"type": "preset", "preset_id": "Maya"}},
     "text_to_speech"),
    ("audio", {"type": "speech", "prompt_text": "Hello", "voice": {"type": "reference-audio", "audio_uri": "audio"}},
     "text_to_speech"),
    ("audio", {"type": "speech", "prompt_text": "Hello"}, "text_to_speech"),
    ("audio", {"type": "audio", "prompt_text": "rain on a tin roof", "loop": True}, "sound_effect"),
    ("audio", {"type": "audio", "prompt_text": "rain", "reference_audios": [{"uri": "audio"}]}, "sound_effect"),
])
def test_every_kind_of_input_routes_to_a_model_that_takes_it(client, control, uris, endpoint, inputs, run_endpoint):
    def fill(value):
        if isinstance(value, dict):
            return {k: (uris[v] if k in ("uri", "audio_uri") else fill(v)) for k, v in value.items()}
        return [fill(v) for v in value] if isinstance(value, list) else value

    shapes = {"video": VideoCreateResponse, "image": ImageCreateResponse, "audio": AudioCreateResponse}
    call = getattr(client.generate, endpoint).with_raw_response.create
    created = conform(shapes[endpoint], raw_json(call, config_id="default", input=fill(inputs)))
    item = charged(control, created.id)
    assert (item["model"], item["endpoint"]) == (created.routing.model, run_endpoint)
    assert run_endpoint in {e for e, by_model in models.request_schemas().items() if created.routing.model in by_model}
    assert item["estimate"] == created.routing.estimated_cost.credits
    done = finish(control, client, created.id)
    assert done.status == "SUCCEEDED", done
    assert httpx.get(done.output[0], timeout=120).status_code == 200


def test_the_audio_answer_says_how_the_voice_was_resolved(client, uris):
    def voice_of(inputs):
        return client.generate.audio.create(config_id="default", input=inputs).routing.resolved_input.voice

    assert voice_of({"type": "speech", "prompt_text": "Hi", "voice": {"type": "preset", "preset_id": "Maya"}}) == "preset"
    assert voice_of({"type": "speech", "prompt_text": "Hi",
                     "voice": {"type": "reference-audio", "audio_uri": uris["audio"]}}) == "reference-audio"
    assert voice_of({"type": "speech", "prompt_text": "Hi"}) == "default"
    assert voice_of({"type": "audio", "prompt_text": "rain"}) == "none"


def test_the_chosen_model_is_what_the_usage_report_bills(client, control):
    created = client.generate.image.create(config_id="default", input={"prompt_text": "a fox"})
    day = dt.date.fromisoformat(control.state()["clock"]["now"][:10])
    usage = client.organization.retrieve_usage(start_date=day, before_date=day + dt.timedelta(days=1))
    assert {u.model for r in usage.results for u in r.used_credits} == {created.routing.model}
