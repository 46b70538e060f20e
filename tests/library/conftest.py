"""Fixtures for the library pages: the emulator over HTTP, real media storage, and the SDK as a witness.

The witness is a plain SDK client of the emulator: what it reads back is Runway's record of an
object, independent of the rows Takes keeps.
"""

from __future__ import annotations

import pytest
import runwayml

from accounts.actions import create_team_project
from library.models import Avatar, Readiness, RouterConfig, Voice
from tests.factories import make_asset

WITNESS_KEY = "key_" + "0" * 128
PROMPT = "A warm, low narrator voice with a slight rasp"


@pytest.fixture(autouse=True)
def library_env(runway_emulator, media_root):
    """Every library test talks to a freshly reset emulator and stores files in its own folder."""
    return runway_emulator


@pytest.fixture
def control(library_env):
    return library_env


@pytest.fixture
def witness(emulator_server):
    """The SDK, straight at the emulator: Runway's own record of what exists."""
    with runwayml.RunwayML(api_key=WITNESS_KEY, base_url=emulator_server.url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def image(project, editor, tmp_path):
    return make_asset(project, editor, "image 640x360", tmp_path / "media-in")


@pytest.fixture
def other_project(stranger):
    """A project the team's members do not belong to."""
    return create_team_project(user=stranger, name="Elsewhere")


def voice_on_runway(witness, project, user, *, name="Narrator", status=Readiness.READY) -> Voice:
    """A voice designed on the emulator and mirrored by a row, as the pages would leave it."""
    voice_id = witness.voices.create(from_={"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT},
                                     name=name).id
    return Voice.objects.create(project=project, created_by=user, runway_id=voice_id, name=name, prompt=PROMPT,
                                design_model="eleven_ttv_v3", status=status)


def avatar_on_runway(witness, project, user, asset, *, name="Ada", status=Readiness.READY) -> Avatar:
    with asset.file.open("rb") as fp:
        uri = witness.uploads.create_ephemeral(file=("a.png", fp)).uri
    made = witness.avatars.create(name=name, personality="Cheerful host", reference_image=uri,
                                  voice={"type": "runway-live-preset", "preset_id": "victoria"})
    return Avatar.objects.create(project=project, created_by=user, runway_id=made.id, name=name,
                                 personality="Cheerful host", image=asset, preset_voice="victoria", status=status)


def router_on_runway(witness, project, user, *, slug: str | None = None) -> RouterConfig:
    slug = slug or f"{project.slug}-kept"
    made = witness.routers.create(slug=slug, name="Kept", settings={"optimize_for": "cost"})
    return RouterConfig.objects.create(project=project, created_by=user, runway_id=made.id, name="Kept", slug=slug,
                                       settings={"optimize_for": "cost"})
