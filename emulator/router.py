"""The Model Router: which model a ``generate/*`` request runs as under a saved router's settings.

Every candidate of ``models.ROUTER_CANDIDATES`` is offered the request as a body of its own: the
router's model-agnostic ``input`` written in the model's field names (``_video``, ``_image``,
``_audio``) and checked against the model's rules in ``request_schemas.json``. So a model is
eligible exactly when the emulator would take that body on the model's own endpoint, and the task
is then that model's task, priced by ``pricing.py`` like a direct call. The hard filters run in
Runway's order, each dropping the models whose first problem belongs to it (a missing field the
request needs, an input the model cannot take, a prompt over its limit); the router's allow/deny
list and credit cap follow. The survivors are ranked by the router's preference, and with
``fallback.onCapacity`` a model whose concurrency is full is passed over.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import inputs, models, pricing
from .validation import AssetError, Issue, MediaRef, iter_semantic_issues, validate_body

FILTERS = ("capability", "prompt_length", "input_support", "allow_deny", "price")
MODALITY = {"generate/video": "video", "generate/image": "image", "generate/audio": "audio"}
#: Model fields that carry input media: a model refusing one is excluded for input support.
MEDIA_FIELDS = {"promptImage", "referenceImages", "videoUri", "promptVideo", "referenceVideos", "keyframes",
                "referenceAudio", "referenceAudios", "references"}
PROMPT_FIELDS = ("promptText", "negativePrompt")
#: Seconds given to a model that needs a duration the request does not state (the router's default).
DEFAULT_SECONDS = 5
#: Pixels of each resolution tier; a model's ratio must come within ASPECT_TOLERANCE of the asked
#: aspect, and within TIER_FACTOR of the tier's pixels when a tier is asked.
VIDEO_TIERS = {"480p": 854 * 480, "720p": 1280 * 720, "1080p": 1920 * 1080, "4k": 3840 * 2160}
IMAGE_TIERS = {"1k": 1024 ** 2, "2k": 2048 ** 2, "4k": 4096 ** 2}
DEFAULTS = {"generate/video": ("16:9", "720p"), "generate/image": ("1:1", "1k")}
ASPECT_TOLERANCE = 0.03
TIER_FACTOR = 1.6
#: The reason code of each rank outcome (``selected``: the router's preference, best_latency or best_quality).
REASON_CODES = {"single_candidate": "only_eligible_model", "cost": "lowest_cost", "fallback": "filter_order_fallback"}


@dataclass
class Draft:
    """A request written for one model: the endpoint and body it would run, and what keeps it out."""

    candidate: models.Candidate
    endpoint: str
    schema: dict[str, Any] | None
    body: dict[str, Any] = field(default_factory=dict)
    problems: set[str] = field(default_factory=set)
    refs: list[MediaRef] = field(default_factory=list)
    sources: list[inputs.Source] = field(default_factory=list)
    measured: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    estimate: int = 0
    per_output: float = 0.0

    @property
    def model(self) -> str:
        return self.candidate.model

    @property
    def props(self) -> dict[str, Any]:
        return (self.schema or {}).get("props", {})

    @property
    def first_problem(self) -> str | None:
        """The first filter (in Runway's order) that excludes this model, if any."""
        return min(self.problems, key=FILTERS.index) if self.problems else None

    def put(self, name: str, value: Any, missing: str | None = "capability") -> None:
        """Give the model a field; a model without it is excluded by ``missing`` (None: it is dropped)."""
        if name in self.props:
            self.body[name] = value
        elif missing:
            self.problems.add(missing)


@dataclass
class Decision:
    """What the router made of a request: the model chosen (None: no eligible model) and the story."""

    chosen: Draft | None
    pipeline: list[dict[str, Any]]
    emptied_by: list[str]
    reason_code: str | None = None
    reason: str | None = None
    capacity: dict[str, Any] | None = None


# --- writing the request for each model ----------------------------------------------------


def _draft(candidate: models.Candidate, endpoint: str, missing: str) -> Draft:
    schema = models.request_schemas().get(endpoint, {}).get(candidate.model)
    draft = Draft(candidate, endpoint, schema)
    if schema is None:
        draft.problems.add(missing)
    return draft


def _size(value: Any) -> tuple[int, int] | None:
    left, sep, right = str(value).partition(":")
    return (int(left), int(right)) if sep and left.isdigit() and right.isdigit() and int(right) else None


def _ratio_options(node: dict[str, Any]) -> list[str]:
    values = list(node.get("enum", ()))
    for option in node.get("anyOf", ()):
        values += option.get("enum", ())
    return [v for v in values if _size(v)]


def _shape(value: str) -> float:
    width, height = _size(value) or (1, 1)
    return width / height


def _distance(value: str, pixels: int) -> float:
    """How far a ratio's pixel count is from a tier's, as a factor (0 = the same)."""
    return abs(math.log(math.prod(_size(value) or (1, 1)) / pixels))


def _ratio(draft: Draft, data: dict[str, Any], tiers: dict[str, int], router_endpoint: str) -> None:
    """The model's own ratio for the asked aspect and tier: the same shape, nearest in pixels (within
    ``TIER_FACTOR`` when a tier is asked). A model with none such lacks the capability."""
    node = draft.props.get("ratio")
    options = _ratio_options(node) if node else []
    if not options:
        return
    default_aspect, default_tier = DEFAULTS[router_endpoint]
    aspect = _shape(data.get("aspectRatio", default_aspect))
    tier = data.get("resolution")
    pixels = tiers.get(tier or default_tier, tiers[default_tier])
    fits = [v for v in options if abs(_shape(v) / aspect - 1) < ASPECT_TOLERANCE]
    best = min(fits, key=lambda v: _distance(v, pixels), default=None)
    if best is None or (tier and _distance(best, pixels) > math.log(TIER_FACTOR)):
        draft.problems.add("capability")
        return
    draft.body["ratio"] = best


def image_tier(ratio: str, asked: str | None) -> str:
    """An image request's megapixel tier: the one asked, else the one nearest the model's ratio."""
    if asked or _size(ratio) is None:
        return asked or DEFAULTS["generate/image"][1]
    return min(IMAGE_TIERS, key=lambda tier: _distance(ratio, IMAGE_TIERS[tier]))


def _duration(draft: Draft, data: dict[str, Any]) -> None:
    if "duration" in data:
        draft.put("duration", data["duration"])
    elif "duration" in (draft.schema or {}).get("required", ()):
        draft.body["duration"] = DEFAULT_SECONDS


def _video(candidate: models.Candidate, data: dict[str, Any]) -> Draft:
    videos = data.get("referenceVideos", [])
    sources = [v["uri"] for v in videos if v.get("role") == "source"]
    others = [v["uri"] for v in videos if v.get("role") == "reference"]
    images = data.get("referenceImages", [])
    if sources:
        draft = _draft(candidate, "video_to_video", "input_support")
    elif images:
        draft = _draft(candidate, "image_to_video", "input_support")
    else:
        draft = _draft(candidate, "text_to_video", "capability")
    if draft.schema is None:
        return draft
    for name in ("promptText", "negativePrompt", "contentModeration", "seed"):
        if name in data:
            draft.put(name, data[name], "capability" if name == "promptText" else None)
    _duration(draft, data)
    if "audio" in data:
        draft.put("audio", data["audio"], "capability" if data["audio"] else None)
    _ratio(draft, data, VIDEO_TIERS, "generate/video")
    frames = [{"uri": i["uri"], "position": i["role"]} for i in images if i["role"] in ("first", "last")]
    if frames:
        single = len(frames) == 1 and frames[0]["position"] == "first"
        draft.put("promptImage", frames[0]["uri"] if single else frames, "input_support")
    if any(i["role"] == "reference" for i in images):
        draft.put("referenceImages", [{"uri": i["uri"]} for i in images if i["role"] == "reference"], "input_support")
    if sources:
        home = next((name for name in ("videoUri", "promptVideo") if name in draft.props), None)
        draft.put(home or "videoUri", sources[0], "input_support")
    if others:
        draft.put("referenceVideos", [{"type": "video", "uri": u} for u in others], "input_support")
    if data.get("keyframes"):
        draft.put("keyframes", data["keyframes"], "input_support")
    if data.get("referenceAudio"):
        draft.put("referenceAudio", [{"type": "audio", "uri": a["uri"]} for a in data["referenceAudio"]],
                  "input_support")
    return draft


def _image(candidate: models.Candidate, data: dict[str, Any]) -> Draft:
    draft = _draft(candidate, "text_to_image", "capability")
    if draft.schema is None:
        return draft
    draft.put("promptText", data["promptText"])
    if "contentModeration" in data:
        draft.put("contentModeration", data["contentModeration"], None)
    if "seed" in data:
        draft.put("seed", data["seed"])  # "Only gen4_image and gen4_image_turbo accept this field."
    if data.get("outputCount", 1) != 1:
        draft.put("outputCount", data["outputCount"])  # "Models that cannot produce the exact count are excluded"
    if data.get("referenceImages"):
        draft.put("referenceImages", [{"uri": i["uri"]} for i in data["referenceImages"]], "input_support")
    _ratio(draft, data, IMAGE_TIERS, "generate/image")
    return draft


def _audio(candidate: models.Candidate, data: dict[str, Any]) -> Draft:
    speech = data["type"] == "speech"
    draft = _draft(candidate, "text_to_speech" if speech else "sound_effect", "capability")
    if draft.schema is None:
        return draft
    draft.put("promptText", data["promptText"])
    voice = data.get("voice")
    if voice:
        draft.put("voice", {"type": "runway-preset", "presetId": voice["presetId"]} if voice["type"] == "preset"
                  else {"type": "reference-audio", "audioUri": voice["audioUri"]})
    _duration(draft, data)
    if data.get("loop"):
        draft.put("loop", True)
    if data.get("referenceAudios"):
        draft.put("referenceAudios", [a["uri"] for a in data["referenceAudios"]], "input_support")
    return draft


TRANSLATORS: dict[str, Callable[[models.Candidate, dict[str, Any]], Draft]] = {
    "generate/video": _video, "generate/image": _image, "generate/audio": _audio,
}


# --- judging each model -----------------------------------------------------------------------


def _filter_of(issue: Issue) -> str:
    """Which hard filter a rule the model's body breaks belongs to."""
    top = issue.path[0] if issue.path else ""
    if top in PROMPT_FIELDS and issue.code in ("too_big", "too_small"):
        return "prompt_length"
    return "input_support" if top in MEDIA_FIELDS else "capability"


def _judge(draft: Draft, local: dict[str, Path | None], facts: dict[str, dict[str, float]]) -> None:
    """Check the model's body against its rules and its image limits; price it when it passes."""
    if draft.schema is None:
        return
    issues, draft.refs = validate_body(draft.schema, draft.body)
    if not issues:
        issues = list(iter_semantic_issues(draft.endpoint, draft.model, draft.body))
    draft.problems |= {_filter_of(issue) for issue in issues}
    if draft.problems:
        return
    try:
        draft.sources = [inputs.source_of(ref, path, draft.model) for ref in draft.refs
                         if (path := local.get(ref.value)) is not None]
    except AssetError:
        draft.problems.add("input_support")
        return
    price(draft, facts)


def price(draft: Draft, facts: dict[str, dict[str, float]]) -> None:
    """The model's estimate for its body, and per generated output (what a credit cap compares)."""
    draft.measured = inputs.measure_inputs(draft.endpoint, draft.model, draft.sources, facts)
    draft.estimate = pricing.price(draft.endpoint, draft.model, draft.body, draft.measured)
    count = draft.body.get("outputCount", draft.body.get("numVariants", 1))
    draft.per_output = draft.estimate / (count if isinstance(count, int) and count > 0 else 1)


def _allowed(model: str, rule: dict[str, Any] | None) -> bool:
    if not rule:
        return True
    listed = model in rule.get("ids", ())
    return listed if rule.get("mode") == "allowlist_only" else not listed


def _filter(drafts: list[Draft], name: str, settings: dict[str, Any], modality: str) -> list[Draft]:
    if name == "allow_deny":
        return [d for d in drafts if _allowed(d.model, settings.get("models"))]
    if name == "price":
        cap = (settings.get("maxCreditsPerGeneration") or {}).get(modality)
        return [d for d in drafts if cap is None or d.per_output <= cap]
    return [d for d in drafts if d.first_problem != name]


def _rank(alive: list[Draft], preference: str) -> tuple[list[Draft], str, str]:
    """The eligible models best first, how they were ranked, and why the first won."""
    if len(alive) == 1:
        return alive, "single_candidate", f"{alive[0].model} was the only eligible model."
    if preference == "cost":
        ranked = sorted(alive, key=lambda d: d.estimate)
        return ranked, "cost", (f"{ranked[0].model} had the lowest estimated cost ({ranked[0].estimate} credits) "
                                f"of {len(alive)} eligible models.")
    ranked = sorted(alive, key=lambda d: getattr(d.candidate, preference))
    return ranked, "selected", f"{ranked[0].model} ranked best for {preference} of {len(alive)} eligible models."


def _capacity(ranked: list[Draft], full: Callable[[str], bool]) -> tuple[Draft, dict[str, Any] | None]:
    """With capacity fallback: the best model with a free slot, and what was skipped for it."""
    if not full(ranked[0].model):
        return ranked[0], None
    free = next((d for d in ranked if not full(d.model)), None)
    if free is None:
        return ranked[0], {"allExhausted": True, "skipped": []}
    return free, {"allExhausted": False, "skipped": [d.model for d in ranked[:ranked.index(free)]]}


def decide(endpoint: str, data: dict[str, Any], settings: dict[str, Any], local: dict[str, Path | None],
           facts: dict[str, dict[str, float]], full: Callable[[str], bool], last_resort: bool = False) -> Decision:
    """Choose the model for a router request's ``input`` under a router's settings.

    ``local`` maps each media string of the request to its file (None: not held locally), ``facts``
    caches probed media, ``full`` says whether a model's concurrency is full. With ``last_resort``
    (a fabricated router in mock mode) a request no model fits still runs, on the first candidate
    that serves its kind of request.
    """
    drafts = [TRANSLATORS[endpoint](candidate, data) for candidate in models.ROUTER_CANDIDATES[endpoint]]
    for draft in drafts:
        _judge(draft, local, facts)
    pipeline: list[dict[str, Any]] = []
    alive = drafts
    for name in FILTERS:
        alive = _filter(alive, name, settings, MODALITY[endpoint])
        pipeline.append({"type": "filter", "filter": name, "models": [d.model for d in alive]})
        if not alive:
            if last_resort:
                return _fallback(drafts, pipeline, facts)
            return Decision(None, pipeline, [name])
    preference = settings.get("optimizeFor") or "cost"
    ranked, outcome, reason = _rank(alive, preference)
    chosen, capacity = ranked[0], None
    if (settings.get("fallback") or {}).get("onCapacity"):
        chosen, capacity = _capacity(ranked, full)
        if capacity is not None:
            pipeline.append({"type": "capacity", **capacity})
    pipeline.append({"type": "rank", "outcome": outcome})
    return Decision(chosen, pipeline, [], REASON_CODES.get(outcome, f"best_{preference}"), reason, capacity)


def _fallback(drafts: list[Draft], pipeline: list[dict[str, Any]], facts: dict[str, dict[str, float]]) -> Decision:
    chosen = next((d for d in drafts if d.schema is not None), drafts[0])
    price(chosen, facts)
    pipeline.append({"type": "rank", "outcome": "fallback"})
    return Decision(chosen, pipeline, [], REASON_CODES["fallback"], f"{chosen.model} was taken in filter order.")
