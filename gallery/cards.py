"""What the gallery says about an output: its title, seed and cost, for cards, the lightbox and ZIP manifests."""

from __future__ import annotations

from dataclasses import dataclass

from generations.models import Generation, Output
from runway import catalog

# How an output made from an input (and no prompt) is titled, by endpoint: "Upscale of fox.png".
MADE_FROM = {
    "image_upscale": "Upscale of {}",
    "video_upscale": "Upscale of {}",
    "video_to_hdr": "HDR of {}",
    "video_to_audio": "Sound for {}",
    "speech_to_speech": "New voice for {}",
    "voice_dubbing": "Dub of {}",
    "voice_isolation": "Voice isolated from {}",
    "character_performance": "Performance of {}",
}


def title_of(generation: Generation) -> str:
    """The prompt; without one, what it was made from ("Upscale of fox.png"), else "Text → Speech · ElevenLabs v3".

    Reads `generation.inputs.all()`, so a list of them should prefetch it.
    """
    prompt = " ".join((generation.prompt or "").split())
    if prompt:
        return prompt
    names = [a.name for a in generation.inputs.all()]
    if not names:
        return generation.display_label
    first = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
    pattern = MADE_FROM.get(generation.endpoint)
    if pattern is None:
        try:
            pattern = f"{catalog.get_endpoint(generation.endpoint).label} from {{}}"
        except catalog.UnknownModel:
            pattern = f"{generation.endpoint} from {{}}"
    return pattern.format(first)


def seed_of(generation: Generation) -> int | None:
    """The seed asked for, else the one Runway reported for the task, if either is known."""
    for source in (generation.params, generation.task_json):
        seed = source.get("seed") if isinstance(source, dict) else None
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
    return None


def cost_of(generation: Generation) -> tuple[int, bool]:
    """(credits, estimated): what Runway charged, or the estimate while no charge is known."""
    if generation.cost_credits is not None:
        return generation.cost_credits, False
    return generation.estimated_credits, True


@dataclass(frozen=True)
class Card:
    """One output as the grid and its lightbox show it."""

    output: Output
    title: str
    seed: int | None
    credits: int
    estimated: bool
    may_delete: bool


def may_delete(membership, output: Output) -> bool:
    """Owners may delete any output; editors their own."""
    return membership.is_owner or (membership.can_edit and output.generation.created_by_id == membership.user_id)


def cards_for(outputs, *, membership) -> list[Card]:
    """The cards of a page of outputs (their generations' creators and inputs prefetched)."""
    cards = []
    for output in outputs:
        g = output.generation
        credits, estimated = cost_of(g)
        cards.append(Card(output=output, title=title_of(g), seed=seed_of(g), credits=credits, estimated=estimated,
                          may_delete=may_delete(membership, output)))
    return cards
