"""Runway's wire form read back into catalog params: for every model, what Takes sends Runway reads back
as the same settings (the SDK's own serialisation makes the wire body)."""

import json

import httpx
import pytest
import runwayml

from runway import catalog
from runway import client as runway
from tests.generations.catalog_cases import valid_params


def _wire_body(model: catalog.Model, arguments: dict) -> dict:
    """The JSON the official SDK sends for these keyword arguments (captured, never sent anywhere)."""
    sent = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent["body"] = json.loads(request.content)
        return httpx.Response(200, json={"id": "00000000-0000-4000-8000-000000000000"})

    sdk = runwayml.RunwayML(api_key="key", base_url="https://runway.invalid",
                            http_client=httpx.Client(transport=httpx.MockTransport(handler)), max_retries=0)
    resource = getattr(sdk.generate, model.endpoint.removeprefix("generate_")) if model.routed \
        else getattr(sdk, model.endpoint)
    named = {} if model.routed else {"model": model.id}
    resource.create(**named, **arguments)
    return sent["body"]


@pytest.mark.every_model
@pytest.mark.parametrize("spec", catalog.all_models(), ids=lambda m: f"{m.endpoint}-{m.id}")
def test_wire_body_reads_back_as_the_same_settings(spec):
    params = valid_params(spec)
    kinds = {}
    for f in spec.fields:
        if f.kind in ("asset", "assets") and f.name in params:
            kinds[f.name] = f.media_kinds[0]
    # Each asset spec stands for a distinct input; its URI on the wire is what must come back.
    as_uri = {}
    for f in spec.fields:
        value = params.get(f.name)
        if f.kind == "asset" and isinstance(value, str):
            as_uri[f.name] = f"https://media.example.com/{f.name}.bin"
        elif f.kind == "assets" and isinstance(value, list):
            as_uri[f.name] = [f"https://media.example.com/{f.name}-{i}.bin" for i in range(len(value))]
    ids = {}
    for name, uris in as_uri.items():
        for u in uris if isinstance(uris, list) else [uris]:
            ids[u] = (u, kinds[name])
    with_uris = {**params, **as_uri}
    arguments = runway.build_arguments(model=spec, params=with_uris, uri_for=lambda u: ids[u])
    body = _wire_body(spec, arguments)
    read = runway.parse_arguments(model=spec, body=body)
    sent_again = runway.build_arguments(model=spec, params=read, uri_for=lambda u: ids[u])
    assert sent_again == arguments


def test_unknown_keys_are_refused():
    spec = catalog.get_model("image_to_video", "gen4.5")
    with pytest.raises(runway.WireError, match="promptImages"):
        runway.parse_arguments(model=spec, body={"model": "gen4.5", "promptImages": "https://a.example/x.png",
                                                 "promptText": "x", "ratio": "1280:720", "duration": 5})


def test_a_plain_prompt_image_string_is_the_first_frame():
    spec = catalog.get_model("image_to_video", "gen4.5")
    read = runway.parse_arguments(model=spec, body={"model": "gen4.5", "promptImage": "https://a.example/x.png",
                                                    "promptText": "x", "ratio": "1280:720", "duration": 5})
    assert read == {"prompt_image": "https://a.example/x.png", "prompt_text": "x", "ratio": "1280:720",
                    "duration": 5}


def test_reference_image_tags_in_the_prompt_follow_the_images():
    spec = catalog.get_model("text_to_image", "gen4_image")
    read = runway.parse_arguments(model=spec, body={
        "model": "gen4_image", "ratio": "1024:1024", "promptText": "@hero walks past @shop, not @nobody",
        "referenceImages": [{"uri": "https://a.example/shop.png", "tag": "shop"},
                            {"uri": "https://a.example/hero.png", "tag": "hero"}]})
    assert read["prompt_text"] == "@ref2 walks past @ref1, not @nobody"
    assert read["reference_images"] == ["https://a.example/shop.png", "https://a.example/hero.png"]
