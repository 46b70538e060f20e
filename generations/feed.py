"""What a generation card says and how an open page keeps its cards current.

A page asks about its cards through one channel: it sends each in-flight card's id and
the version it shows (`card=<id>:<version>`), and gets back only the cards whose version
moved. A card's version is a digest of everything the card shows that can change while
the generation runs, so an unchanged card costs a comparison, not a render.

Money is read from the ledger, never guessed from the row: the creator's hold says what
is held, charged, released or refunded now.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from assets.models import MediaKind
from core.params import parse_id
from credits.models import Hold, HoldState
from runway import catalog

MAX_CARDS_ASKED = 100  # a page shows at most GENERATIONS_PER_PAGE; more is not a page of ours


# --- money -----------------------------------------------------------------------------------


def money_text(generation, hold: Hold | None) -> str:
    """The card's money line, as the creator's hold has it now."""
    if hold is None:
        # No hold (an old row, or one that failed before anything was held): the row is all there is.
        if generation.cost_credits:
            return f"charged {generation.cost_credits}"
        if generation.is_in_flight and generation.estimated_credits:
            return f"about {generation.estimated_credits} credits"
        return "nothing charged"
    if hold.state == HoldState.OPEN:
        return f"{hold.amount} credit{'s' if hold.amount != 1 else ''} held"
    if hold.state == HoldState.SETTLED and hold.charged:
        return f"refunded {hold.charged}" if hold.refunded_at else f"charged {hold.charged}"
    return "nothing charged"  # released, or settled at nothing


def with_money(generations: QuerySet) -> QuerySet:
    """`generations` with their creator's hold read in the same query (`creator_hold`), for `attach_money`.

    A card polled every few seconds is one query this way, not two.
    """
    hold = Hold.objects.filter(generation=OuterRef("pk"), account__user__isnull=False).order_by()
    fields = JSONObject(amount="amount", state="state", charged="charged", refunded_at="refunded_at")
    return generations.annotate(creator_hold=Subquery(hold.values(row=fields)[:1], output_field=JSONField()))


def _hold_from(row: dict | None) -> Hold | None:
    if not row:
        return None
    refunded_at = row["refunded_at"]
    return Hold(amount=row["amount"], state=row["state"], charged=row["charged"],
                refunded_at=parse_datetime(refunded_at) if isinstance(refunded_at, str) else refunded_at)


def attach_money(generations: list) -> None:
    """Set `money` on each generation from its creator's hold: read with it (`with_money`), or in one
    query for all of them."""
    unread = [g.pk for g in generations if not hasattr(g, "creator_hold")]
    holds = {h.generation_id: h for h in Hold.objects.filter(
        generation__in=unread, account__user__isnull=False)} if unread else {}
    for g in generations:
        g.money = money_text(g, _hold_from(g.creator_hold) if hasattr(g, "creator_hold") else holds.get(g.pk))


# --- seeds -----------------------------------------------------------------------------------


def seed_text(generation) -> str:
    """"seed 42", "random seed", or "no seed" for a model that takes none."""
    if generation.params.get("seed") is not None:
        return f"seed {generation.params['seed']}"
    try:
        takes_seed = "seed" in generation.spec.field_names
    except catalog.UnknownModel:
        takes_seed = False
    return "random seed" if takes_seed else "no seed"


# --- variations together ----------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """Cards shown together: the consecutive cards of one group of variations, or of none."""

    group: object | None
    cards: list

    @property
    def running(self) -> bool:
        return any(g.is_in_flight for g in self.cards)

    @property
    def failed(self) -> bool:
        return any(g.can_retry for g in self.cards)


def blocks(generations: Iterable) -> list[Block]:
    """The page's cards in order, a group of variations kept in one block (its cards arrive together)."""
    found: list[Block] = []
    for g in generations:
        last_group = found[-1].group.pk if found and found[-1].group is not None else None
        if found and last_group == g.group_id:
            found[-1].cards.append(g)
        else:
            found.append(Block(group=g.group if g.group_id else None, cards=[g]))
    return found


# --- versions and what a page asks -----------------------------------------------------------


def card_version(generation) -> str:
    """A digest of what the card shows that changes while it runs (not the ticking clock)."""
    facts = "|".join(str(f) for f in (
        generation.status, generation.progress_percent, generation.position, generation.money,
        generation.may_cancel, generation.needs_attention, generation.failure_code,
    ))
    return f"{zlib.crc32(facts.encode()):08x}"


class BadAsk(ValueError):
    """A page's list of cards that is not one: the message says what was wrong."""


def parse_asked(values: Iterable[str]) -> dict[int, str]:
    """`["12:ab01cd23", …]` → {12: "ab01cd23", …}; BadAsk for anything else."""
    asked: dict[int, str] = {}
    for value in values:
        pk_text, _, version = value.partition(":")
        pk = parse_id(pk_text)
        if pk is None or not version.isalnum() or len(version) > 16:
            raise BadAsk("Each card is sent as <id>:<version>.")
        asked[pk] = version
    if len(asked) > MAX_CARDS_ASKED:
        raise BadAsk(f"Ask about at most {MAX_CARDS_ASKED} cards at a time.")
    return asked


def announcement(generations: Iterable) -> str:
    """What a screen reader hears about cards that just finished (progress ticks stay quiet)."""
    return " ".join(f"Generation #{g.pk}: {g.get_status_display().lower()}." for g in generations if g.is_finished)


# --- reuse and use as input ------------------------------------------------------------------


def reuse_url(generation) -> str:
    """The generation form pre-filled with this generation's settings."""
    query = urlencode({"endpoint": generation.endpoint, "model": generation.form_model, "reuse": generation.pk})
    return f"{reverse('generations:new', args=[generation.project.slug])}?{query}"


@dataclass(frozen=True)
class InputRole:
    """One way an output can feed a new generation: which endpoint, and the fields that take it."""

    key: str
    label: str
    endpoints: dict[str, tuple[str, tuple[str, ...]]]  # media kind → (endpoint, field names, best first)
    extra: tuple[tuple[str, str], ...] = ()  # further settings the form starts with


INPUT_ROLES = (
    InputRole("first_frame", "First frame", {MediaKind.IMAGE: ("image_to_video", ("prompt_image",))}),
    InputRole("last_frame", "Last frame", {MediaKind.IMAGE: ("image_to_video", ("last_frame",))}),
    InputRole("reference", "Reference", {
        MediaKind.IMAGE: ("text_to_image", ("reference_images",)),
        MediaKind.VIDEO: ("text_to_video", ("reference_videos",)),
        MediaKind.AUDIO: ("text_to_video", ("reference_audio",)),
    }),
    InputRole("extend", "Extend", {MediaKind.VIDEO: ("video_to_video", ("video_uri", "prompt_video"))},
              extra=(("mode", "extend"),)),
    InputRole("upscale", "Upscale", {
        MediaKind.IMAGE: ("image_upscale", ("image_uri",)),
        MediaKind.VIDEO: ("video_upscale", ("video_uri",)),
    }),
)
ROLES = {role.key: role for role in INPUT_ROLES}


def _fits(model: catalog.Model, names: tuple[str, ...], kind: str, extra) -> str | None:
    """The field of `model` that takes an output of `kind` in this role, if the model has one."""
    by_name = {f.name: f for f in model.fields}
    for name, value in extra:
        if name not in by_name or value not in by_name[name].choice_values:
            return None
    return next((n for n in names if n in by_name and kind in by_name[n].media_kinds), None)


def _target(role: InputRole, kind: str) -> tuple[catalog.Model, str] | None:
    """The model (the endpoint's default when it fits, else the first that does) and its field."""
    if kind not in role.endpoints:
        return None
    endpoint_key, names = role.endpoints[kind]
    endpoint = catalog.get_endpoint(endpoint_key)
    for model in (endpoint.default_model, *endpoint.models):
        field = _fits(model, names, kind, role.extra)
        if field:
            return model, field
    return None


def roles_for(kind: str) -> list[InputRole]:
    """The roles an output of this kind can take, in the order cards offer them."""
    return [role for role in INPUT_ROLES if _target(role, kind) is not None]


def input_form_url(*, project, asset, role: InputRole) -> str:
    """The generation form with the asset in the field this role fills."""
    model, field = _target(role, asset.kind)
    query = urlencode({"endpoint": model.endpoint, "model": model.id, field: asset.pk, **dict(role.extra)})
    return f"{reverse('generations:new', args=[project.slug])}?{query}"
