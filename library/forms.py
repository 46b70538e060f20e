"""The forms of the library pages: what a person may ask for, checked before anything reaches Runway.

The limits that are Runway's are the SDK's (a voice description of at least 20 characters,
the design models, the live preset voices, the router's model ids and whole-number caps); the
upper bounds on lengths are ours, so that a pasted novel is refused with a message here rather
than by Runway.
"""

from __future__ import annotations

import re

from django import forms

from accounts.models import Project
from assets.models import Asset, MediaKind
from runway import catalog
from runway import client as runway

from .choices import choices_for, is_usable
from .models import ImageProcessing

SAMPLE_NAME = re.compile(r"^[0-9a-f]{32}\.(mp3|wav|m4a|aac|ogg|flac)$")
DESIGN_MODEL_LABELS = {"eleven_ttv_v3": "ElevenLabs voice design v3 (latest)",
                       "eleven_multilingual_ttv_v2": "ElevenLabs multilingual voice design v2"}
OPTIMIZE_FOR = [("cost", "Cost: the cheapest model that fits"), ("latency", "Latency: the fastest to start"),
                ("quality", "Quality: the best result")]
MODEL_MODES = [("allow_new_except", "Allow every model except those chosen"),
               ("allowlist_only", "Only the models chosen")]
MODALITIES = ("video", "image", "audio")
MAX_CAP = 100_000


def _text(label: str, *, max_length: int, required: bool = True, textarea: bool = False, empty: str = "",
          help_text: str = "", **extra) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3}) if textarea else forms.TextInput()
    messages = {"max_length": f"Keep it to at most {max_length} characters (this has %(show_value)d)."}
    if empty:
        messages["required"] = empty
    return forms.CharField(label=label, max_length=max_length, required=required, widget=widget,
                           help_text=help_text, error_messages=messages, **extra)


def voice_choices(project: Project) -> list:
    """Runway's live preset voices, then the project's ready custom voices ("custom:<id>")."""
    presets = [(v, v.capitalize()) for v in runway.LIVE_PRESET_VOICES]
    return [("Runway's live voices", presets), ("This project's voices", choices_for(project, "voice"))]


class VoiceDesignForm(forms.Form):
    prompt = _text("Describe the voice", max_length=1000, textarea=True, min_length=20,
                   empty="Describe the voice you want.",
                   help_text="Who speaks, and how: age, accent, tone, pace. At least 20 characters.")
    design_model = forms.ChoiceField(label="Design model", choices=list(DESIGN_MODEL_LABELS.items()),
                                     initial="eleven_ttv_v3",
                                     error_messages={"invalid_choice": "Choose one of the design models."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prompt"].error_messages["min_length"] = (
            "Describe the voice in at least 20 characters (Runway's minimum); this has %(show_value)d.")
        # The SDK is the word on which models exist; our labels only name them.
        self.fields["design_model"].choices = [(m, DESIGN_MODEL_LABELS.get(m, m)) for m in runway.VOICE_DESIGN_MODELS]


class VoiceKeepForm(VoiceDesignForm):
    name = _text("Name", max_length=100, empty="Give the voice a name.")
    sample = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_sample(self) -> str:
        sample = self.cleaned_data["sample"]
        return sample if SAMPLE_NAME.match(sample) else ""


class VoiceRenameForm(forms.Form):
    name = _text("Name", max_length=100, empty="Give the voice a name.")


class AvatarEditForm(forms.Form):
    name = _text("Name", max_length=100, empty="Give the avatar a name.")
    personality = _text("Personality", max_length=4000, textarea=True,
                        empty="Describe the avatar's personality: how it behaves and speaks.",
                        help_text="How the avatar behaves in a conversation (Runway's system prompt for it).")
    voice = forms.ChoiceField(label="Voice", error_messages={
        "invalid_choice": "Choose one of the voices offered: a live preset or one of this project's ready voices."})

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["voice"].choices = voice_choices(project)

    def clean_voice(self) -> str:
        value = self.cleaned_data["voice"]
        if value.startswith("custom:") and not is_usable(self.project, "voice", value):
            raise forms.ValidationError(self.fields["voice"].error_messages["invalid_choice"])
        return value


class AvatarForm(AvatarEditForm):
    start_script = _text("Opening line", max_length=2000, required=False, textarea=True,
                         help_text="Optional: what the avatar says when a session starts.")
    image = forms.ModelChoiceField(
        label="Reference image", queryset=Asset.objects.none(), empty_label="Choose an image…",
        error_messages={"required": "Choose a reference image from the project's images.",
                        "invalid_choice": "Choose one of this project's images."})
    image_processing = forms.ChoiceField(
        label="Image processing", choices=ImageProcessing.choices, initial=ImageProcessing.OPTIMIZE,
        error_messages={"invalid_choice": "Choose how the image is processed."})

    field_order = ["name", "personality", "start_script", "image", "voice", "image_processing"]

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, project=project, **kwargs)
        self.fields["image"].queryset = Asset.objects.in_project(project).filter(kind=MediaKind.IMAGE)


def router_model_choices() -> list:
    """The catalog's model ids, grouped by what they make (the SDK refuses ids it does not know)."""
    grouped: dict[str, dict[str, str]] = {kind: {} for kind in MODALITIES}
    for model in catalog.all_models():
        kind = catalog.get_endpoint(model.endpoint).output_kind
        if kind in grouped:
            grouped[kind].setdefault(model.id, f"{model.label} ({model.id})")
    return [(kind.capitalize(), sorted(ids.items(), key=lambda item: item[1].lower()))
            for kind, ids in grouped.items()]


def _cap(kind: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"Most credits per {kind} output", required=False, min_value=1, max_value=MAX_CAP,
        help_text="Models whose estimate is above it are left out. Empty: no cap.",
        error_messages={"invalid": "Enter a whole number of credits, or leave it empty."})


class RouterForm(forms.Form):
    name = _text("Name", max_length=100, empty="Give the configuration a name.")
    description = _text("Description", max_length=500, required=False)
    optimize_for = forms.ChoiceField(label="Optimize for", choices=OPTIMIZE_FOR, initial="cost")
    model_mode = forms.ChoiceField(label="Models", choices=MODEL_MODES, initial="allow_new_except")
    model_ids = forms.MultipleChoiceField(label="Chosen models", required=False,
                                          widget=forms.SelectMultiple(attrs={"size": 12}))
    video_cap = _cap("video")
    image_cap = _cap("image")
    audio_cap = _cap("audio")
    fallback_on_capacity = forms.BooleanField(
        label="When the preferred model is at its limit, use the next best instead of waiting", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_ids"].choices = router_model_choices()

    def clean(self):
        data = super().clean()
        if data.get("model_mode") == "allowlist_only" and not data.get("model_ids"):
            self.add_error("model_ids", "Choose at least one model: with none, nothing could be routed.")
        return data

    def settings(self) -> runway.RouterSettings:
        """What the valid form asks of Runway."""
        data = self.cleaned_data
        return runway.RouterSettings(
            optimize_for=data["optimize_for"], model_mode=data["model_mode"], model_ids=tuple(data["model_ids"]),
            caps={kind: data[f"{kind}_cap"] for kind in MODALITIES},
            fallback_on_capacity=data["fallback_on_capacity"])

    @staticmethod
    def initial_from(config) -> dict:
        """The form's starting values from a configuration's stored settings (the SDK's names)."""
        settings = config.settings or {}
        chosen = settings.get("models") or {}
        caps = settings.get("max_credits_per_generation") or {}
        return {"name": config.name, "description": config.description,
                "optimize_for": settings.get("optimize_for") or "cost",
                "model_mode": chosen.get("mode") or "allow_new_except", "model_ids": chosen.get("ids") or [],
                **{f"{kind}_cap": caps.get(kind) for kind in MODALITIES},
                "fallback_on_capacity": bool((settings.get("fallback") or {}).get("on_capacity"))}
