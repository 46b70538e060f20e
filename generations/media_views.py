"""Outputs' files, served only after the project access check (`core.http.serve_file`)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from core.access import project_view
from core.http import THUMB_TYPE, serve_file
from generations.models import Output

# What serving a file reads of an output (and of its generation, for the download's name): a
# player asks once per seek, so the row is read narrow.
SERVED_FIELDS = ("id", "project_id", "generation_id", "kind", "content_type", "file", "thumbnail", "preview",
                 "created_at", "generation__id", "generation__model")


def _output(membership, output_id: int) -> Output:
    return get_object_or_404(Output.objects.in_project(membership.project).select_related("generation")
                             .only(*SERVED_FIELDS), pk=output_id)


@require_GET
@project_view()
def output_file(request, membership, output_id: int):
    output = _output(membership, output_id)
    return serve_file(output.file, content_type=output.content_type, filename=output.download_name,
                      as_attachment="download" in request.GET, range_header=request.headers.get("Range"))


@require_GET
@project_view()
def output_thumb(request, membership, output_id: int):
    output = _output(membership, output_id)
    return serve_file(output.thumbnail, content_type=THUMB_TYPE, filename=f"output-{output.pk}-thumb.jpg")


@require_GET
@project_view()
def output_play(request, membership, output_id: int):
    """What a page plays: the browser-playable preview where the delivery has one, else the delivery."""
    output = _output(membership, output_id)
    return serve_playable(output, range_header=request.headers.get("Range"))


def serve_playable(output: Output, *, range_header: str | None):
    if output.preview:
        return serve_file(output.preview, content_type=output.preview_type,
                          filename=f"{output.download_name.rsplit('.', 1)[0]}-preview.{output.preview.name.rsplit('.', 1)[-1]}",
                          range_header=range_header, seekable=True)
    return serve_file(output.file, content_type=output.content_type, filename=output.download_name,
                      range_header=range_header, seekable=True)
