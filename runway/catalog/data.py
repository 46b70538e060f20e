"""The shapes of the model catalog and its entries (CONTRACT.md §2.1–§2.7, §5.4, §7.1).

Plain data only: no Django, no SDK. `runway.catalog` re-exports these and adds lookup,
validation and pricing. Adding a model is one `Model(...)` entry in the endpoint's tuple.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runway.catalog.pricing import Price, price_of

FIELD_KINDS = ("text", "int", "number", "choice", "bool", "asset", "assets")

# How the Runway client shapes a field on the wire (None = the plain value):
#   first_frame      promptImage as [{"uri": ..., "position": "first"}]
#   last_frame       appended to the same promptImage array as {"uri": ..., "position": "last"}
#   typed_media      {"type": <asset kind: image|video|audio>, "uri": ...}
#   preset_voice     {"type": "runway-preset", "presetId": ...}
#   reference_images [{"uri": ..., "tag": "ref1"}, ...] tagged ref1, ref2... in order
#   moderation       contentModeration as {"public_figure_threshold": ...}
WIRE_TAGS = ("first_frame", "last_frame", "typed_media", "preset_voice", "reference_images", "moderation")

SEED_MAX = 4_294_967_295
MAX_MEDIA_BYTES = 200 * 1024 * 1024  # §5.4: the largest input Runway takes (and output we keep)


@dataclass(frozen=True)
class MediaFacts:
    """What validation needs to know about an input asset."""

    kind: str  # "image" | "video" | "audio"
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True)
class Field:
    """One setting of a model, named as the SDK keyword argument."""

    name: str
    label: str
    kind: str
    required: bool = False
    choices: tuple[Any, ...] = ()  # values, or (value, label) pairs
    min: float | None = None
    max: float | None = None
    min_length: int | None = None  # text: UTF-16 code units, as Runway counts them
    max_length: int | None = None
    min_items: int | None = None  # assets
    max_items: int | None = None
    media_kinds: tuple[str, ...] = ()  # asset/assets
    default: Any = None
    unit: str = ""  # shown in messages, e.g. "seconds"
    help: str = ""
    wire: str | None = None

    @property
    def choice_values(self) -> tuple[Any, ...]:
        """The accepted values, without their labels."""
        return tuple(c[0] if isinstance(c, tuple) else c for c in self.choices)

    @property
    def choice_pairs(self) -> tuple[tuple[Any, str], ...]:
        """(value, label) pairs for a select widget."""
        return tuple(c if isinstance(c, tuple) else (c, str(c)) for c in self.choices)


@dataclass(frozen=True)
class Rule:
    """A constraint on an asset field or between fields, checked by `validate`.

    kinds: "aspect" (width/height in min..max), "sides" (each side in min..max px),
    "upscaled_pixels" (w*h*scale_factor² <= max), "duration" (seconds in min..max;
    `exclusive` makes both bounds strict), "requires" (field set needs `other` set, to one
    of `values` when they are given).
    """

    kind: str
    field: str
    min: float | None = None
    max: float | None = None
    exclusive: bool = False
    other: str | None = None
    media_kinds: tuple[str, ...] = ("image",)
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Model:
    """A model usable on one endpoint, with its fields and rules; its price is in `prices.json`."""

    id: str
    endpoint: str
    label: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()
    description: str = ""

    def field(self, name: str) -> Field:
        """The field called `name` (KeyError if this model has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def price(self) -> Price:
        """How Runway bills this model (its entry in the price table)."""
        return price_of(self)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of this model's fields, in form order."""
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Endpoint:
    """One generation endpoint (REST path name) and its models; the first is the default."""

    key: str
    label: str
    output_kind: str  # "video" | "image" | "audio"
    description: str
    models: tuple[Model, ...]

    @property
    def default_model(self) -> Model:
        """The model a new form starts with."""
        return self.models[0]


# --- reusable field builders -------------------------------------------------------------


def _ratio_label(value: str) -> str:
    w, h = (int(x) for x in value.split(":"))
    shape = "landscape" if w > h else "portrait" if h > w else "square"
    return f"{w}×{h} ({shape})"


def ratios(*values: str) -> tuple[tuple[str, str], ...]:
    """Ratio choices labelled with pixel size and orientation."""
    return tuple((v, _ratio_label(v)) for v in values)


def prompt(max_length: int, *, required: bool = True, min_length: int = 1) -> Field:
    """The text prompt."""
    return Field(
        "prompt_text", "Prompt", "text", required=required,
        min_length=min_length, max_length=max_length,
        help=f"Up to {max_length} characters (emoji count as two).",
    )


def ratio(*values: str, required: bool = True, default: str | None = None) -> Field:
    """The output aspect ratio, as Runway's width:height strings."""
    return Field("ratio", "Ratio", "choice", required=required, choices=ratios(*values),
                 default=default or values[0])


def duration_range(lo: int, hi: int, default: int, *, required: bool = True) -> Field:
    """A whole-second duration within a range."""
    return Field("duration", "Duration", "int", required=required, min=lo, max=hi,
                 default=default, unit="seconds")


def duration_set(*values: int, default: int | None = None, required: bool = True) -> Field:
    """A duration from a fixed set of seconds."""
    return Field("duration", "Duration", "choice", required=required, choices=values,
                 default=default if default is not None else values[-1], unit="seconds")


SEED = Field("seed", "Seed", "int", min=0, max=SEED_MAX,
             help="Same seed and settings give a similar result; empty for random.")


def first_frame(*, label: str = "Image") -> Field:
    """The first frame of an image-to-video generation."""
    return Field("prompt_image", label, "asset", required=True, media_kinds=("image",),
                 wire="first_frame")


def audio_toggle() -> Field:
    """Veo/Seedance: generate a soundtrack (changes the price on Veo)."""
    return Field("audio", "Generate audio", "bool", default=True)


CONTENT_MODERATION = Field(
    "content_moderation", "Public figures", "choice", choices=("auto", "low"), wire="moderation",
    help="Content moderation of recognisable public figures: low is less strict about them; "
         "empty (or auto) is Runway's usual strictness.")

NEGATIVE_PROMPT = Field("negative_prompt", "Negative prompt", "text", min_length=1,
                        max_length=1000, help="What to keep out of the video.")


# Output containers and encodings (the SDK's outputFormat Literal); surcharges per its docstring.
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
}
GEN45_OUTPUT_FORMATS = tuple(OUTPUT_FORMAT_LABELS)
ALEPH2_OUTPUT_FORMATS = ("mp4", "prores", "png_sequence", "sdr_rec709_10bit")
PRORES_PROFILES = ("422", "4444", "422 Proxy", "422 LT", "422 HQ", "4444 XQ")
PRORES_FORMATS = ("prores", "hdr_prores")


def output_format(*values: str) -> Field:
    """Runway's output container/encoding; empty is Runway's mp4."""
    return Field("output_format", "Output format", "choice",
                 choices=tuple((v, OUTPUT_FORMAT_LABELS[v]) for v in values),
                 help="Empty gives an H.264 MP4. Other formats add a per-second surcharge: "
                      "5 credits/s for ProRes and PNG sequences, 20 credits/s for 10-bit and deeper "
                      "(40 credits/s when the output is larger than 4 megapixels).")


PRORES_PROFILE = Field(
    "prores_profile", "ProRes profile", "choice", choices=PRORES_PROFILES,
    help="Only with ProRes output. Empty gives 4444 for ProRes and 422 HQ for HDR ProRes "
         "(which takes only 422, 422 HQ or 4444).")


def output_rules() -> tuple[Rule, ...]:
    """Runway refuses proresProfile unless outputFormat is prores or hdr_prores."""
    return (Rule("requires", "prores_profile", other="output_format", values=PRORES_FORMATS),)


def image_rules(field: str) -> tuple[Rule, ...]:
    """Gen-4-family image inputs: aspect 0.5–2.0 and each side under 8000 px (§5.4)."""
    return (Rule("aspect", field, min=0.5, max=2.0), Rule("sides", field, max=7999))


GEN45_I2V_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
SEEDANCE_RATIOS = (
    "1280:720", "720:1280", "992:432", "864:496", "752:560", "640:640", "560:752", "496:864",
    "1470:630", "1112:834", "960:960", "834:1112", "2206:946", "1920:1080", "1664:1248",
    "1440:1440", "1248:1664", "1080:1920", "3840:1646", "3840:2160", "3840:2880",
    "3840:3840", "2880:3840", "2160:3840",
)
GEN4_IMAGE_720P = ("1280:720", "720:1280", "720:720", "960:720", "720:960", "1680:720")
GEN4_IMAGE_1080P = (
    "1920:1080", "1080:1920", "1024:1024", "1080:1080", "1168:880", "1360:768",
    "1440:1080", "1080:1440", "1808:768", "2112:912",
)
GEMINI_25_RATIOS = (
    "1344:768", "768:1344", "1024:1024", "1184:864", "864:1184", "1536:672", "832:1248",
    "1248:832", "896:1152", "1152:896",
)
PRESET_VOICES = (
    "Maya", "Arjun", "Serene", "Bernard", "Billy", "Mark", "Clint", "Mabel", "Chad", "Leslie",
    "Eleanor", "Elias", "Elliot", "Grungle", "Brodie", "Sandra", "Kirk", "Kylie", "Lara", "Lisa",
    "Malachi", "Marlene", "Martin", "Miriam", "Monster", "Paula", "Pip", "Rusty", "Ragnar",
    "Xylar", "Maggie", "Jack", "Katie", "Noah", "James", "Rina", "Ella", "Mariah", "Frank",
    "Claudia", "Niki", "Vincent", "Kendrick", "Myrna", "Tom", "Wanda", "Benjamin", "Kiana",
    "Rachel",
)
DUBBING_LANGUAGES = (
    ("en", "English"), ("hi", "Hindi"), ("pt", "Portuguese"), ("zh", "Chinese"),
    ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("ja", "Japanese"),
    ("ar", "Arabic"), ("ru", "Russian"), ("ko", "Korean"), ("id", "Indonesian"),
    ("it", "Italian"), ("nl", "Dutch"), ("tr", "Turkish"), ("pl", "Polish"),
    ("sv", "Swedish"), ("fil", "Filipino"), ("ms", "Malay"), ("ro", "Romanian"),
    ("uk", "Ukrainian"), ("el", "Greek"), ("cs", "Czech"), ("da", "Danish"),
    ("fi", "Finnish"), ("bg", "Bulgarian"), ("hr", "Croatian"), ("sk", "Slovak"),
    ("ta", "Tamil"),
)


def voice() -> Field:
    """A Runway preset voice."""
    return Field("voice", "Voice", "choice", required=True, choices=PRESET_VOICES,
                 default="Maya", wire="preset_voice")


def veo(endpoint: str, model_id: str, label: str) -> Model:
    """Veo 3.1 and its fast sibling share every field; only the price differs."""
    image = (first_frame(label="First frame"),
             Field("last_frame", "Last frame", "asset", media_kinds=("image",),
                   wire="last_frame", help="Optional; needs a first frame."),
             prompt(1000, required=False)) if endpoint == "image_to_video" else (prompt(1000),)
    return Model(
        model_id, endpoint, label,
        fields=(*image, ratio(*VEO_RATIOS), duration_set(4, 6, 8, required=False),
                audio_toggle(), NEGATIVE_PROMPT, SEED),
        rules=((Rule("requires", "last_frame", other="prompt_image"),)
               if endpoint == "image_to_video" else ()),
    )


# Seedance 2 takes whole seconds 4–15 or "auto" (the model chooses; Runway bills the
# variant maximum up front and refunds the unused seconds when the task finishes).
SEEDANCE_DURATION = Field(
    "duration", "Duration", "choice", choices=(*range(4, 16), ("auto", "Auto (model chooses; billed at 15 s up front)")),
    default=5, unit="seconds",
    help="Auto lets the model choose the length; 15 s is held, the unused seconds are refunded.")


def seedance2(endpoint: str) -> Model:
    """Seedance 2: optional first frame, 4–15 s, 24 ratios."""
    image = ((first_frame(), prompt(3500, required=False))
             if endpoint == "image_to_video" else (prompt(3500),))
    return Model("seedance2", endpoint, "Seedance 2",
                 fields=(*image, ratio(*SEEDANCE_RATIOS, required=False),
                         SEEDANCE_DURATION, audio_toggle()),
                 )


def gemini_omni_flash(endpoint: str) -> Model:
    """Gemini Omni Flash video: 3–10 s, two ratios."""
    image = ((first_frame(), prompt(4000, required=False))
             if endpoint == "image_to_video" else (prompt(4000),))
    return Model("gemini_omni_flash", endpoint, "Gemini Omni Flash",
                 fields=(*image, ratio("1280:720", "720:1280", required=False),
                         duration_range(3, 10, 5, required=False)),
                 )


IMAGE_TO_VIDEO = Endpoint(
    "image_to_video", "Image → Video", "video",
    "Animate a still image into a short video clip.",
    (
        Model("gen4.5", "image_to_video", "Gen-4.5",
              fields=(first_frame(), prompt(1000), ratio(*GEN45_I2V_RATIOS),
                      duration_range(2, 10, 5), SEED,
                      output_format(*GEN45_OUTPUT_FORMATS), PRORES_PROFILE, CONTENT_MODERATION),
              rules=(*image_rules("prompt_image"), *output_rules())),
        Model("gen4_turbo", "image_to_video", "Gen-4 Turbo",
              fields=(first_frame(), prompt(1000, required=False), ratio(*GEN45_I2V_RATIOS),
                      duration_range(2, 10, 10, required=False), SEED, CONTENT_MODERATION),
              rules=image_rules("prompt_image")),
        veo("image_to_video", "veo3.1", "Veo 3.1"),
        veo("image_to_video", "veo3.1_fast", "Veo 3.1 Fast"),
        seedance2("image_to_video"),
        gemini_omni_flash("image_to_video"),
    ),
)

TEXT_TO_VIDEO = Endpoint(
    "text_to_video", "Text → Video", "video",
    "Generate a video clip from a text prompt.",
    (
        Model("gen4.5", "text_to_video", "Gen-4.5",
              fields=(prompt(1000), ratio("1280:720", "720:1280"), duration_range(2, 10, 5), SEED,
                      output_format(*GEN45_OUTPUT_FORMATS), PRORES_PROFILE, CONTENT_MODERATION),
              rules=output_rules()),
        veo("text_to_video", "veo3.1", "Veo 3.1"),
        veo("text_to_video", "veo3.1_fast", "Veo 3.1 Fast"),
        seedance2("text_to_video"),
        gemini_omni_flash("text_to_video"),
    ),
)

VIDEO_TO_VIDEO = Endpoint(
    "video_to_video", "Video → Video", "video",
    "Restyle or edit an existing video with a prompt.",
    (
        Model("aleph2", "video_to_video", "Aleph 2",
              fields=(
                  Field("video_uri", "Video", "asset", required=True, media_kinds=("video",)),
                  prompt(1000, required=False),
                  Field("target_aspect_ratio", "Target aspect ratio", "choice",
                        choices=("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "21:9"),
                        help="Letterbox or outpaint to this shape; empty keeps the input's."),
                  SEED,
                  output_format(*ALEPH2_OUTPUT_FORMATS),
                  PRORES_PROFILE,
                  CONTENT_MODERATION,
              ),
              rules=output_rules()),
    ),
)

TEXT_TO_IMAGE = Endpoint(
    "text_to_image", "Text → Image", "image",
    "Generate an image from a prompt, optionally guided by reference images.",
    (
        Model("gen4_image", "text_to_image", "Gen-4 Image",
              fields=(prompt(1000), ratio(*GEN4_IMAGE_1080P, *GEN4_IMAGE_720P),
                      Field("reference_images", "Reference images", "assets", min_items=0,
                            max_items=3, media_kinds=("image",), wire="reference_images",
                            help="Refer to them in the prompt as @ref1, @ref2, @ref3."),
                      SEED, CONTENT_MODERATION),
              rules=image_rules("reference_images")),
        Model("gen4_image_turbo", "text_to_image", "Gen-4 Image Turbo",
              fields=(prompt(1000), ratio(*GEN4_IMAGE_1080P, *GEN4_IMAGE_720P),
                      Field("reference_images", "Reference images", "assets", required=True,
                            min_items=1, max_items=3, media_kinds=("image",),
                            wire="reference_images",
                            help="Refer to them in the prompt as @ref1, @ref2, @ref3."),
                      SEED, CONTENT_MODERATION),
              rules=image_rules("reference_images")),
        Model("gemini_2.5_flash", "text_to_image", "Gemini 2.5 Flash Image",
              fields=(prompt(5500), ratio(*GEMINI_25_RATIOS),
                      Field("reference_images", "Reference images", "assets", min_items=0,
                            max_items=3, media_kinds=("image",), wire="reference_images",
                            help="Refer to them in the prompt as @ref1, @ref2, @ref3.")),
              ),
    ),
)

IMAGE_UPSCALE = Endpoint(
    "image_upscale", "Image upscale", "image",
    "Upscale an image up to 16× with added detail.",
    (
        Model("magnific_precision_upscaler_v2", "image_upscale", "Magnific Precision Upscaler",
              fields=(
                  Field("image_uri", "Image", "asset", required=True, media_kinds=("image",)),
                  Field("scale_factor", "Scale", "choice", choices=(2, 4, 8, 16), default=2),
                  Field("sharpen", "Sharpen", "int", min=0, max=100),
                  Field("smart_grain", "Smart grain", "int", min=0, max=100),
                  Field("ultra_detail", "Ultra detail", "int", min=0, max=100),
                  Field("flavor", "Flavor", "choice",
                        choices=("sublime", "photo", "photo_denoiser")),
              ),
              rules=(Rule("sides", "image_uri", min=300, max=8000),
                     Rule("upscaled_pixels", "image_uri", max=25_300_000))),
    ),
)

VIDEO_UPSCALE = Endpoint(
    "video_upscale", "Video upscale", "video",
    "Upscale a short video to up to 4K.",
    (
        Model("magnific_video_upscaler_creative", "video_upscale", "Magnific Video Upscaler",
              fields=(
                  Field("video_uri", "Video", "asset", required=True, media_kinds=("video",)),
                  Field("resolution", "Resolution", "choice",
                        choices=("720p", "1k", "2k", "4k"), default="2k"),
                  Field("creativity", "Creativity", "int", min=0, max=100),
                  Field("sharpen", "Sharpen", "int", min=0, max=100),
                  Field("smart_grain", "Smart grain", "int", min=0, max=100),
                  Field("flavor", "Flavor", "choice", choices=("vivid", "natural")),
                  Field("fps_boost", "Boost frame rate", "bool", default=False),
              ),
              rules=(Rule("duration", "video_uri", max=30, media_kinds=("video",)),)),
    ),
)

CHARACTER_PERFORMANCE = Endpoint(
    "character_performance", "Character performance", "video",
    "Drive a character image or video with the performance in a reference video.",
    (
        Model("act_two", "character_performance", "Act-Two",
              fields=(
                  Field("character", "Character", "asset", required=True,
                        media_kinds=("image", "video"), wire="typed_media",
                        help="A recognisable face must stay in frame."),
                  Field("reference", "Performance video", "asset", required=True,
                        media_kinds=("video",), wire="typed_media", help="3–30 seconds."),
                  Field("body_control", "Body control", "bool", default=False),
                  Field("expression_intensity", "Expression intensity", "int", min=1, max=5,
                        default=3),
                  ratio(*GEN45_I2V_RATIOS, required=False),
                  SEED,
                  CONTENT_MODERATION,
              ),
              rules=(Rule("duration", "reference", min=3, max=30, media_kinds=("video",)),
                     *image_rules("character"))),
    ),
)

SOUND_EFFECT = Endpoint(
    "sound_effect", "Sound effect", "audio",
    "Generate a sound effect from a description.",
    (
        Model("eleven_text_to_sound_v2", "sound_effect", "ElevenLabs Sound Effects",
              fields=(
                  prompt(3000),
                  Field("duration", "Duration", "number", min=0.5, max=30, unit="seconds",
                        help="Empty lets the model choose."),
                  Field("loop", "Loop seamlessly", "bool", default=False),
              ),
              ),
    ),
)

TEXT_TO_SPEECH = Endpoint(
    "text_to_speech", "Text → Speech", "audio",
    "Read a text aloud in a preset voice.",
    (
        Model("eleven_multilingual_v2", "text_to_speech", "ElevenLabs Multilingual v2",
              fields=(prompt(1000), voice()),
              ),
    ),
)

SPEECH_TO_SPEECH = Endpoint(
    "speech_to_speech", "Speech → Speech", "audio",
    "Re-voice a recording in a preset voice.",
    (
        Model("eleven_multilingual_sts_v2", "speech_to_speech", "ElevenLabs Speech to Speech",
              fields=(
                  Field("media", "Recording", "asset", required=True,
                        media_kinds=("audio", "video"), wire="typed_media"),
                  voice(),
                  Field("remove_background_noise", "Remove background noise", "bool",
                        default=False),
              ),
              ),
    ),
)

VOICE_DUBBING = Endpoint(
    "voice_dubbing", "Voice dubbing", "audio",
    "Dub a recording into another language.",
    (
        Model("eleven_voice_dubbing", "voice_dubbing", "ElevenLabs Dubbing",
              fields=(
                  Field("audio_uri", "Recording", "asset", required=True, media_kinds=("audio",)),
                  Field("target_lang", "Target language", "choice", required=True,
                        choices=DUBBING_LANGUAGES, default="en"),
                  Field("disable_voice_cloning", "Don't clone the voice", "bool", default=False),
                  Field("drop_background_audio", "Drop background audio", "bool",
                        default=False),
                  Field("num_speakers", "Speakers", "int", min=1,
                        help="Empty lets the model detect them."),
              ),
              ),
    ),
)

VOICE_ISOLATION = Endpoint(
    "voice_isolation", "Voice isolation", "audio",
    "Separate the voice from background sound.",
    (
        Model("eleven_voice_isolation", "voice_isolation", "ElevenLabs Voice Isolation",
              fields=(Field("audio_uri", "Recording", "asset", required=True,
                            media_kinds=("audio",), help="Longer than 4.6 s, under an hour."),),
              rules=(Rule("duration", "audio_uri", min=4.6, max=3600, exclusive=True,
                          media_kinds=("audio",)),)),
    ),
)

ALL_ENDPOINTS: tuple[Endpoint, ...] = (
    IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO, TEXT_TO_IMAGE, IMAGE_UPSCALE, VIDEO_UPSCALE,
    CHARACTER_PERFORMANCE, SOUND_EFFECT, TEXT_TO_SPEECH, SPEECH_TO_SPEECH, VOICE_DUBBING,
    VOICE_ISOLATION,
)
