"""Finding outputs in a project's gallery: filters, prompt search and sorting.

Search: every word of the query appearing in the prompt (`icontains`) always
matches, on any database. On PostgreSQL, full-text search (English stemming,
`websearch` syntax: quotes, `or`, `-word`) widens that, so "sailing" finds
"the boat sails"; there both halves are served by GIN indexes (trigrams for the words as
typed, a stored text-search vector for their forms), so a search of a large project reads only
the prompts that match and never computes a vector per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.search import SearchQuery
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Project
from assets.models import Asset
from generations.models import Output

SEARCH_WORDS = 8

SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "largest": ("-size", "-id"),
    # PostgreSQL puts NULLs first in a descending sort; images and audio-less rows go last everywhere.
    "longest": (F("duration").desc(nulls_last=True), "-id"),
}

# The columns a gallery card shows; nothing else is read for a page of results.
CARD_FIELDS = (
    "id", "project_id", "generation_id", "index", "kind", "content_type", "size", "width",
    "height", "duration", "thumbnail", "file", "preview", "playable", "codec", "is_favourite", "created_at",
    "generation__id", "generation__endpoint", "generation__model", "generation__prompt", "generation__params",
    "generation__task_json", "generation__cost_credits", "generation__estimated_credits",
    "generation__group_id", "generation__group__id", "generation__group__size", "generation__group__axes",
    "generation__created_by_id", "generation__created_by__id", "generation__created_by__username",
    "generation__created_by__first_name", "generation__created_by__last_name",
)


@dataclass(frozen=True)
class Filters:
    """What a person asked the gallery for; empty values mean "any"."""

    kind: str = ""
    endpoint: str = ""
    model: str = ""
    member: int | None = None
    since: date | None = None
    until: date | None = None
    favourites: bool = False
    tag: str = ""
    group: int | None = None  # a group of variations: its outputs together
    text: str = ""
    sort: str = "newest"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def prompt_matches(queryset: QuerySet, text: str, *, generation: str) -> QuerySet:
    """`queryset` narrowed to rows whose generation (the path `generation`, "" for generations
    themselves) has a prompt matching the search `text`.

    On PostgreSQL both halves have an index (generations migration 0015): a trigram index
    for the words as typed, and the stored text-search vector for their forms.
    """
    words = text.split()[:SEARCH_WORDS]
    if not words:
        return queryset
    path = f"{generation}__" if generation else ""
    every_word = Q()
    for word in words:
        every_word &= Q(**{f"{path}prompt__icontains": word})
    if connection.vendor != "postgresql":
        return queryset.filter(every_word)
    query = SearchQuery(" ".join(words), config="english", search_type="websearch")
    return queryset.filter(Q(**{f"{path}prompt_search": query}) | every_word)


def search_outputs(*, project: Project, filters: Filters) -> QuerySet[Output]:
    """The project's outputs matching `filters`, sorted, with what a card shows and no more (inputs' names
    title an output made without a prompt)."""
    outputs = Output.objects.in_project(project)
    if filters.kind:
        outputs = outputs.filter(kind=filters.kind)
    if filters.endpoint:
        outputs = outputs.filter(generation__endpoint=filters.endpoint)
    if filters.model:
        outputs = outputs.filter(generation__model=filters.model)
    if filters.member:
        outputs = outputs.filter(generation__created_by_id=filters.member)
    # Bounds as instants, so the created_at index serves the range.
    if filters.since:
        outputs = outputs.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        outputs = outputs.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    if filters.favourites:
        outputs = outputs.filter(is_favourite=True)
    if filters.group:
        outputs = outputs.filter(generation__group_id=filters.group)
    if filters.tag:
        outputs = outputs.filter(tags__project=project, tags__name=filters.tag)
    outputs = prompt_matches(outputs, filters.text, generation="generation")
    return _for_cards(outputs).order_by(*SORTS.get(filters.sort, SORTS["newest"]))


def _for_cards(outputs: QuerySet[Output]) -> QuerySet[Output]:
    return (outputs.select_related("generation__created_by", "generation__group").only(*CARD_FIELDS)
            .prefetch_related("tags", Prefetch("generation__inputs", Asset.objects.only("id", "name"))))


FEW_MATCHES = 2000  # sorting this many matches costs less than walking an index past the rest
# A prompt search counts its matches this far and says "1,000+" beyond: counting every match of a
# common word reads every one of them (100 ms for 8,000 in a project of 100,000), for a number no
# one pages through 24 at a time.
COUNTED_MATCHES = 1000


def count_matches(outputs: QuerySet[Output], filters: Filters) -> tuple[int, bool]:
    """How many outputs `filters` finds, and whether that is only the first COUNTED_MATCHES of more."""
    if not filters.text.split():
        return outputs.count(), False
    found = outputs.order_by().values("pk")[:COUNTED_MATCHES + 1].count()
    return min(found, COUNTED_MATCHES), found > COUNTED_MATCHES


def page_of(outputs: QuerySet[Output], filters: Filters, number, *, per_page: int) -> tuple[Page, bool]:
    """The page of results asked for (`number` as the request gave it), and whether the matches
    went past COUNTED_MATCHES.

    SQLite has no index for a prompt search: it reads every prompt to count the matches, and
    again to find a page of a rare word (73 + 31 ms at 100,000 outputs). There, one read in page
    order takes the ids of the first matches, which give the count and any page's ids; the page
    is then read by id.
    """
    if filters.text.split() and connection.vendor != "postgresql":
        ids = list(outputs.values_list("pk", flat=True)[:COUNTED_MATCHES + 1])
        page = Paginator(ids[:COUNTED_MATCHES], per_page).get_page(number)
        rows = {output.pk: output for output in _for_cards(Output.objects.filter(pk__in=page.object_list))}
        page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
        return page, len(ids) > COUNTED_MATCHES
    matches, more = count_matches(outputs, filters)
    paginator = Paginator(for_page(outputs, filters, matches=matches), per_page)
    paginator.count = matches  # counted once, above (Paginator.count is a cached property)
    return paginator.get_page(number), more


def for_page(outputs: QuerySet[Output], filters: Filters, *, matches: int) -> QuerySet[Output]:
    """The results ready to be cut into a page, once their count (`matches`) is known.

    With a prompt search on PostgreSQL that matches few outputs, the planner would walk the
    created_at (or id) index in order, hoping to meet a page of matches early, and read most of a
    large project when they are few and far between (240 ms at 100,000 outputs for a rare word).
    Ordered by a value no index holds, it finds them through the search indexes, then sorts them.
    """
    if not filters.text.split() or connection.vendor != "postgresql" or matches > FEW_MATCHES:
        return outputs
    return outputs.order_by(*(_by_value(o) for o in SORTS.get(filters.sort, SORTS["newest"])))


def _by_value(order):
    """The same order, by the column's value rather than along its index."""
    if not isinstance(order, str):
        return order  # already an expression (the duration sort): no index serves it
    name = order.lstrip("-")
    value = Coalesce(F(name), F(name))
    return value.desc() if order.startswith("-") else value.asc()
