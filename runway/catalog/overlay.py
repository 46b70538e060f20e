"""What the SDK cannot say about a model: how Takes presents it.

Labels, descriptions and the order of endpoints and models; per field the label, help,
form starting value (`default`), unit and media kind; checks on input media (aspect,
size, length) from CONTRACT §5.4 and the model notes; and a few bounds Runway documents
that the SDK's types leave open, each marked where it is set. What a model takes — its
fields, required-ness, choices, the SDK's ranges — comes from the SDK (`runway.catalog.build`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from runway.catalog.data import ROUTED, SEED_MAX, Rule

# Which media an input takes, by SDK keyword (typed inputs say it themselves: `{type, uri}`).
MEDIA_KINDS = {
    "prompt_image": "image", "image_uri": "image", "mask_uri": "image", "references": "image",
    "reference_images": "image", "keyframes": "image", "video_uri": "video", "prompt_video": "video",
    "reference_videos": "video", "audio_uri": "audio", "reference_audio": "audio", "reference_audios": "audio",
}

FIELD_LABELS = {
    "prompt_text": "Prompt", "prompt_image": "Image", "last_frame": "Last frame", "prompt_video": "Video",
    "video_uri": "Video", "image_uri": "Image", "audio_uri": "Recording", "mask_uri": "Mask",
    "negative_prompt": "Negative prompt", "ratio": "Ratio", "duration": "Duration", "seed": "Seed",
    "audio": "Generate audio", "content_moderation": "Public figures", "output_format": "Output format",
    "prores_profile": "ProRes profile", "references": "Reference images", "reference_images": "Reference images",
    "reference_videos": "Reference videos", "reference_audio": "Reference audio",
    "reference_audios": "Reference audio", "keyframes": "Keyframes", "keyframe_seconds": "Keyframe times",
    "multi_prompt": "Shots", "shot_type": "Shot transitions", "keep_original_sound": "Keep the original sound",
    "cfg_scale": "Prompt adherence", "resolution": "Resolution", "quality": "Quality",
    "output_count": "Images", "num_variants": "Variants", "voice": "Voice", "target_lang": "Target language",
    "language_code": "Language", "draft": "Draft (480p preview)", "draft_task_id": "Enhance draft",
    "prompt_expansion_mode": "Prompt expansion", "mode": "Mode", "target_aspect_ratio": "Target aspect ratio",
    "target_framerate": "Target frame rate", "scale_factor": "Scale", "sharpen": "Sharpen",
    "smart_grain": "Smart grain", "ultra_detail": "Ultra detail", "flavor": "Flavor", "creativity": "Creativity",
    "fps_boost": "Boost frame rate", "character": "Character", "reference": "Performance video",
    "body_control": "Body control", "expression_intensity": "Expression intensity", "loop": "Loop seamlessly",
    "media": "Recording", "remove_background_noise": "Remove background noise",
    "disable_voice_cloning": "Don't clone the voice", "drop_background_audio": "Drop background audio",
    "num_speakers": "Speakers", "format": "Format", "preserve_speech": "Keep speech",
    "background": "Background", "background_color": "Background colour", "colors": "Colours",
    "grounding": "Web grounding", "edit": "Edit the reference", "precise_edit": "Precise edit",
    "thinking_level": "Thinking", "apply_text_normalization": "Text normalisation", "stability": "Stability",
    "similarity_boost": "Similarity", "style": "Style exaggeration", "speed": "Speed",
    "use_speaker_boost": "Speaker boost", "previous_text": "Text before", "next_text": "Text after",
    "speech_rate": "Speech rate", "pitch_rate": "Pitch", "loudness_rate": "Loudness", "sample_rate": "Sample rate",
    "config_id": "Router", "avatar": "Avatar", "speech_text": "Script", "speech_audio": "Recording to speak",
    "speech_voice": "Voice", "first_frame": "First frame", "source_video": "Source video",
    "aspect_ratio": "Aspect ratio", "type": "What to make",
}

# Output containers and encodings (the SDK's outputFormat Literals); surcharges per its docstrings.
OUTPUT_FORMAT_LABELS = {
    "mp4": "MP4, H.264 (no surcharge)",
    "prores": "ProRes .mov (+5 credits/s)",
    "png_sequence": "PNG sequence, .zip (+5 credits/s)",
    "hdr10": "HDR10 10-bit .mp4 (+20 credits/s)",
    "hlg": "HLG 10-bit .mp4 (+20 credits/s)",
    "sdr_rec709_10bit": "SDR Rec.709 10-bit .mp4 (+20 credits/s)",
    "hdr_pq_12bit_master": "HDR PQ 12-bit master .mov (+20 credits/s)",
    "hdr_prores": "HDR ProRes .mov (+20 credits/s)",
    "hdr_png_sequence": "HDR 16-bit PNG sequence, .zip (+20 credits/s)",
    "hdr_exr_sequence": "HDR OpenEXR sequence, .zip (+20 credits/s)",
    "hdr_exr_acescg_sequence_1_3": "HDR EXR ACEScg (ACES 1.3), .zip (+20 credits/s)",
    "hdr_exr_acescg_sequence_2_0": "HDR EXR ACEScg (ACES 2.0), .zip (+20 credits/s)",
    "mov": "QuickTime .mov (high colour precision, for grading)",
    # images and audio
    "png": "PNG", "jpeg": "JPEG", "webp": "WebP", "wav": "WAV", "mp3": "MP3", "flac": "FLAC", "ogg_opus": "Ogg Opus",
}
DUBBING_LANGUAGES = {
    "en": "English", "hi": "Hindi", "pt": "Portuguese", "zh": "Chinese", "es": "Spanish", "fr": "French",
    "de": "German", "ja": "Japanese", "ar": "Arabic", "ru": "Russian", "ko": "Korean", "id": "Indonesian",
    "it": "Italian", "nl": "Dutch", "tr": "Turkish", "pl": "Polish", "sv": "Swedish", "fil": "Filipino",
    "ms": "Malay", "ro": "Romanian", "uk": "Ukrainian", "el": "Greek", "cs": "Czech", "da": "Danish",
    "fi": "Finnish", "bg": "Bulgarian", "hr": "Croatian", "sk": "Slovak", "ta": "Tamil",
}
CHOICE_LABELS: dict[str, dict[Any, str]] = {
    "target_lang": DUBBING_LANGUAGES,
    "shot_type": {"customize": "Customize (cut at my shots)", "intelligence": "Intelligence (the model cuts)"},
    "duration": {"auto": "Auto (the model chooses)"},
    "type": {"speech": "Speech (the prompt is the script)", "audio": "Sound (the prompt describes it)"},
}

_PIXELS = re.compile(r"^(\d+):(\d+)$")
_AUTO = re.compile(r"^auto_(\w+)$")


def choice_label(name: str, value: Any) -> str:
    """How a choice reads in a select: ratios with their size and shape, output formats with surcharges."""
    if value in CHOICE_LABELS.get(name, {}):
        return CHOICE_LABELS[name][value]
    if name in ("output_format", "format") and value in OUTPUT_FORMAT_LABELS:
        return OUTPUT_FORMAT_LABELS[value]
    text = str(value)
    if name in ("avatar", "speech_voice"):  # Runway's preset ids: "cooking-teacher", "victoria"
        return text.replace("-", " ").capitalize()
    if name in ("ratio",) and (match := _PIXELS.match(text)):
        w, h = int(match[1]), int(match[2])
        shape = "landscape" if w > h else "portrait" if h > w else "square"
        if max(w, h) < 100:
            return f"{w}:{h} ({shape})"
        return f"{w}×{h} ({shape})"
    if match := _AUTO.match(text):
        return f"Auto ({match[1]})"
    return text


@dataclass(frozen=True)
class ModelOverlay:
    label: str
    description: str = ""
    order: tuple[str, ...] = ()  # these fields first, in this order; the rest after
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Field attributes to set
    rules: tuple[Rule, ...] = ()
    omit: tuple[str, ...] = ()  # SDK fields not offered in the form (each with its reason where set)


@dataclass(frozen=True)
class EndpointSpec:
    key: str
    label: str
    output_kind: str
    description: str
    models: dict[str, ModelOverlay]


# --- shared pieces -----------------------------------------------------------------------------

SEED_HELP = "Same seed and settings give a similar result; empty for random."
MODERATION_HELP = ("Content moderation of recognisable public figures: low is less strict about them; "
                   "empty (or auto) is Runway's usual strictness.")
OUTPUT_FORMAT_HELP = ("Empty gives an H.264 MP4. Other formats add a per-second surcharge: 5 credits/s for "
                      "ProRes and PNG sequences, 20 credits/s for 10-bit and deeper (40 credits/s when the "
                      "output is larger than 4 megapixels).")
PRORES_HELP = ("Only with ProRes output. Empty gives 4444 for ProRes and 422 HQ for HDR ProRes "
               "(which takes only 422, 422 HQ or 4444).")
REFS_HELP = "Refer to them in the prompt as @ref1, @ref2, @ref3."
AVATAR_HELP = "One of Runway's avatars, or one made in this project (Avatars page)."
ROUTER_HELP = "The router configuration Runway chooses the model under (Routers page)."
ROUTED_MEDIA_HELP: dict[str, dict[str, Any]] = {
    "first_frame": {"help": "Optional: the image the video starts from."},
    "last_frame": {"help": "Optional: the image it ends on; needs a first frame."},
    "source_video": {"help": "Optional: a video to restyle or edit (only models that do video to video remain)."},
    "reference_images": {"help": "Optional: more images for context (only models that take references remain)."},
    "reference_videos": {"help": "Optional: more videos for context (only models that take them remain)."},
}
ROUTED_HELP = ("Describe the {what}; Runway's model router chooses the model under one of this project's "
               "router configurations.")


# Presentation every model with such a field gets (a model's own overlay wins; the SDK's bounds stand).
SHARED_FIELDS: dict[str, dict[str, Any]] = {
    "seed": {"help": SEED_HELP, "min": 0, "max": SEED_MAX},  # CONTRACT §2.1: 0 … 2³²−1
    "content_moderation": {"help": MODERATION_HELP},
    "output_format": {"help": OUTPUT_FORMAT_HELP},
    "prores_profile": {"help": PRORES_HELP},
    "duration": {"unit": "seconds"},
    "last_frame": {"help": "Optional; needs a first frame."},
    "keyframe_seconds": {"help": "When each keyframe applies, in seconds from the start of the video, "
                                 "one time per keyframe in the same order, e.g. 0, 2.5, 5."},
    "multi_prompt": {"help": "One shot per line: its length in seconds, a colon, then its prompt "
                             "(e.g. 5: the boat leaves the harbour)."},
    "colors": {"help": "Six-digit hex colours, separated by commas (e.g. #FF8800, #0A2F5C)."},
    "prompt_image": {"help": "The image the video starts from."},
    "shot_type": {"help": "Customize cuts at the shots you write; intelligence lets the model place them "
                          "(it still needs a prompt). Empty is customize when you write shots."},
}


def prompt(max_length: int | None = None, **more: Any) -> dict[str, Any]:
    """The prompt's presentation; `max_length` only where Runway documents one the SDK leaves out."""
    found: dict[str, Any] = dict(more)
    if max_length is not None:
        found["max_length"] = max_length  # its help ("Up to … characters") follows in the builder
    return found


def image_rules(field_name: str) -> tuple[Rule, ...]:
    """Gen-4-family image inputs: aspect 0.5–2.0 and each side under 8000 px (§5.4)."""
    return (Rule("aspect", field_name, min=0.5, max=2.0), Rule("sides", field_name, max=7999))


PRORES_RULE = Rule("requires", "prores_profile", other="output_format", values=("prores", "hdr_prores"))


def video(label: str, *, prompt_max: int | None = None, order: tuple[str, ...] = (),
          fields: dict[str, dict[str, Any]] | None = None, rules: tuple[Rule, ...] = (),
          description: str = "") -> ModelOverlay:
    """A video model: the prompt's documented limit where the SDK has none, and its own settings."""
    found = {"prompt_text": prompt(prompt_max)} if prompt_max else {}
    found.update(fields or {})
    return ModelOverlay(label, description=description, order=order, fields=found, rules=rules)


SEEDANCE_DURATION = {"min": 4, "max": 15, "default": 5,  # CONTRACT §2.1: int 4–15, or "auto" (5.24)
                     "help": "Auto lets the model choose the length; 15 s is held, the unused seconds "
                             "are refunded."}
GROK_IMAGE = (Rule("aspect", "prompt_image", min=0.4, max=2.5),)  # the SDK's docstring: 0.4–2.5
H3_IMAGES = (Rule("sides", "prompt_image", min=256), Rule("sides", "last_frame", min=256))  # "at least 256"


def seedance(label: str, *, prompt_max: int = 3500) -> ModelOverlay:
    return video(label, prompt_max=prompt_max, fields={"duration": SEEDANCE_DURATION, "audio": {"default": True},
                                                       "ratio": {"default": "1280:720"}})


def gemini_omni(label: str, *, duration: dict[str, Any] | None = None) -> ModelOverlay:
    return video(label, prompt_max=4000, fields={"duration": {"min": 3, "max": 10, "default": 5, **(duration or {})}})


def veo(label: str, *, image: bool) -> ModelOverlay:
    fields: dict[str, dict[str, Any]] = {"prompt_text": prompt(1000), "audio": {"default": True},
                                         "negative_prompt": {"max_length": 1000, "help": "What to keep out of the video."}}
    if image:
        fields["prompt_image"] = {"label": "First frame"}
    return ModelOverlay(label, fields=fields)


def kling(label: str) -> ModelOverlay:
    return video(label)


VIDEO_MODELS_LATER = {  # the 5.24 video models, in the order the model menu lists them
    "seedance2_5": seedance("Seedance 2.5", prompt_max=15000),
    "seedance2_fast": seedance("Seedance 2 Fast"),
    "seedance2_mini": seedance("Seedance 2 Mini"),
    "kling_4": kling("Kling 4"),
    "klingO3_4k": kling("Kling O3 4K"),
    "klingO3_pro": kling("Kling O3 Pro"),
    "klingO3_standard": kling("Kling O3 Standard"),
    "kling3.0_4k": kling("Kling 3.0 4K"),
    "kling3.0_pro": kling("Kling 3.0 Pro"),
    "kling3.0_standard": kling("Kling 3.0 Standard"),
    "kling2.5_turbo_pro": video("Kling 2.5 Turbo Pro"),
    "hailuo3": video("Hailuo 3"),
    "happyhorse_1_0": video("HappyHorse 1.0"),
    "grok_imagine_1_5": video("Grok Imagine 1.5"),
    "grok_imagine_1_5_lite": video("Grok Imagine 1.5 Lite"),
    "wan3": video("Wan 3"),
    "wan3_prime": video("Wan 3 Prime"),
    "h3_max": video("H3 Max"),
}


def _video_models(*, image: bool) -> dict[str, ModelOverlay]:
    """Image → Video (`image`) or Text → Video: the same families, with checks on the first frame."""
    found = {"gen4.5": ModelOverlay("Gen-4.5", fields={"duration": {"default": 5}},
                                    rules=(*image_rules("prompt_image"), PRORES_RULE) if image else (PRORES_RULE,))}
    if image:
        found["gen4_turbo"] = ModelOverlay("Gen-4 Turbo", fields={
            "prompt_text": prompt(1000), "duration": {"min": 2, "max": 10, "default": 10}},
            rules=image_rules("prompt_image"))
    found.update({
        "veo3.1": veo("Veo 3.1", image=image),
        "veo3.1_fast": veo("Veo 3.1 Fast", image=image),
        "seedance2": seedance("Seedance 2"),
        "gemini_omni_flash": gemini_omni("Gemini Omni Flash"),
        "gemini_omni_flash_1.1": gemini_omni("Gemini Omni Flash 1.1"),
        **VIDEO_MODELS_LATER,
    })
    if image:
        for key in ("grok_imagine_1_5", "grok_imagine_1_5_lite"):
            found[key] = ModelOverlay(found[key].label, fields=found[key].fields, rules=GROK_IMAGE)
        found["h3_max"] = ModelOverlay("H3 Max", rules=H3_IMAGES)
    return found


def _video_to_video() -> dict[str, ModelOverlay]:
    return {
        "aleph2": ModelOverlay("Aleph 2", fields={
            "prompt_text": prompt(1000),
            "ratio": {"help": "The output's width:height in pixels (e.g. 1280:720); empty keeps the input's."},
            "target_aspect_ratio": {"help": "Letterbox or outpaint to this shape; empty keeps the input's."}},
            rules=(PRORES_RULE,)),
        "seedance2": seedance("Seedance 2"),
        "seedance2_5": seedance("Seedance 2.5", prompt_max=15000),
        "seedance2_fast": seedance("Seedance 2 Fast"),
        "seedance2_mini": seedance("Seedance 2 Mini"),
        "gemini_omni_flash": video("Gemini Omni Flash", prompt_max=4000),
        "gemini_omni_flash_1.1": gemini_omni("Gemini Omni Flash 1.1"),
        "kling_4": kling("Kling 4"),
        "klingO3_4k": kling("Kling O3 4K"),
        "klingO3_pro": kling("Kling O3 Pro"),
        "klingO3_standard": kling("Kling O3 Standard"),
        "hailuo3": video("Hailuo 3"),
    }


def image_model(label: str, *, prompt_max: int | None = None, refs_help: str = "",
                rules: tuple[Rule, ...] = (), ratio: str | None = None) -> ModelOverlay:
    fields: dict[str, dict[str, Any]] = {"prompt_text": prompt(prompt_max)} if prompt_max else {}
    if refs_help:
        fields["reference_images"] = {"help": refs_help}
    if ratio:
        fields["ratio"] = {"default": ratio}
    return ModelOverlay(label, fields=fields, rules=rules)


def _text_to_image() -> dict[str, ModelOverlay]:
    return {
        "gen4_image": image_model("Gen-4 Image", refs_help=REFS_HELP, rules=image_rules("reference_images"),
                                  ratio="1920:1080"),
        "gen4_image_turbo": image_model("Gen-4 Image Turbo", refs_help=REFS_HELP,
                                        rules=image_rules("reference_images"), ratio="1920:1080"),
        "gemini_2.5_flash": image_model("Gemini 2.5 Flash Image", prompt_max=5500, refs_help=REFS_HELP),
        "gpt_image_2": image_model("GPT Image 2"),
        "gpt_image_2_5_flare": image_model("GPT Image 2.5 Flare"),
        "gpt_image_2_5_sunburst": image_model("GPT Image 2.5 Sunburst"),
        "gemini_image3_pro": image_model("Gemini 3 Pro Image"),
        "gemini_image3.1_flash": image_model("Gemini 3.1 Flash Image"),
        "gemini_image3.1_flash_lite": image_model("Gemini 3.1 Flash Lite Image"),
        "nano_banana_2.1": image_model("Nano Banana 2.1"),
        "seedream5_pro": image_model("Seedream 5 Pro"),
        "seedream5_lite": image_model("Seedream 5 Lite"),
        "seedream5_flash": image_model("Seedream 5 Flash"),
        "ideogram_4_0": image_model("Ideogram 4.0"),
        "ideogram_4_5": image_model("Ideogram 4.5"),
        "recraft_v4_1_flash": image_model("Recraft V4.1 Flash"),
        "recraft_v4_1_vector": image_model("Recraft V4.1 Vector"),
        "bria_fibo_1_5": image_model("Bria Fibo 1.5"),
        "bria_fibo_edit_1_5": image_model("Bria Fibo Edit 1.5"),
        "muse_image": image_model("Muse Image"),
        "grok_imagine_image_2": image_model("Grok Imagine Image 2"),
    }


ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec("image_to_video", "Image → Video", "video", "Animate a still image into a short video clip.",
                 _video_models(image=True)),
    EndpointSpec("text_to_video", "Text → Video", "video", "Generate a video clip from a text prompt.",
                 _video_models(image=False)),
    EndpointSpec("video_to_video", "Video → Video", "video", "Restyle or edit an existing video with a prompt.",
                 _video_to_video()),
    EndpointSpec("text_to_image", "Text → Image", "image",
                 "Generate an image from a prompt, optionally guided by reference images.", _text_to_image()),
    EndpointSpec("image_upscale", "Image upscale", "image", "Upscale an image up to 16× with added detail.", {
        "magnific_precision_upscaler_v2": ModelOverlay(
            "Magnific Precision Upscaler", fields={"scale_factor": {"default": 2}},
            rules=(Rule("sides", "image_uri", min=300, max=8000),
                   Rule("upscaled_pixels", "image_uri", max=25_300_000))),
    }),
    EndpointSpec("video_upscale", "Video upscale", "video", "Upscale a short video, or raise its frame rate.", {
        "magnific_video_upscaler_creative": ModelOverlay(
            "Magnific Video Upscaler", fields={"resolution": {"default": "2k"}, "fps_boost": {"default": False}},
            rules=(Rule("duration", "video_uri", max=30, media_kinds=("video",)),)),
        "enhance_frame_rate": ModelOverlay("Frame-rate enhancer"),
    }),
    EndpointSpec("video_to_hdr", "Video → HDR", "video", "Grade a video into HDR, or an HDR master.", {
        "ruby": ModelOverlay("Ruby", rules=(PRORES_RULE,)),
    }),
    EndpointSpec("character_performance", "Character performance", "video",
                 "Drive a character image or video with the performance in a reference video.", {
        "act_two": ModelOverlay("Act-Two", fields={
            "character": {"help": "A recognisable face must stay in frame."},
            "reference": {"help": "3–30 seconds."},
            "body_control": {"default": False}, "expression_intensity": {"default": 3}},
            rules=(Rule("duration", "reference", min=3, max=30, media_kinds=("video",)), *image_rules("character"))),
    }),
    EndpointSpec("sound_effect", "Sound effect", "audio", "Generate a sound effect from a description.", {
        "eleven_text_to_sound_v2": ModelOverlay("ElevenLabs Sound Effects", fields={
            "prompt_text": prompt(3000), "duration": {"help": "Empty lets the model choose."},
            "loop": {"default": False}}),
        "mirelo_sfx_2_0": ModelOverlay("Mirelo SFX 2.0", fields={"duration": {"default": 5}}),
        "seed_audio": ModelOverlay("Seed Audio"),
    }),
    EndpointSpec("video_to_audio", "Video → Sound", "audio", "Score a video with sound effects that follow it.", {
        "mirelo_sfx_2_0": ModelOverlay("Mirelo SFX 2.0", fields={"duration": {"default": 5}}),
    }),
    EndpointSpec("text_to_speech", "Text → Speech", "audio", "Read a text aloud in a preset voice.", {
        "eleven_multilingual_v2": ModelOverlay("ElevenLabs Multilingual v2",
                                               fields={"prompt_text": prompt(1000), "voice": {"default": "Maya"}}),
        "eleven_v3": ModelOverlay("ElevenLabs v3", fields={"voice": {"default": "Maya"}}),
        "eleven_v4": ModelOverlay("ElevenLabs v4", fields={"voice": {"default": "Maya"}}),
        "seed_audio": ModelOverlay("Seed Audio", fields={
            "prompt_text": prompt(2048), "voice": {"label": "Voice to clone",
                                                   "help": "A recording of the voice; empty uses the default voice."}}),
    }),
    EndpointSpec("speech_to_speech", "Speech → Speech", "audio", "Re-voice a recording in a preset voice.", {
        "eleven_multilingual_sts_v2": ModelOverlay("ElevenLabs Speech to Speech", fields={
            "voice": {"default": "Maya"}, "remove_background_noise": {"default": False}}),
    }),
    EndpointSpec("voice_dubbing", "Voice dubbing", "audio", "Dub a recording into another language.", {
        "eleven_voice_dubbing": ModelOverlay("ElevenLabs Dubbing", fields={
            "target_lang": {"default": "en"}, "disable_voice_cloning": {"default": False},
            "drop_background_audio": {"default": False},
            "num_speakers": {"min": 1, "help": "Empty lets the model detect them."}}),
    }),
    EndpointSpec("voice_isolation", "Voice isolation", "audio", "Separate the voice from background sound.", {
        "eleven_voice_isolation": ModelOverlay("ElevenLabs Voice Isolation", fields={
            "audio_uri": {"help": "Longer than 4.6 s, under an hour."}},
            rules=(Rule("duration", "audio_uri", min=4.6, max=3600, exclusive=True, media_kinds=("audio",)),)),
    }),
    EndpointSpec("avatar_videos", "Avatar video", "video",
                 "Make a talking video of an avatar from a script or a recording.", {
        "gwm1_avatars": ModelOverlay("GWM-1 Avatars", order=("avatar", "speech_text", "speech_voice", "speech_audio"),
                                     fields={
            "avatar": {"default": "influencer", "help": AVATAR_HELP},
            "speech_text": {"help": "What the avatar says, as you would write it."},
            "speech_voice": {"help": "Empty speaks in the avatar's own voice."},
            "speech_audio": {"help": "Or a recording for the avatar to speak instead of a script."}}),
    }),
    EndpointSpec("generate_video", "Auto · Video", "video", ROUTED_HELP.format(what="video"), {
        ROUTED: ModelOverlay("Runway chooses", order=("config_id", "prompt_text", "first_frame", "last_frame"),
                             fields={"config_id": {"help": ROUTER_HELP}, "audio": {"label": "With sound"},
                                     **ROUTED_MEDIA_HELP}),
    }),
    EndpointSpec("generate_image", "Auto · Image", "image", ROUTED_HELP.format(what="image"), {
        ROUTED: ModelOverlay("Runway chooses", order=("config_id", "prompt_text"), fields={
            "config_id": {"help": ROUTER_HELP},
            "output_count": {"min": 1, "max": 10}}),  # the SDK's docstring: "Number of images to generate (1-10)"
    }),
    EndpointSpec("generate_audio", "Auto · Audio", "audio", ROUTED_HELP.format(what="sound or speech"), {
        ROUTED: ModelOverlay("Runway chooses", order=("config_id", "type", "prompt_text"),
                             fields={"config_id": {"help": ROUTER_HELP}, "type": {"default": "speech"}}),
    }),
)
