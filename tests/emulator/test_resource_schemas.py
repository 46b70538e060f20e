"""The emulator's request rules for voices, avatars, avatar videos and routers are the SDK's request types.

`emulator/resource_schemas.json` is compared field by field with the TypedDicts of the installed SDK,
described by `tools/sdk_schema.py` and compared with the same rules as the generation endpoints' table.
"""

from __future__ import annotations

import importlib

import pytest

from emulator import resources
from tests.runway.test_sdk_requests import emulator_shape, sdk_schema, shape_differences

#: Each operation's body and the SDK type that describes it.
OPERATIONS = {
    "voices.create": "voice_create_params.VoiceCreateParams",
    "voices.update": "voice_update_params.VoiceUpdateParams",
    "voices.preview": "voice_preview_params.VoicePreviewParams",
    "avatars.create": "avatar_create_params.AvatarCreateParams",
    "avatars.update": "avatar_update_params.AvatarUpdateParams",
    "avatar_videos.create": "avatar_video_create_params.AvatarVideoCreateParams",
    "routers.create": "router_create_params.RouterCreateParams",
    "routers.update": "router_update_params.RouterUpdateParams",
}


def sdk_type(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"runwayml.types.{module}"), name)


def test_every_operation_has_a_schema():
    assert set(resources.schemas()) == set(OPERATIONS)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_schema_is_the_sdks_type(operation):
    sdk_node = {"type": "object", "fields": sdk_schema.fields_of(sdk_type(OPERATIONS[operation]))}
    ours = emulator_shape(resources.schemas()[operation])
    assert shape_differences(sdk_node, ours, "", "emulator") == []


@pytest.mark.parametrize(("operation", "path"), [("voices.create", ["from", 1, "prompt"]),
                                                 ("voices.preview", ["prompt"])])
def test_the_twenty_characters_the_sdk_states(operation, path):
    """"Must be at least 20 characters" is the only bound these docstrings state."""
    node = resources.schemas()[operation]
    for step in path:
        node = node["anyOf"][step] if isinstance(step, int) else node["props"][step]
    assert node["min"] == 20
