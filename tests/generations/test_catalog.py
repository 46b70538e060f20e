"""The model catalog: coverage, validation messages and credit estimates."""

from __future__ import annotations

import pytest

from runway import catalog
from runway.catalog import (
    ENDPOINTS,
    FIELD_KINDS,
    WIRE_TAGS,
    CatalogError,
    MediaFacts,
    all_models,
    clean_params,
    estimate_credits,
    get_endpoint,
    get_model,
    utf16_length,
    validate,
)
from tests.generations.catalog_cases import assets_for, invalid_examples, valid_params

REQUIRED_MODELS = {
    "image_to_video": {"gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast"},
    "text_to_video": {"gen4.5", "veo3.1", "veo3.1_fast"},
    "video_to_video": {"aleph2"},
    "text_to_image": {"gen4_image", "gen4_image_turbo", "gemini_2.5_flash"},
    "image_upscale": {"magnific_precision_upscaler_v2"},
    "video_upscale": {"magnific_video_upscaler_creative"},
    "character_performance": {"act_two"},
    "sound_effect": {"eleven_text_to_sound_v2"},
    "text_to_speech": {"eleven_multilingual_v2"},
    "speech_to_speech": {"eleven_multilingual_sts_v2"},
    "voice_dubbing": {"eleven_voice_dubbing"},
    "voice_isolation": {"eleven_voice_isolation"},
    "video_to_audio": {"mirelo_sfx_2_0"},
    "video_to_hdr": {"ruby"},
    "avatar_videos": {"gwm1_avatars"},
    "generate_video": {"auto"},
    "generate_image": {"auto"},
    "generate_audio": {"auto"},
}

MODELS = all_models()
MODEL_IDS = [f"{m.endpoint}/{m.id}" for m in MODELS]


def model(endpoint: str, model_id: str) -> catalog.Model:
    return get_model(endpoint, model_id)


def test_every_endpoint_and_required_model_is_in_the_catalog():
    assert set(ENDPOINTS) == set(REQUIRED_MODELS)
    for key, wanted in REQUIRED_MODELS.items():
        endpoint = get_endpoint(key)
        assert endpoint.key == key
        assert endpoint.output_kind in ("video", "image", "audio")
        assert endpoint.label and endpoint.description
        assert wanted <= {m.id for m in endpoint.models}
        assert endpoint.default_model is endpoint.models[0]


@pytest.mark.parametrize("m", MODELS, ids=MODEL_IDS)
def test_entries_are_well_formed(m):
    names = [f.name for f in m.fields]
    assert len(names) == len(set(names)), "duplicate field"
    assert m.endpoint in ENDPOINTS
    for f in m.fields:
        assert f.kind in FIELD_KINDS
        assert f.wire is None or f.wire in WIRE_TAGS
        assert f.name == f.name.lower() and " " not in f.name
        if f.kind == "choice":
            assert f.choices or f.library == "router"  # a router is always one of the project's own
        if f.kind in ("asset", "assets"):
            assert f.media_kinds
        if f.default is not None:
            assert not validate(m, {f.name: f.default}).get(f.name), f.name
    for rule in m.rules:
        assert rule.field in names
        assert rule.other is None or rule.other in names
    assert m.price.unit in (("routed",) if m.routed else ("second", "image", "task", "characters", "input_second"))


@pytest.mark.parametrize("m", MODELS, ids=MODEL_IDS)
def test_every_model_has_a_valid_default_combination(m):
    params = valid_params(m)
    assert validate(m, params, assets_for(m, params)) == {}
    assert estimate_credits(m, params, assets_for(m, params)) > 0


@pytest.mark.parametrize("m", MODELS, ids=MODEL_IDS)
def test_every_invalid_example_the_catalog_knows_is_refused(m):
    examples = list(invalid_examples(m))
    # Every field with a limit yields at least one example.
    limited = {f.name for f in m.fields
               if f.required or f.choices or f.min is not None or f.max is not None
               or f.max_length or f.kind in ("asset", "assets", "bool")}
    assert limited <= {field for _, _, field in examples}
    for description, params, field in examples:
        errors = validate(m, params, assets_for(m, params))
        assert errors.get(field), f"{m.id}: {description} was accepted: {params}"
        assert all(isinstance(msg, str) and msg.endswith(".") for msgs in errors.values()
                   for msg in msgs)


GEN45 = ("image_to_video", "gen4.5")
IMAGE = "image 1280x720"


def gen45(**changes):
    return {"prompt_image": IMAGE, "prompt_text": "a dog", "ratio": "1280:720",
            "duration": 5, **changes}


@pytest.mark.parametrize(("endpoint", "model_id", "params", "field", "message"), [
    (*GEN45, gen45(duration=12), "duration", "Gen-4.5 takes 2–10 seconds; you asked for 12."),
    (*GEN45, gen45(duration=1), "duration", "Gen-4.5 takes 2–10 seconds; you asked for 1."),
    (*GEN45, gen45(ratio="1920:1080"), "ratio", "Gen-4.5 can't use '1920:1080' for ratio"),
    (*GEN45, gen45(prompt_text="x" * 1001), "prompt_text", "1001 characters, the limit is 1000"),
    (*GEN45, gen45(prompt_text="\U0001f600" * 501), "prompt_text", "1002 characters"),
    (*GEN45, gen45(prompt_text=""), "prompt_text", "Prompt is required for Gen-4.5."),
    (*GEN45, gen45(prompt_image=None), "prompt_image", "Image is required for Gen-4.5."),
    (*GEN45, gen45(motion=3), "__all__", "Gen-4.5 has no setting 'motion'."),
    (*GEN45, gen45(seed=-1), "seed", "Seed must be between 0 and 4294967295"),
    (*GEN45, gen45(duration=5.5), "duration", "Duration must be a whole number."),
    (*GEN45, gen45(duration=True), "duration", "Duration must be a whole number."),
    (*GEN45, gen45(prompt_image="video 1280x720 5s"), "prompt_image",
     "Image must be an image; this asset is a video."),
    (*GEN45, gen45(prompt_image="image 3000x1000"), "prompt_image",
     "width ÷ height is between 0.5 and 2; this one is 3000×1000 (3.00)."),
    (*GEN45, gen45(prompt_image="image 8000x6000"), "prompt_image",
     "at most 7999 px on each side; this one is 8000×6000."),
    ("image_to_video", "veo3.1",
     {"prompt_image": IMAGE, "ratio": "1280:720", "duration": 5}, "duration",
     "Veo 3.1 takes 4, 6 or 8 seconds; you asked for 5."),
    ("image_to_video", "veo3.1", {"last_frame": IMAGE, "ratio": "1280:720"}, "__all__",
     "Veo 3.1 can't use a last frame without a first frame."),
    (*GEN45, gen45(prores_profile="422 HQ"), "__all__",
     "Gen-4.5 takes a ProRes profile only with output format ProRes"),
    (*GEN45, gen45(prores_profile="422 HQ", output_format="hdr10"), "__all__",
     "Gen-4.5 takes a ProRes profile only with output format ProRes"),
    (*GEN45, gen45(output_format="mov"), "output_format", "Gen-4.5 can't use 'mov' for output format"),
    ("video_to_video", "aleph2", {"video_uri": "video 1280x720 5s", "output_format": "hdr10"},
     "output_format", "Aleph 2 can't use 'hdr10' for output format"),
    ("video_to_video", "aleph2",
     {"video_uri": "video 1280x720 5s", "output_format": "png_sequence", "prores_profile": "4444"},
     "__all__", "Aleph 2 takes a ProRes profile only with output format ProRes"),
    ("text_to_video", "gen4.5", {"prompt_text": "a", "ratio": "1104:832", "duration": 5},
     "ratio", "choose one of: 1280:720 or 720:1280."),
    ("text_to_image", "gen4_image_turbo", {"prompt_text": "a", "ratio": "1280:720"},
     "reference_images", "Reference images is required"),
    ("text_to_image", "gen4_image",
     {"prompt_text": "a", "ratio": "1280:720", "reference_images": [IMAGE] * 4},
     "reference_images", "takes at most 3 reference images; you chose 4."),
    ("image_upscale", "magnific_precision_upscaler_v2", {"image_uri": "image 120x90"},
     "image_uri", "This model needs an image at least 300 px on each side; this one is 120×90."),
    ("image_upscale", "magnific_precision_upscaler_v2",
     {"image_uri": "image 2000x2000", "scale_factor": 4}, "image_uri",
     "Upscaling 2000×2000 by 4× gives 8000×8000, over the 25.3 megapixel limit"),
    ("image_upscale", "magnific_precision_upscaler_v2",
     {"image_uri": IMAGE, "flavor": "painterly"}, "flavor", "choose one of: sublime, photo"),
    ("video_upscale", "magnific_video_upscaler_creative",
     {"video_uri": "video 1280x720 31s"}, "video_uri", "at most 30 seconds long"),
    ("character_performance", "act_two",
     {"character": IMAGE, "reference": "video 1280x720 2s"}, "reference",
     "Performance video must be between 3 and 30 seconds long for Act-Two; this one is 2.0 s."),
    ("character_performance", "act_two",
     {"character": IMAGE, "reference": "video 1280x720 5s", "expression_intensity": 6},
     "expression_intensity", "Expression intensity must be between 1 and 5; you asked for 6."),
    ("sound_effect", "eleven_text_to_sound_v2", {"prompt_text": "rain", "duration": 0.25},
     "duration", "takes 0.5–30 seconds; you asked for 0.25."),
    ("text_to_speech", "eleven_multilingual_v2", {"prompt_text": "hi", "voice": "Alexa"},
     "voice", "can't use 'Alexa' for voice"),
    ("voice_dubbing", "eleven_voice_dubbing", {"audio_uri": "audio 10s", "target_lang": "xx"},
     "target_lang", "choose one of: en, hi"),
    ("voice_dubbing", "eleven_voice_dubbing",
     {"audio_uri": "audio 10s", "target_lang": "fr", "num_speakers": 0},
     "num_speakers", "Speakers must be at least 1; you asked for 0."),
    ("voice_isolation", "eleven_voice_isolation", {"audio_uri": "audio 4.6s"}, "audio_uri",
     "Recording must be between 4.6 and 3600 seconds long"),
    ("voice_isolation", "eleven_voice_isolation", {"audio_uri": "audio 3600s"}, "audio_uri",
     "this one is 3600.0 s."),
    ("speech_to_speech", "eleven_multilingual_sts_v2", {"media": IMAGE, "voice": "Maya"},
     "media", "Recording must be an audio or video; this asset is an image."),
])
def test_invalid_combinations_are_refused_with_a_specific_message(
        endpoint, model_id, params, field, message):
    m = model(endpoint, model_id)
    errors = validate(m, params, assets_for(m, params))
    assert any(message in msg for msg in errors.get(field, [])), errors


def test_valid_edges_are_accepted():
    m = model(*GEN45)
    for params in (gen45(duration=2), gen45(duration=10), gen45(prompt_text="x" * 1000),
                   gen45(prompt_text="\U0001f600" * 500), gen45(prompt_image="image 7999x4000"),
                   gen45(prompt_image="image 1000x2000"), gen45(seed=4_294_967_295)):
        assert validate(m, params, assets_for(m, params)) == {}, params
    iso = model("voice_isolation", "eleven_voice_isolation")
    assert validate(iso, {"audio_uri": "x"}, {"audio_uri": MediaFacts("audio", duration=4.7)}) == {}
    for endpoint, image in (("image_to_video", {"prompt_image": IMAGE}), ("text_to_video", {"prompt_text": "a"})):
        for veo in ("veo3.1", "veo3.1_fast"):  # duration is optional in the SDK: Runway's default applies
            m = model(endpoint, veo)
            params = {**image, "ratio": "1280:720"}
            assert validate(m, params, assets_for(m, params)) == {}, (endpoint, veo)
    for fmt in ("prores", "hdr_prores"):
        assert validate(model(*GEN45), gen45(output_format=fmt, prores_profile="422 HQ"),
                        assets_for(model(*GEN45), gen45())) == {}
    aleph = model("video_to_video", "aleph2")
    for params in ({"video_uri": "video 1280x720 5s", "output_format": "prores", "prores_profile": "4444 XQ"},
                   {"video_uri": "video 1280x720 5s", "output_format": "sdr_rec709_10bit"}):
        assert validate(aleph, params, assets_for(aleph, params)) == {}, params
    up = model("image_upscale", "magnific_precision_upscaler_v2")
    params = {"image_uri": "image 300x8000", "scale_factor": 2}
    assert validate(up, params, assets_for(up, params)) == {}


def test_unknown_endpoint_and_model_raise_a_clear_catalog_error():
    with pytest.raises(CatalogError, match="Unknown endpoint 'image_to_audio'"):
        get_endpoint("image_to_audio")
    with pytest.raises(CatalogError, match="Image → Video has no model 'gen2'"):
        get_model("image_to_video", "gen2")
    with pytest.raises(KeyError):  # still a KeyError for dict-style callers
        get_model("text_to_video", "gen4_turbo")


def test_utf16_length_counts_astral_characters_twice():
    assert utf16_length("abc") == 3
    assert utf16_length("é") == 1
    assert utf16_length("\U0001f600") == 2


@pytest.mark.parametrize(("endpoint", "model_id", "params", "credits"), [
    ("image_to_video", "gen4.5", {"duration": 5}, 60),
    ("text_to_video", "gen4.5", {"duration": 10}, 120),
    ("image_to_video", "gen4_turbo", {"duration": 10}, 50),
    ("image_to_video", "gen4_turbo", {}, 25),  # nothing sent: Runway's default of 5 s
    ("image_to_video", "veo3.1", {"duration": 8, "audio": True}, 320),
    ("image_to_video", "veo3.1", {"duration": 8, "audio": False}, 160),
    ("text_to_video", "veo3.1_fast", {"duration": 4, "audio": False}, 40),
    ("text_to_video", "veo3.1_fast", {"duration": 6}, 90),  # audio on by default
    ("image_to_video", "veo3.1", {}, 320),  # no duration sent: Runway's default of 8 s
    ("text_to_video", "seedance2", {"duration": 7}, 252),
    ("image_to_video", "gen4.5", {"duration": 5, "output_format": "mp4"}, 60),
    ("image_to_video", "gen4.5", {"duration": 5, "output_format": "prores"}, 85),  # +5/s
    ("text_to_video", "gen4.5", {"duration": 5, "output_format": "png_sequence"}, 85),
    ("text_to_video", "gen4.5", {"duration": 4, "output_format": "hdr10"}, 128),  # +20/s
    ("image_to_video", "seedance2", {"duration": "auto"}, 540),  # billed at 15 s up front
    ("text_to_video", "veo3.1_fast", {"audio": False}, 80),
    ("text_to_image", "gen4_image", {"ratio": "1920:1080"}, 8),
    ("text_to_image", "gen4_image", {"ratio": "1080:1080"}, 8),
    ("text_to_image", "gen4_image", {"ratio": "1280:720"}, 5),
    ("text_to_image", "gen4_image_turbo", {"ratio": "1920:1080"}, 2),
    ("text_to_image", "gemini_2.5_flash", {"ratio": "1024:1024"}, 5),
    ("text_to_speech", "eleven_multilingual_v2", {"prompt_text": "x" * 120}, 3),
    ("text_to_speech", "eleven_multilingual_v2", {"prompt_text": "x" * 50}, 1),
    ("text_to_speech", "eleven_multilingual_v2", {"prompt_text": "x" * 51}, 2),
    ("sound_effect", "eleven_text_to_sound_v2", {"prompt_text": "rain"}, 2),
])
def test_estimates_from_params(endpoint, model_id, params, credits):
    assert estimate_credits(model(endpoint, model_id), params) == credits


@pytest.mark.parametrize(("endpoint", "model_id", "field", "seconds", "credits"), [
    ("speech_to_speech", "eleven_multilingual_sts_v2", "media", 10, 4),  # 3 s blocks
    ("voice_dubbing", "eleven_voice_dubbing", "audio_uri", 10, 5),  # 2 s blocks
    ("voice_isolation", "eleven_voice_isolation", "audio_uri", 13, 3),  # 6 s blocks
    ("character_performance", "act_two", "reference", 7.2, 40),  # 5 per started second
    ("video_to_video", "aleph2", "video_uri", 4, 60),
    ("video_upscale", "magnific_video_upscaler_creative", "video_uri", 5, 50),
])
def test_estimates_from_input_duration(endpoint, model_id, field, seconds, credits):
    m = model(endpoint, model_id)
    facts = MediaFacts("video" if "video" in m.field(field).media_kinds else "audio",
                       1280, 720, seconds)
    assert estimate_credits(m, {field: "asset-1"}, {field: facts}) == credits


def test_prices_without_a_published_figure_say_so():
    for m in all_models():
        if m.price.estimate:
            assert "estimate" in m.price.note.lower()
    assert model("image_upscale", "magnific_precision_upscaler_v2").price.estimate


def test_clean_params_types_form_strings():
    m = model("image_to_video", "veo3.1")
    params, errors = clean_params(m, {
        "prompt_image": "42", "prompt_text": "  waves  ", "ratio": "720:1280",
        "duration": "6", "audio": "on", "seed": "", "csrfmiddlewaretoken": "x",
    })
    assert errors == {}
    assert params == {"prompt_image": "42", "prompt_text": "  waves  ", "ratio": "720:1280",
                      "duration": 6, "audio": True}
    params, errors = clean_params(m, {"duration": "six", "audio": "maybe", "seed": "1.5"})
    assert set(errors) == {"audio", "seed"}
    # An unknown choice is kept so that validate() can list the accepted values.
    assert "4, 6 or 8 seconds" in validate(m, params)["duration"][0]
    assert "whole number" in clean_params(model(*GEN45), {"duration": "six"})[1]["duration"][0]
    # A checkbox left unticked is absent from the form data: audio off.
    assert clean_params(m, {})[0]["audio"] is False


def test_seedance2_duration_is_4_to_15_seconds_or_auto():
    for endpoint, base in (("image_to_video", {"prompt_image": IMAGE}), ("text_to_video", {"prompt_text": "waves"})):
        m = model(endpoint, "seedance2")
        params, errors = clean_params(m, {**base, "duration": "auto"})
        assert errors == {} and params["duration"] == "auto"
        assert clean_params(m, {"duration": "15"})[0]["duration"] == 15
        assert validate(m, params, assets_for(m, params)) == {}
        for seconds in (4, 15):
            assert "duration" not in validate(m, {**base, "duration": seconds})
        for wrong in (3, 16, "Auto", "7.5"):
            assert validate(m, {**base, "duration": wrong}).get("duration"), wrong
        assert "Auto" in dict(m.field("duration").choice_pairs)["auto"]


def test_clean_params_then_validate_reports_bad_choices_by_name():
    m = model("text_to_image", "gen4_image")
    params, errors = clean_params(m, {"prompt_text": "a cat", "ratio": "1:1",
                                      "reference_images": ["7", "8"]})
    assert errors == {}
    assert params["reference_images"] == ["7", "8"]
    found = validate(m, params, {"reference_images": [MediaFacts("image", 800, 800)] * 2})
    assert list(found) == ["ratio"]
    sound = model("sound_effect", "eleven_text_to_sound_v2")
    params, errors = clean_params(sound, {"prompt_text": "rain", "duration": "2.5"})
    assert errors == {} and params["duration"] == 2.5
