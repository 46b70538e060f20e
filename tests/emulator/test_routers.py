"""Model Router configurations through the SDK: created, listed by cursor pages, retrieved, updated (settings
merged, versioned), deleted, and their routing history."""

from __future__ import annotations

import dataclasses

import pytest
import runwayml
from runwayml import RunwayML
from runwayml.types import (
    RouterCreateResponse,
    RouterListRequestsResponse,
    RouterListResponse,
    RouterRetrieveResponse,
    RouterUpdateResponse,
)

from emulator.testing import EmulatorServer

from .conftest import API_KEY
from .sdk_shapes import conform, conform_page, raw_json

UNKNOWN = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
FULL = {"fallback": {"on_capacity": True}, "max_credits_per_generation": {"audio": 5, "image": 10, "video": 100},
        "models": {"ids": ["gen4.5", "gen4_image"], "mode": "allow_new_except"}, "optimize_for": "quality",
        "schema_version": 1}


def test_the_emulator_starts_with_three_saved_routers(client):
    routers = {r.slug: r for r in client.routers.list(limit=10)}
    assert set(routers) == {"default", "fast", "cheap"}
    assert routers["default"].settings.optimize_for == "quality"
    assert routers["fast"].settings.optimize_for == "latency"
    cheap = routers["cheap"].settings
    assert cheap.optimize_for == "cost"
    assert (cheap.max_credits_per_generation.video, cheap.max_credits_per_generation.image) == (60, 60)


def test_a_router_is_created_with_the_documented_defaults(client):
    made = conform(RouterCreateResponse, raw_json(client.routers.with_raw_response.create, slug="prod-video"))
    assert (made.slug, made.name, made.description, made.version) == ("prod-video", "prod-video", None, 1)
    assert (made.settings.schema_version, made.settings.optimize_for, made.settings.models) == (1, "cost", None)
    assert made.created_at == made.updated_at
    fetched = conform(RouterRetrieveResponse, raw_json(client.routers.with_raw_response.retrieve, made.id))
    assert fetched.model_dump() == made.model_dump()


def test_a_router_keeps_every_setting_it_is_given(client):
    made = client.routers.create(slug="full", name="Full", description="all of it", settings=FULL)
    settings = made.settings
    assert (made.name, made.description) == ("Full", "all of it")
    assert settings.fallback.on_capacity is True
    assert (settings.max_credits_per_generation.audio, settings.max_credits_per_generation.image,
            settings.max_credits_per_generation.video) == (5, 10, 100)
    assert (settings.models.mode, settings.models.ids, settings.optimize_for) == (
        "allow_new_except", ["gen4.5", "gen4_image"], "quality")


def test_a_slug_is_unique(client):
    client.routers.create(slug="once")
    with pytest.raises(runwayml.ConflictError) as caught:
        client.routers.create(slug="once")
    assert "once" in caught.value.body["error"]


@pytest.mark.parametrize(("body", "path"), [
    ({}, ["slug"]),
    ({"slug": "Has Spaces"}, ["slug"]),
    ({"slug": "9starts-with-a-digit"}, ["slug"]),
    ({"slug": "ok", "settings": {"optimizeFor": "speed"}}, ["settings", "optimizeFor"]),
    ({"slug": "ok", "settings": {"schemaVersion": 2}}, ["settings", "schemaVersion"]),
    ({"slug": "ok", "settings": {"models": {"mode": "allowlist_only"}}}, ["settings", "models", "ids"]),
    ({"slug": "ok", "settings": {"maxCreditsPerGeneration": {"video": 1.5}}},
     ["settings", "maxCreditsPerGeneration", "video"]),
    ({"slug": "ok", "settings": {"fallback": {"onCapacity": "yes"}}}, ["settings", "fallback", "onCapacity"]),
])
def test_create_refusals_follow_the_sdk_types(raw, body, path):
    response = raw.post("/v1/routers", json=body)
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == path


def test_unknown_model_ids_are_rejected_on_create_and_update(client):
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.routers.create(slug="typo", settings={"models": {"ids": ["gen9"], "mode": "allowlist_only"}})
    assert caught.value.body["issues"][0]["path"] == ["settings", "models", "ids", 0]
    made = client.routers.create(slug="typo")
    with pytest.raises(runwayml.BadRequestError):
        client.routers.update(made.id, settings={"models": {"ids": ["gen4.5", "gen9"], "mode": "allowlist_only"}})


def test_an_update_merges_settings_and_versions_only_setting_changes(client, control):
    made = client.routers.create(slug="merge", settings=FULL)
    control.advance_clock(5)
    renamed = conform(RouterUpdateResponse, raw_json(client.routers.with_raw_response.update, made.id,
                                                     name="Merged", description=None))
    assert (renamed.name, renamed.description, renamed.version, renamed.slug) == ("Merged", None, 1, "merge")
    assert renamed.updated_at > made.updated_at
    faster = client.routers.update(made.id, settings={"optimize_for": "latency"})
    assert (faster.version, faster.settings.optimize_for) == (2, "latency")
    assert faster.settings.models.ids == ["gen4.5", "gen4_image"]  # omitted: kept
    assert faster.settings.max_credits_per_generation.video == 100 and faster.settings.fallback.on_capacity
    no_video_cap = client.routers.update(made.id, settings={"max_credits_per_generation": {"video": None}})
    caps = no_video_cap.settings.max_credits_per_generation
    assert (caps.video, caps.image, caps.audio, no_video_cap.version) == (None, 10, 5, 3)
    no_caps = client.routers.update(made.id, settings={"max_credits_per_generation": None})
    assert no_caps.settings.max_credits_per_generation is None and no_caps.version == 4
    only_mode = client.routers.update(made.id, settings={"models": {"mode": "allowlist_only", "ids": ["gen4.5"]}})
    assert (only_mode.settings.models.mode, only_mode.settings.models.ids) == ("allowlist_only", ["gen4.5"])
    same = client.routers.update(made.id, settings={"optimize_for": "latency"})
    assert same.version == only_mode.version  # no change, no new version
    assert client.routers.retrieve(made.id).model_dump() == same.model_dump()


def test_a_deleted_router_cannot_route_and_frees_its_slug(client):
    made = client.routers.create(slug="short-lived")
    assert client.routers.delete(made.id) is None
    with pytest.raises(runwayml.NotFoundError):
        client.routers.retrieve(made.id)
    with pytest.raises(runwayml.NotFoundError) as caught:
        client.generate.image.create(config_id="short-lived", input={"prompt_text": "a fox"})
    assert caught.value.body["code"] == "router_config_not_found"
    assert client.routers.create(slug="short-lived").id != made.id


@pytest.mark.parametrize("call", ["retrieve", "update", "delete"])
def test_unknown_router_ids_are_404(client, call):
    with pytest.raises(runwayml.NotFoundError) as caught:
        getattr(client.routers, call)(UNKNOWN)
    assert caught.value.body == {"error": "Router not found."}
    with pytest.raises(runwayml.NotFoundError):
        client.routers.list_requests(UNKNOWN, limit=5)


def test_routers_list_newest_first_by_cursor_pages(client):
    made = [client.routers.create(slug=f"r{n}").id for n in range(3)]
    conform_page(RouterListResponse, raw_json(client.routers.with_raw_response.list, limit=2))
    every = [r.id for r in client.routers.list(limit=2)]
    assert every[:3] == made[::-1] and len(every) == 6  # then the three the emulator starts with
    page = client.routers.list(limit=2)
    assert len(page.data) == 2 and page.next_cursor


def test_the_routing_history_lists_each_request_newest_first(client):
    router = client.routers.create(slug="history", settings={"optimize_for": "cost"})
    routed = [client.generate.image.create(config_id="history", input={"prompt_text": f"a fox {n}"})
              for n in range(3)]
    with pytest.raises(runwayml.BadRequestError):
        client.generate.video.create(config_id="history", input={"prompt_text": "x" * 4000})
    items = conform_page(RouterListRequestsResponse,
                         raw_json(client.routers.with_raw_response.list_requests, router.id, limit=10))
    assert [i.status for i in items] == ["no_eligible_model", "routed", "routed", "routed"]
    failed, *ok = items
    assert (failed.model, failed.task_id, failed.reason_code, failed.emptied_by) == (
        None, None, None, ["prompt_length"])
    assert [i.task_id for i in ok] == [r.id for r in routed[::-1]]
    for item, created in zip(ok, routed[::-1], strict=True):
        assert (item.model, item.provider) == (created.routing.model, created.routing.provider)
        assert item.estimated_credits == created.routing.estimated_cost.credits
        assert item.reason_code == "lowest_cost" and item.reason and item.emptied_by == []
        assert [p.type for p in item.pipeline][-1] == "rank" and item.pipeline[-1].outcome == "cost"
        assert item.request_id and item.id != item.request_id
    pages = list(client.routers.list_requests(router.id, limit=3).iter_pages())
    assert [len(p.data) for p in pages] == [3, 1]
    other = client.routers.create(slug="other")
    assert client.routers.list_requests(other.id, limit=5).data == []


def test_an_invalid_generate_request_is_recorded(client):
    router = client.routers.create(slug="strict")
    with pytest.raises(runwayml.BadRequestError):
        client.generate.image.create(config_id="strict", input={"prompt_text": "a fox", "outputCount": 99})
    (item,) = client.routers.list_requests(router.id, limit=5).data
    assert (item.status, item.task_id, item.pipeline) == ("invalid_request", None, [])


def test_routers_and_their_history_survive_a_restart(server, tmp_path):
    config = dataclasses.replace(server.app.state.emulator.config, data=tmp_path / "state.sqlite3", port=0,
                                 public_base_url=None)
    with EmulatorServer(config) as first, RunwayML(api_key=API_KEY, base_url=first.url, max_retries=0) as sdk:
        kept = sdk.routers.create(slug="kept", settings={"optimize_for": "latency"})
        routed = sdk.generate.image.create(config_id="kept", input={"prompt_text": "a fox"})
        sdk.routers.delete(next(r.id for r in sdk.routers.list(limit=10) if r.slug == "cheap"))
        assert first.control.state()["records"] == {"router": 3, "router_request": 1}
    with EmulatorServer(config) as second, RunwayML(api_key=API_KEY, base_url=second.url, max_retries=0) as sdk:
        assert [r.slug for r in sdk.routers.list(limit=10)] == ["kept", "fast", "default"]  # cheap stays deleted
        assert sdk.routers.retrieve(kept.id).settings.optimize_for == "latency"
        (item,) = sdk.routers.list_requests(kept.id, limit=5).data
        assert (item.task_id, item.model) == (routed.id, routed.routing.model)
        later = sdk.routers.create(slug="later")
        assert [r.id for r in sdk.routers.list(limit=1).data] == [later.id]
