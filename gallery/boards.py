"""Boards: named collections of a project's outputs, and their public links. Each change is atomic
with its audit entry; an output may sit on several boards, and on each at most once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Project
from audit.log import record
from generations.models import Output

from .models import Board, BoardItem, BoardLink

MAX_LINK_DAYS = 365


class BoardError(Exception):
    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _taken(name: str) -> BoardError:
    return BoardError(f"This project already has a board called “{name}”; choose another name.", status=409)


def create_board(*, project: Project, user, name: str) -> Board:
    try:
        with transaction.atomic():
            board = Board.objects.create(project=project, name=name, created_by=user)
            record(actor=user, action="board.create", obj=board, after={"name": name})
    except IntegrityError:
        raise _taken(name) from None
    return board


def rename_board(*, board: Board, user, name: str) -> None:
    before = board.name
    try:
        with transaction.atomic():
            Board.objects.filter(pk=board.pk).update(name=name)
            record(actor=user, action="board.rename", obj=board, before={"name": before}, after={"name": name})
    except IntegrityError:
        raise _taken(name) from None
    board.name = name


def delete_board(*, board: Board, user) -> None:
    """Delete the board (its outputs stay in the gallery)."""
    with transaction.atomic():
        record(actor=user, action="board.delete", obj=board, before={"name": board.name,
                                                                     "outputs": board.items.count()})
        board.delete()


def add_outputs(*, board: Board, outputs: Iterable[Output], user) -> int:
    """Put the outputs on the board (those already on it stay once); how many were added."""
    outputs = [o for o in outputs if o.project_id == board.project_id]
    with transaction.atomic():
        before = set(board.items.filter(output__in=outputs).values_list("output_id", flat=True))
        BoardItem.objects.bulk_create([BoardItem(board=board, output=o, added_by=user) for o in outputs
                                       if o.pk not in before], ignore_conflicts=True)
        added = len({o.pk for o in outputs} - before)
        record(actor=user, action="board.add", obj=board, after={"outputs": sorted(o.pk for o in outputs)})
    return added


def remove_outputs(*, board: Board, outputs: Iterable[Output], user) -> int:
    ids = [o.pk for o in outputs]
    with transaction.atomic():
        removed, _ = board.items.filter(output_id__in=ids).delete()
        record(actor=user, action="board.remove", obj=board, before={"outputs": sorted(ids)})
    return removed


def move_outputs(*, source: Board, target: Board, outputs: Iterable[Output], user) -> int:
    """Take the outputs off one board and put them on another of the same project."""
    if source.project_id != target.project_id or source.pk == target.pk:
        raise BoardError("Choose another board of this project to move them to.")
    outputs = list(outputs)
    with transaction.atomic():
        moved = add_outputs(board=target, outputs=outputs, user=user)
        remove_outputs(board=source, outputs=outputs, user=user)
    return moved


def share_board(*, board: Board, user, days: int | None) -> BoardLink:
    """The board's public link: the active one, else a new one (expiring after `days`, when given)."""
    if days is not None and not 1 <= days <= MAX_LINK_DAYS:
        raise BoardError(f"A link lasts between 1 and {MAX_LINK_DAYS} days, or until revoked.")
    now = timezone.now()
    with transaction.atomic():
        BoardLink.objects.filter(board=board, revoked_at=None, expires_at__lte=now).update(revoked_at=now)
        link = BoardLink.objects.filter(board=board, revoked_at=None).first()
        if link is None:
            try:
                with transaction.atomic():
                    link = BoardLink.objects.create(board=board, created_by=user,
                                                    expires_at=now + timedelta(days=days) if days else None)
            except IntegrityError:  # made by someone else meanwhile
                link = BoardLink.objects.get(board=board, revoked_at=None)
            record(actor=user, action="board.share", obj=board, after={"expires_at": link.expires_at})
    return link


def revoke_board_link(*, board: Board, user) -> bool:
    with transaction.atomic():
        revoked = BoardLink.objects.filter(board=board, revoked_at=None).update(revoked_at=timezone.now())
        if revoked:
            record(actor=user, action="board.unshare", obj=board)
    return bool(revoked)


def active_board_link(token: str) -> BoardLink | None:
    """The active, unexpired link a raw token names, with its board, or None."""
    if not token or len(token) > 64:
        return None
    link = BoardLink.objects.select_related("board__project").filter(token=token, revoked_at=None).first()
    return link if link is not None and link.is_active() else None
