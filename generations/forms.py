"""Forms for uploading assets and for submitting a generation built from the catalog."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import Project
from assets.models import Asset
from core.params import parse_id, parse_ids
from library import choices as library_choices
from runway import catalog

PICKER_LIMIT = 48


class CatalogChoiceField(forms.ChoiceField):
    """A select whose accepted values the catalog checks, with its own clearer message."""

    def valid_value(self, value: Any) -> bool:
        return True


class PickBoundField(forms.BoundField):
    """An asset picker as the template draws it: each asset beside whether it is chosen."""

    @property
    def picks(self) -> list[tuple[Asset, bool]]:
        value = self.value()
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")}
        return [(asset, str(asset.pk) in chosen) for asset in self.field.picker_assets]


class AssetPickField(forms.ModelChoiceField):
    """One project asset; the catalog, not the queryset, says which kinds fit."""

    picker_assets: list[Asset]
    multiple = False
    bound_field_class = PickBoundField

    def to_python(self, value):
        # Only an id reaches the database: "²" or a 20-digit number is simply not one of ours.
        if value not in self.empty_values and parse_id(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class AssetsPickField(forms.ModelMultipleChoiceField):
    """Several project assets."""

    picker_assets: list[Asset]
    multiple = True
    bound_field_class = PickBoundField

    def _check_values(self, value):
        if parse_ids(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"value": "that"})
        return super()._check_values(value)


class SwitchChoiceField(forms.ChoiceField):
    """An optional switch with no stated default: the model's choice (not sent), on or off."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("", "— model's choice —"), ("on", "On"), ("off", "Off")], **kwargs)

    def prepare_value(self, value):
        if value is True:
            return "on"
        if value is False:
            return "off"
        return value


class ListTextField(forms.CharField):
    """A list setting typed as text: colours or times by commas, shots one per line."""

    def __init__(self, *, shots: bool, **kwargs):
        self.shots = shots
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            if self.shots:
                return "\n".join(f"{item.get('duration')}: {item.get('prompt', '')}" for item in value
                                 if isinstance(item, dict))
            return ", ".join(_plain(v) if isinstance(v, int | float) else str(v) for v in value)
        return value


def _plain(number: float) -> str:
    """4294967295 and 0.5, never 4.29497e+09."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _facts(asset: Asset) -> catalog.MediaFacts:
    return catalog.MediaFacts(asset.kind, asset.width, asset.height, asset.duration)


class GenerationForm(forms.Form):
    """The settings of one catalog model as form fields; `clean` validates with the catalog.

    Django fields only parse and render: every limit and message comes from the catalog, so
    the form refuses exactly what the catalog (and the pipeline after it) would refuse.
    After `is_valid()`, `params` holds what `submit.submit_generation` takes.
    """

    def __init__(self, *args, model: catalog.Model, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.project = project
        self.params: dict[str, Any] = {}
        project_assets = Asset.objects.in_project(project)
        for f in model.fields:
            self.fields[f.name] = self._field_for(f, project_assets)
        for name, value in catalog.default_params(model).items():
            self.initial.setdefault(name, value)

    def _field_for(self, f: catalog.Field, project_assets: QuerySet[Asset]) -> forms.Field:
        common: dict[str, Any] = {"label": f.label, "required": False, "help_text": f.help}
        if f.kind == "text":
            attrs = {"rows": 4, "data-max-length": f.max_length or "",
                     "aria-describedby": f"id_{f.name}_help id_{f.name}_count"}
            widget = forms.Textarea(attrs=attrs) if f.prose else forms.TextInput(attrs=attrs)
            text = forms.CharField(widget=widget, **common)
            text.max_characters = f.max_length  # type: ignore[attr-defined]
            return text
        if f.kind in ("int", "number"):
            attrs: dict[str, Any] = {"step": 1 if f.kind == "int" else "any"}
            if f.min is not None:
                attrs["min"] = _plain(f.min)
            if f.max is not None:
                attrs["max"] = _plain(f.max)
            if f.name == "seed":
                attrs["placeholder"] = "Random"
            field_class = forms.IntegerField if f.kind == "int" else forms.FloatField
            return field_class(widget=forms.NumberInput(attrs=attrs), **common)
        if f.kind == "choice":
            choices: list[Any] = [(str(v), label) for v, label in f.choice_pairs]
            if f.library:
                choices = self._with_library(f, choices)
            if not f.required or not choices:
                choices.insert(0, ("", "— model's choice —" if not f.required else "— choose one —"))
            return CatalogChoiceField(choices=choices, **common)
        if f.kind == "bool" and f.tristate:
            return SwitchChoiceField(**common)
        if f.kind == "bool":
            return forms.BooleanField(**common)
        if f.kind in ("texts", "numbers", "segments"):
            shots = f.kind == "segments"
            widget = forms.Textarea(attrs={"rows": 3}) if shots else forms.TextInput()
            return ListTextField(shots=shots, widget=widget, **common)
        if f.kind in ("asset", "assets"):
            # Any asset of this project parses; a wrong kind gets the catalog's message.
            picker = list(project_assets.filter(kind__in=f.media_kinds)[:PICKER_LIMIT])
            if f.kind == "asset":
                field: forms.Field = AssetPickField(queryset=project_assets, **common)
            else:
                field = AssetsPickField(queryset=project_assets, **common)
            field.is_asset_picker = True  # type: ignore[attr-defined]
            field.picker_assets = picker  # type: ignore[attr-defined]
            field.media_kinds = f.media_kinds  # type: ignore[attr-defined]
            field.catalog_field = f  # type: ignore[attr-defined]
            return field
        raise ValueError(f"unknown field kind {f.kind!r}")

    def _with_library(self, f: catalog.Field, presets: list[Any]) -> list[Any]:
        """The project's own voices, avatars or routers beside Runway's presets, each in a group."""
        own = library_choices.choices_for(self.project, f.library)
        if not presets:
            return own
        if not own:
            return presets
        mine = {"voice": "This project's voices", "avatar": "This project's avatars"}[f.library]
        return [(mine, own), ("Runway's presets", presets)]

    def _raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in self.model.fields:
            key = self.add_prefix(f.name)
            if f.kind == "assets" and hasattr(self.data, "getlist"):
                raw[f.name] = self.data.getlist(key)
            else:
                raw[f.name] = self.data.get(key)
        return raw

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        params, errors = catalog.clean_params(self.model, self._raw())
        facts: dict[str, Any] = {}
        for f in self.model.fields:
            if f.kind not in ("asset", "assets") or f.name not in params:
                continue
            chosen = cleaned.get(f.name)
            if f.name in self.errors or chosen is None:
                continue
            if f.kind == "asset":
                params[f.name] = chosen.pk
                facts[f.name] = _facts(chosen)
            else:
                by_pk = {a.pk: a for a in chosen}
                pks = [int(v) for v in params[f.name]]
                params[f.name] = pks
                facts[f.name] = [_facts(by_pk[pk]) for pk in pks if pk in by_pk]
        for name, messages in catalog.validate(self.model, params, facts).items():
            errors.setdefault(name, messages)
        for name, messages in errors.items():
            field = None if name == catalog.ALL else name
            if field is not None and (field not in self.fields or field in self.errors):
                continue  # Django already said what's wrong with this one
            for message in messages:
                self.add_error(field, message)
        self.params = params
        return cleaned
