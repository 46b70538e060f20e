"""Public share pages: one output, read-only, for anyone holding an active link's token.

No account needed and no project navigation; every request checks the token again, so a
revoked link stops working at once. Forged and revoked tokens look the same: 404.
Each client address may open so many pages, and fetch so many media ranges and posters, a
minute ("share-pages-ip", "share-media-ip" in settings.RATE_LIMITS); past that, a 429 page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from core.ratelimit import ip_of, limit
from gallery import actions, boards, cards
from generations.media_views import THUMB_TYPE, serve_file, serve_playable
from generations.models import Output

NOINDEX = "noindex, nofollow, noarchive"
READS = ("GET", "HEAD")


def _public(scope: str):
    """A public page or file: no account needed, GET or HEAD only, limited per address by `scope`."""

    def decorator(view):
        return login_not_required(require_GET(limit(scope, key=ip_of, methods=READS)(view)))

    return decorator


def _gone(request) -> TemplateResponse:
    response = TemplateResponse(request, "gallery/share_gone.html", {}, status=404)
    response["X-Robots-Tag"] = NOINDEX
    return response


def _private(response):
    response["X-Robots-Tag"] = NOINDEX
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


@_public("share-pages-ip")
def share_page(request, token: str):
    link = actions.active_share(token)
    if link is None:
        return _gone(request)
    response = TemplateResponse(request, "gallery/share.html", {
        "link": link, "output": link.output, "generation": link.output.generation,
        "model_label": link.output.generation.model_name,
    })
    response["Cache-Control"] = "private, no-store"
    return _private(response)


def _unstored(response):
    response["Cache-Control"] = "private, no-store"
    return _private(response)


def _media(request, output):
    return _unstored(serve_file(output.file, content_type=output.content_type, filename=output.download_name,
                                as_attachment="download" in request.GET, range_header=request.headers.get("Range")))


def _play(request, output):
    """What a public page plays: the browser-playable preview where there is one."""
    return _unstored(serve_playable(output, range_header=request.headers.get("Range")))


def _poster(request, output):
    if not output.thumbnail:
        return _gone(request)
    return _unstored(serve_file(output.thumbnail, content_type=THUMB_TYPE, filename=f"output-{output.pk}-poster.jpg"))


def _shared_output(view):
    """A public view of the output an active share link names; 404 for any other token."""

    @wraps(view)
    def wrapper(request, token: str):
        link = actions.active_share(token)
        return _gone(request) if link is None else view(request, link.output)

    return wrapper


@_public("share-media-ip")
@_shared_output
def share_media(request, output):
    return _media(request, output)


@_public("share-media-ip")
@_shared_output
def share_play(request, output):
    return _play(request, output)


@_public("share-media-ip")
@_shared_output
def share_poster(request, output):
    return _poster(request, output)


# --- a board's public page --------------------------------------------------------------------

BOARD_PER_PAGE = 48


@_public("share-pages-ip")
def board_page(request, token: str):
    link = boards.active_board_link(token)
    if link is None:
        return _gone(request)
    outputs = (Output.objects.filter(board_items__board=link.board, trashed_at__isnull=True).select_related("generation")
               .order_by("-board_items__added_at", "-pk"))
    page = Paginator(outputs, BOARD_PER_PAGE).get_page(request.GET.get("page"))
    response = TemplateResponse(request, "gallery/board_public.html", {
        "link": link, "board": link.board, "page": page,
        "items": [(o, cards.title_of(o.generation)) for o in page.object_list]})
    return _unstored(response)


def _board_output(view):
    """A public view of one output of the board an active link names; 404 for anything else."""

    @wraps(view)
    def wrapper(request, token: str, output_id: int):
        link = boards.active_board_link(token)
        output = None if link is None else Output.objects.filter(board_items__board=link.board, pk=output_id,
                                                                trashed_at__isnull=True).first()
        return _gone(request) if output is None else view(request, output)

    return wrapper


@_public("share-media-ip")
@_board_output
def board_play(request, output):
    return _play(request, output)


@_public("share-media-ip")
@_board_output
def board_poster(request, output):
    return _poster(request, output)
