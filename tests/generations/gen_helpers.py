"""Turning catalog parameter sets (with asset specs) into project assets and form posts."""

from __future__ import annotations

from typing import Any

from assets.models import Asset
from runway import catalog
from tests.generations.catalog_cases import facts_from_spec

# Examples a browser form can't express: extra keys are ignored, and every value is text.
NOT_EXPRESSIBLE_IN_A_FORM = ("unknown setting", "not text", "not a bool", "not a list")


class SpecAssets:
    """Asset rows of one project matching specs like "image 1280x720", made once each."""

    def __init__(self, project, user):
        self.project, self.user, self.made = project, user, {}

    def __call__(self, spec: str) -> Asset:
        if spec not in self.made:
            facts = facts_from_spec(spec)
            ext = {"image": "png", "video": "mp4", "audio": "wav"}[facts.kind]
            self.made[spec] = Asset.objects.create(
                project=self.project, uploaded_by=self.user, name=f"{spec}.{ext}", kind=facts.kind,
                content_type=f"{facts.kind}/{ext}", size=10_000, width=facts.width, height=facts.height,
                duration=facts.duration, sha256="0" * 64, file=f"assets/{self.project.pk}/{len(self.made)}.{ext}")
        return self.made[spec]


def form_data(model: catalog.Model, params: dict[str, Any], assets: SpecAssets) -> dict[str, Any]:
    """What a browser would post for these params (booleans as checkboxes, assets as ids)."""
    data: dict[str, Any] = {}
    for name, value in params.items():
        kind = model.field(name).kind if name in model.field_names else None
        if kind == "asset" and isinstance(value, str):
            data[name] = str(assets(value).pk)
        elif kind == "assets" and isinstance(value, list):
            data[name] = [str(assets(v).pk) for v in value]
        elif kind == "bool":
            if value is True:
                data[name] = "on"
            elif value is False and model.field(name).tristate:
                data[name] = "off"  # the switch's "Off", not the model's choice
            elif value is not False:
                data[name] = str(value)
        elif kind == "segments" and isinstance(value, list):
            data[name] = "\n".join(f"{shot['duration']}: {shot['prompt']}" for shot in value)
        elif kind in ("texts", "numbers") and isinstance(value, list):
            data[name] = ", ".join(str(v) for v in value)
        elif value is not None:
            data[name] = str(value)
    return data


def expressible(description: str) -> bool:
    return not any(marker in description for marker in NOT_EXPRESSIBLE_IN_A_FORM)
