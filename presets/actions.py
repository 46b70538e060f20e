"""Every change to a preset, each atomic with its audit entry, and what using one opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from audit.log import record, snapshot
from generations.models import Generation
from runway import catalog

from .models import Preset

FIELDS = ["name", "endpoint", "model", "params", "prompt"]


class PresetError(Exception):
    """A preset change that could not be made; the message is for the person, `status` for the answer."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _taken(name: str) -> PresetError:
    return PresetError(f"This project already has a preset called “{name}”; choose another name.", status=409)


def preset_from_generation(*, generation: Generation, user, name: str) -> Preset:
    """Save a generation's settings (its model as the form offers it, its prompt) as a preset."""
    try:
        catalog.spec_of(generation.endpoint, generation.form_model)
    except catalog.UnknownModel as exc:
        raise PresetError(f"{exc} Its settings can't be saved as a preset.", status=409) from exc
    params = {k: v for k, v in (generation.params or {}).items() if k != "prompt_text"}
    try:
        with transaction.atomic():
            preset = Preset.objects.create(project=generation.project, created_by=user, updated_by=user, name=name,
                                           endpoint=generation.endpoint, model=generation.form_model, params=params,
                                           prompt=str(generation.params.get("prompt_text") or ""))
            record(actor=user, action="preset.create", obj=preset, after=snapshot(preset, FIELDS),
                   note=f"from generation {generation.pk}")
    except IntegrityError:
        raise _taken(name) from None
    return preset


def preset_from_form(*, project, user, name: str, endpoint: str, model: str, params: dict[str, Any]) -> Preset:
    """Save settings as the generation form holds them (typed, possibly incomplete) as a preset."""
    params = dict(params)
    prompt = str(params.pop("prompt_text", "") or "")
    params = {k: v for k, v in params.items() if v not in (None, "", [])}
    try:
        with transaction.atomic():
            preset = Preset.objects.create(project=project, created_by=user, updated_by=user, name=name,
                                           endpoint=endpoint, model=model, params=params, prompt=prompt)
            record(actor=user, action="preset.create", obj=preset, after=snapshot(preset, FIELDS),
                   note="from the generation form")
    except IntegrityError:
        raise _taken(name) from None
    return preset


def update_preset(*, preset: Preset, user, name: str, prompt: str) -> None:
    """Rename a preset or change its prompt."""
    before = snapshot(preset, FIELDS)
    try:
        with transaction.atomic():
            preset.name, preset.prompt, preset.updated_by = name, prompt, user
            preset.save(update_fields=["name", "prompt", "updated_by", "updated_at"])
            record(actor=user, action="preset.update", obj=preset, before=before, after=snapshot(preset, FIELDS))
    except IntegrityError:
        preset.refresh_from_db()
        raise _taken(name) from None


def delete_preset(*, preset: Preset, user) -> None:
    with transaction.atomic():
        record(actor=user, action="preset.delete", obj=preset, before=snapshot(preset, FIELDS))
        preset.delete()


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def form_url(*, project, endpoint: str, model: str, params: dict[str, Any]) -> str:
    """The generation form filled with these settings."""
    settings = {k: _query_value(v) for k, v in params.items() if v not in (None, "", [])}
    query = urlencode({"endpoint": endpoint, "model": model, **settings}, doseq=True)
    return f"{reverse('generations:new', args=[project.slug])}?{query}"


def use_preset(*, preset: Preset, values: dict[str, str]) -> str:
    """The generation form filled from the preset, its placeholders replaced; the preset is counted as used."""
    Preset.objects.filter(pk=preset.pk).update(uses=F("uses") + 1)
    params = dict(preset.params)
    if preset.prompt:
        params["prompt_text"] = preset.filled(values)
    return form_url(project=preset.project, endpoint=preset.endpoint, model=preset.model, params=params)
