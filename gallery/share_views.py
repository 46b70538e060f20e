"""Public share pages: one output, read-only, for anyone holding an active link's token.

No account needed and no project navigation; every request checks the token again, so a
revoked link stops working at once. Forged and revoked tokens look the same: 404.
Each client address may open so many pages, and fetch so many media ranges and posters, a
minute ("share-pages-ip", "share-media-ip" in settings.RATE_LIMITS); past that, a 429 page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from core.ratelimit import ip_of, limit
from gallery import actions
from generations.media_views import THUMB_TYPE, serve_file, serve_playable

NOINDEX = "noindex, nofollow, noarchive"
READS = ("GET", "HEAD")


def _gone(request) -> TemplateResponse:
    response = TemplateResponse(request, "gallery/share_gone.html", {}, status=404)
    response["X-Robots-Tag"] = NOINDEX
    return response


def _private(response):
    response["X-Robots-Tag"] = NOINDEX
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


@login_not_required
@require_GET
@limit("share-pages-ip", key=ip_of, methods=READS)
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


@login_not_required
@require_GET
@limit("share-media-ip", key=ip_of, methods=READS)
def share_media(request, token: str):
    link = actions.active_share(token)
    if link is None:
        return _gone(request)
    output = link.output
    response = serve_file(output.file, content_type=output.content_type, filename=output.download_name,
                          as_attachment="download" in request.GET, range_header=request.headers.get("Range"))
    response["Cache-Control"] = "private, no-store"
    return _private(response)


@login_not_required
@require_GET
@limit("share-media-ip", key=ip_of, methods=READS)
def share_play(request, token: str):
    """What the share page plays: the browser-playable preview where there is one."""
    link = actions.active_share(token)
    if link is None:
        return _gone(request)
    response = serve_playable(link.output, range_header=request.headers.get("Range"))
    response["Cache-Control"] = "private, no-store"
    return _private(response)


@login_not_required
@require_GET
@limit("share-media-ip", key=ip_of, methods=READS)
def share_poster(request, token: str):
    link = actions.active_share(token)
    if link is None or not link.output.thumbnail:
        return _gone(request)
    response = serve_file(link.output.thumbnail, content_type=THUMB_TYPE,
                          filename=f"output-{link.output_id}-poster.jpg")
    response["Cache-Control"] = "private, no-store"
    return _private(response)
