"""The stored objects that are not tasks, by kind, and the cursor pages every list endpoint answers with.

Kinds are ``voice``, ``avatar``, ``router``, ``router_request`` and ``voice_preview``. Deleting
keeps the record, marked: an avatar still names the custom voice it was given ("deleted": true), and
a deleted router's slug is free again. Lists run newest first by a sequence number rather than
by time, because on a frozen clock everything is created at the same instant.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .clock import Clock
from .state import Record
from .store import Store


class Records:
    """Every record by kind and id, persisted through the store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._by_kind: dict[str, dict[str, Record]] = defaultdict(dict)
        self._seq = 0

    def adopt(self, record: Record) -> None:
        """Take a record restored from storage into the index."""
        self._by_kind[record.kind][record.id] = record
        self._seq = max(self._seq, record.seq)

    def add(self, kind: str, fields: dict[str, Any], *, record_id: str | None = None, ready_in: float = 0.0,
            failure: str | None = None) -> Record:
        """Store a new record; a voice or avatar turns READY (or FAILED) ``ready_in`` seconds from now."""
        now = self.clock.now()
        self._seq += 1
        record = Record(kind=kind, id=record_id or str(uuid.uuid4()), seq=self._seq, created_at=now,
                        updated_at=now, fields=fields, ready_at=now + ready_in, failure=failure)
        self.adopt(record)
        self.store.save_record(record)
        return record

    def any(self, kind: str, record_id: str) -> Record | None:
        """A record by id, deleted or not."""
        return self._by_kind[kind].get(record_id)

    def get(self, kind: str, record_id: str) -> Record | None:
        """A live (not deleted) record by id."""
        record = self.any(kind, record_id)
        return None if record is None or record.deleted else record

    def live(self, kind: str, **match: Any) -> list[Record]:
        """Live records of a kind whose fields equal ``match``, newest first."""
        found = [r for r in self._by_kind[kind].values()
                 if not r.deleted and all(r.fields.get(k) == v for k, v in match.items())]
        return sorted(found, key=lambda r: r.seq, reverse=True)

    def save(self, record: Record) -> None:
        """Persist a changed record, stamping when it changed."""
        record.updated_at = self.clock.now()
        self.store.save_record(record)

    def delete(self, record: Record) -> None:
        """Mark a record deleted (it answers 404 from now on) and drop its files."""
        record.deleted = True
        self.save(record)
        self.drop_files(record)

    def drop_files(self, record: Record, *names: str) -> None:
        """Remove files rendered for a record (all of them, or the names given) so they are made again."""
        folder = self.store.record_dir(record.kind, record.id)
        if not names:
            shutil.rmtree(folder, ignore_errors=True)
        for name in names:
            (folder / name).unlink(missing_ok=True)

    def status(self, record: Record) -> str:
        """PROCESSING until the record's ready time, then FAILED (when it carries a failure) or READY."""
        if self.clock.now() < record.ready_at:
            return "PROCESSING"
        return "FAILED" if record.failure else "READY"

    def counts(self) -> dict[str, int]:
        """Live records per kind, for the control API's state summary."""
        return {kind: sum(not r.deleted for r in by_id.values()) for kind, by_id in sorted(self._by_kind.items())}


# --- cursor pages -------------------------------------------------------------------------------


def encode_cursor(seq: int) -> str:
    """An opaque cursor standing for "after the record numbered ``seq``"."""
    return base64.urlsafe_b64encode(f"after:{seq}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int | None:
    """The sequence number a cursor stands for, or None for a cursor the emulator never gave out."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = raw.partition(":")
    return int(number) if prefix == "after" and number.isdigit() else None


def page(records: Iterable[Record], limit: int, after: int | None) -> tuple[list[Record], str | None]:
    """One page of a newest-first list: up to ``limit`` records after the cursor, and the next cursor
    (None on the last page)."""
    rest = [r for r in records if after is None or r.seq < after]
    items = rest[:limit]
    return items, (encode_cursor(items[-1].seq) if len(rest) > limit else None)
