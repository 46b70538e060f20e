"""The generation form is built from the catalog and refuses exactly what the catalog refuses."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from assets.forms import AssetUploadForm
from assets.models import Asset
from generations.forms import GenerationForm
from runway import catalog
from tests.generations.catalog_cases import invalid_examples, valid_params
from tests.generations.gen_helpers import SpecAssets, expressible, form_data

pytestmark = [pytest.mark.every_model, pytest.mark.django_db]

MODELS = catalog.all_models()


def model_id(model: catalog.Model) -> str:
    return f"{model.endpoint}/{model.id}"


def as_querydict(data: dict) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in data.items():
        q.setlist(key, value if isinstance(value, list) else [value])
    return q


@pytest.fixture
def spec_assets(project, editor) -> SpecAssets:
    return SpecAssets(project, editor)


@pytest.mark.parametrize("model", MODELS, ids=model_id)
def test_default_form_with_suitable_assets_is_valid(model, project, spec_assets):
    params = valid_params(model)
    form = GenerationForm(as_querydict(form_data(model, params, spec_assets)), model=model, project=project)
    assert form.is_valid(), form.errors
    # What goes to the pipeline: typed values, asset ids as ints (lists for multi-asset fields).
    for f in model.fields:
        if f.kind == "asset" and f.name in params:
            assert form.params[f.name] == spec_assets(params[f.name]).pk
        elif f.kind == "assets" and f.name in params:
            assert form.params[f.name] == [spec_assets(s).pk for s in params[f.name]]
        elif f.name in params:
            assert form.params[f.name] == params[f.name]
    assert catalog.validate(model, form.params, _facts(model, form.params)) == {}


def _facts(model, params):
    facts = {}
    for f in model.fields:
        if f.kind == "asset" and f.name in params:
            a = Asset.objects.get(pk=params[f.name])
            facts[f.name] = catalog.MediaFacts(a.kind, a.width, a.height, a.duration)
        elif f.kind == "assets" and f.name in params:
            facts[f.name] = [catalog.MediaFacts(a.kind, a.width, a.height, a.duration)
                             for a in (Asset.objects.get(pk=pk) for pk in params[f.name])]
    return facts


INVALID = [(model, description, params, field)
           for model in MODELS
           for description, params, field in invalid_examples(model)
           if expressible(description)]


@pytest.mark.parametrize(("model", "description", "params", "field"), INVALID,
                         ids=[f"{model_id(m)}: {d}" for m, d, _, _ in INVALID])
def test_every_invalid_example_is_refused_on_its_field(model, description, params, field, project,
                                                       spec_assets):
    form = GenerationForm(as_querydict(form_data(model, params, spec_assets)), model=model, project=project)
    assert not form.is_valid()
    assert field in form.errors, (description, form.errors)
    assert all(message for messages in form.errors.values() for message in messages)


def test_fields_follow_the_model(project):
    gen45 = catalog.get_model("image_to_video", "gen4.5")
    form = GenerationForm(model=gen45, project=project)
    assert list(form.fields) == list(gen45.field_names)
    assert form.fields["ratio"].choices[0] == ("1280:720", "1280×720 (landscape)")
    prompt = form.fields["prompt_text"].widget.attrs
    assert prompt["data-max-length"] == 1000
    duration = form.fields["duration"].widget.attrs
    assert (duration["min"], duration["max"]) == ("2", "10")
    assert form.initial["duration"] == 5
    veo = GenerationForm(model=catalog.get_model("text_to_video", "veo3.1"), project=project)
    assert veo.initial["audio"] is True
    assert [v for v, _ in veo.fields["ratio"].choices] == list(catalog.get_model("text_to_video", "veo3.1")
                                                               .field("ratio").choice_values)


def test_asset_choices_are_the_projects_assets_of_the_allowed_kinds(project, editor, spec_assets):
    image, audio = spec_assets("image 1280x720"), spec_assets("audio 10s")
    other = editor.memberships.exclude(project=project).get().project
    foreign = SpecAssets(other, editor)("image 1280x720")
    model = catalog.get_model("image_to_video", "gen4.5")
    form = GenerationForm(model=model, project=project)
    assert form.fields["prompt_image"].picker_assets == [image]
    assert audio not in form.fields["prompt_image"].picker_assets
    data = form_data(model, valid_params(model), spec_assets)
    data["prompt_image"] = str(foreign.pk)
    bound = GenerationForm(as_querydict(data), model=model, project=project)
    assert not bound.is_valid()
    assert "prompt_image" in bound.errors  # another project's asset is not a choice


def test_a_ratio_the_model_does_not_take_gets_the_catalogs_message(project, spec_assets):
    model = catalog.get_model("text_to_video", "gen4.5")
    data = form_data(model, {**valid_params(model), "ratio": "1:1"}, spec_assets)
    form = GenerationForm(as_querydict(data), model=model, project=project)
    assert not form.is_valid()
    assert form.errors["ratio"] == ["Gen-4.5 can't use '1:1' for ratio; choose one of: "
                                    "1280:720 or 720:1280."]


def test_prompt_length_counts_utf16_units(project, spec_assets):
    model = catalog.get_model("text_to_video", "gen4.5")
    ok = GenerationForm(as_querydict(form_data(model, {**valid_params(model), "prompt_text": "🎬" * 500},
                                               spec_assets)), model=model, project=project)
    assert ok.is_valid(), ok.errors
    over = GenerationForm(as_querydict(form_data(model, {**valid_params(model), "prompt_text": "🎬" * 500 + "a"},
                                                 spec_assets)), model=model, project=project)
    assert not over.is_valid()
    assert "1001 characters" in over.errors["prompt_text"][0]


def test_one_message_per_bad_field(project, spec_assets):
    model = catalog.get_model("text_to_video", "gen4.5")
    data = form_data(model, {**valid_params(model), "duration": "many"}, spec_assets)
    form = GenerationForm(as_querydict(data), model=model, project=project)
    assert not form.is_valid()
    assert len(form.errors["duration"]) == 1


def test_upload_form_is_a_model_form_with_an_optional_name():
    form = AssetUploadForm()
    assert form._meta.model is Asset
    assert not form.fields["name"].required
    assert form.fields["file"].widget.attrs["data-max-bytes"] > 0
    too_large = AssetUploadForm({}, {}, too_large=True)
    assert not too_large.is_valid()
    assert "larger than 200 MB" in too_large.errors["file"][0]
