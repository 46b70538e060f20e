"""Boards of a project: /p/<slug>/gallery/boards/… — list, page, add the gallery's selection,
remove, move, rename, delete, share. Viewers see, editors change; the one access helper decides."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from core.access import project_view
from core.http import confirm_page, redirect_after_post
from core.params import parse_id
from generations.models import Output

from . import boards, cards
from .models import Board, BoardLink
from .views import SelectionError, selection, selection_problem

PER_PAGE = 48


class BoardNameForm(forms.Form):
    name = forms.CharField(label="Board name", max_length=100, error_messages={
        "required": "Give the board a name.", "max_length": "Keep the name under 100 characters."})


class ShareForm(forms.Form):
    days = forms.IntegerField(label="Expires after (days)", required=False, min_value=1, max_value=boards.MAX_LINK_DAYS,
                              help_text="Empty: until you revoke it.",
                              error_messages={"invalid": "Enter a whole number of days, or leave it empty."})


def _board(membership, board_id: int) -> Board:
    return get_object_or_404(Board.objects.filter(project=membership.project), pk=board_id)


def _list(request, membership, form, status=200):
    project = membership.project
    rows = Board.objects.filter(project=project).annotate(size=Count("items"))
    return TemplateResponse(request, "gallery/boards.html", {
        "project": project, "membership": membership, "boards": rows, "form": form}, status=status)


@require_GET
@project_view()
def board_list(request, membership):
    return _list(request, membership, BoardNameForm())


@require_POST
@project_view(Role.EDITOR)
def board_create(request, membership):
    form = BoardNameForm(request.POST)
    if not form.is_valid():
        return _list(request, membership, form, status=400)
    try:
        board = boards.create_board(project=membership.project, user=request.user, name=form.cleaned_data["name"])
    except boards.BoardError as exc:
        form.add_error("name", exc.message)
        return _list(request, membership, form, status=exc.status)
    messages.success(request, f"Board “{board.name}” made.")
    return redirect_after_post(request, reverse("gallery:board", args=[membership.project.slug, board.pk]))


@require_GET
@project_view()
def board_page(request, membership, board_id: int):
    board = _board(membership, board_id)
    outputs = (Output.objects.filter(board_items__board=board, trashed_at__isnull=True)
               .select_related("generation__created_by").order_by("-board_items__added_at", "-pk"))
    page = Paginator(outputs, PER_PAGE).get_page(request.GET.get("page"))
    others = Board.objects.filter(project=membership.project).exclude(pk=board.pk)
    link = BoardLink.objects.filter(board=board, revoked_at=None).first()
    return TemplateResponse(request, "gallery/board.html", {
        "project": membership.project, "membership": membership, "board": board, "page": page,
        "cards": cards.cards_for(page.object_list, membership=membership), "others": others,
        "link": link if link and link.is_active() else None, "share_form": ShareForm(),
    })


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def board_add(request, membership):
    """Put the gallery's selection on a board: an existing one, or a new one named here."""
    project = membership.project
    data = request.POST if request.method == "POST" else request.GET
    try:
        outputs = selection(membership, data.getlist("ids"))
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    error, status = "", 200
    if request.method == "POST":
        board_id, name = parse_id(data.get("board") or ""), (data.get("name") or "").strip()[:100]
        try:
            if board_id is not None:
                board = _board(membership, board_id)
            elif name:
                board = boards.create_board(project=project, user=request.user, name=name)
            else:
                raise boards.BoardError("Choose a board, or name a new one.")
        except boards.BoardError as exc:
            error, status = exc.message, exc.status
        else:
            added = boards.add_outputs(board=board, outputs=outputs, user=request.user)
            messages.success(request, f"Added {added} output{'s' if added != 1 else ''} to “{board.name}”"
                             + (f" ({len(outputs) - added} already there)." if added < len(outputs) else "."))
            return redirect_after_post(request, reverse("gallery:board", args=[project.slug, board.pk]))
    return TemplateResponse(request, "gallery/board_add.html", {
        "project": project, "membership": membership, "outputs": outputs, "error": error,
        "boards": Board.objects.filter(project=project)}, status=status)


def _selected(request, membership, board) -> list[Output]:
    outputs = selection(membership, request.POST.getlist("ids"))
    return [o for o in outputs if o.board_items.filter(board=board).exists()]


@require_POST
@project_view(Role.EDITOR)
def board_remove(request, membership, board_id: int):
    board = _board(membership, board_id)
    try:
        outputs = _selected(request, membership, board)
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    removed = boards.remove_outputs(board=board, outputs=outputs, user=request.user)
    messages.success(request, f"Took {removed} output{'s' if removed != 1 else ''} off “{board.name}”; "
                              "they stay in the gallery.")
    return redirect_after_post(request, reverse("gallery:board", args=[membership.project.slug, board.pk]))


@require_POST
@project_view(Role.EDITOR)
def board_move(request, membership, board_id: int):
    board = _board(membership, board_id)
    target_id = parse_id(request.POST.get("target") or "")
    try:
        outputs = _selected(request, membership, board)
        if target_id is None:
            raise boards.BoardError("Choose the board to move them to.")
        target = _board(membership, target_id)
        moved = boards.move_outputs(source=board, target=target, outputs=outputs, user=request.user)
    except SelectionError as exc:
        return selection_problem(request, membership, str(exc))
    except boards.BoardError as exc:
        return selection_problem(request, membership, exc.message, status=exc.status)
    messages.success(request, f"Moved {len(outputs)} output{'s' if len(outputs) != 1 else ''} to “{target.name}”"
                              + (f" ({len(outputs) - moved} were already there)." if moved < len(outputs) else "."))
    return redirect_after_post(request, reverse("gallery:board", args=[membership.project.slug, target.pk]))


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def board_rename(request, membership, board_id: int):
    board = _board(membership, board_id)
    form = BoardNameForm(request.POST or None, initial={"name": board.name})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                boards.rename_board(board=board, user=request.user, name=form.cleaned_data["name"])
            except boards.BoardError as exc:
                form.add_error("name", exc.message)
                status = exc.status
            else:
                return redirect_after_post(request, reverse("gallery:board", args=[membership.project.slug, board.pk]))
    return TemplateResponse(request, "gallery/board_rename.html", {
        "project": membership.project, "membership": membership, "form": form, "board": board}, status=status)


@require_http_methods(["GET", "POST"])
@project_view(Role.EDITOR)
def board_delete(request, membership, board_id: int):
    board = _board(membership, board_id)
    back = reverse("gallery:boards", args=[membership.project.slug])
    if request.method == "POST":
        boards.delete_board(board=board, user=request.user)
        messages.success(request, f"Board “{board.name}” was deleted; its outputs stay in the gallery.")
        return redirect_after_post(request, back)
    return confirm_page(request, project=membership.project, membership=membership,
                        title=f"Delete the board “{board.name}”?",
                        body="Its outputs stay in the gallery and on any other board; its public link stops working.",
                        action="Delete board", cancel_url=back)


@require_POST
@project_view(Role.EDITOR)
def board_share(request, membership, board_id: int):
    board = _board(membership, board_id)
    form = ShareForm(request.POST)
    back = reverse("gallery:board", args=[membership.project.slug, board.pk])
    if not form.is_valid():
        return selection_problem(request, membership, " ".join(m for ms in form.errors.values() for m in ms))
    try:
        boards.share_board(board=board, user=request.user, days=form.cleaned_data["days"])
    except boards.BoardError as exc:
        return selection_problem(request, membership, exc.message, status=exc.status)
    messages.success(request, "The board's public link is ready.")
    return redirect_after_post(request, back)


@require_POST
@project_view(Role.EDITOR)
def board_unshare(request, membership, board_id: int):
    board = _board(membership, board_id)
    revoked = boards.revoke_board_link(board=board, user=request.user)
    messages.success(request, "The public link no longer works." if revoked else "The board had no public link.")
    return redirect_after_post(request, reverse("gallery:board", args=[membership.project.slug, board.pk]))
