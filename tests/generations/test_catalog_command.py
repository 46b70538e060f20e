"""`manage.py catalog --json` lists every endpoint, model and setting, checked against the SDK's snapshot."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from runway import catalog

SNAPSHOT = Path(__file__).resolve().parents[2] / "runway" / "catalog" / "sdk_requests.json"
SDK = json.loads(SNAPSHOT.read_text())["endpoints"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("catalog", *args, stdout=out)
    return out.getvalue()


def test_json_lists_every_model_of_the_sdk_with_its_required_settings():
    listed = json.loads(run("--json"))
    assert {(e, m) for e, spec in listed.items() for m in spec["models"]} == \
        {(e, m) for e, models in SDK.items() for m in models}
    for endpoint, models in SDK.items():
        for model_id, fields in models.items():
            if model_id == catalog.ROUTED:  # a router's request: its config, and the fields of its input
                fields = {"configId": fields["configId"], **fields["input"]["fields"]}
            shown = listed[endpoint]["models"][model_id]["fields"]
            names = {f.get("part_of", f["name"]) for f in shown}  # a part (a last frame, a shot) names its field
            assert {n["python"] for n in fields.values()} == names, f"{endpoint}/{model_id}"
            required = {f["name"] for f in shown if f["required"]}
            # A required field given by one of two parts (a script or a recording) is required by a rule.
            either = {rule.other: rule.field for rule in catalog.get_model(endpoint, model_id).rules
                      if rule.kind == "one_of"}
            parted = {f["part_of"] for f in shown if f["name"] in either or f["name"] in either.values()}
            assert required | parted == {n["python"] for n in fields.values() if n["required"]}, \
                f"{endpoint}/{model_id}"
            for f in shown:
                assert f["type"] and f["label"]
                if f["type"] == "choice":
                    assert f["choices"] or f["name"] == "config_id", f  # routers: only the project's own
                    if f["required"] and "default" in f:
                        assert f["default"] in [c["value"] for c in f["choices"]]


def test_json_states_the_sdks_ranges_and_choices():
    listed = json.loads(run("--json", "--endpoint", "image_to_video"))
    assert list(listed) == ["image_to_video"]
    gen45 = {f["name"]: f for f in listed["image_to_video"]["models"]["gen4.5"]["fields"]}
    stated = SDK["image_to_video"]["gen4.5"]["duration"]["range"]
    assert (gen45["duration"]["min"], gen45["duration"]["max"]) == (stated["min"], stated["max"])
    assert [c["value"] for c in gen45["ratio"]["choices"]] == SDK["image_to_video"]["gen4.5"]["ratio"]["enum"]
    assert gen45["prompt_image"]["media"] == ["image"]


def test_plain_listing_and_a_wrong_endpoint():
    text = run()
    assert "102 models on 18 endpoints" in text
    assert "Kling O3 4K (klingO3_4k)" in text
    with pytest.raises(CommandError, match="Unknown endpoint 'text_to_smell'"):
        run("--endpoint", "text_to_smell")
