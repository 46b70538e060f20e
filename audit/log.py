"""Recording and exporting the audit log.

`record` is the one way anything writes an `AuditEntry`, always inside the
transaction of the change it records (it refuses to run outside one), so a
change and its entry are kept or lost together. `snapshot` turns a model
instance into the JSON kept as "before" and "after". Secrets (password
hashes, token hashes) never reach the log.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from .models import AuditEntry

SECRET_FIELDS = frozenset({"password", "token_hash"})
CSV_COLUMNS = ["created_at", "actor", "action", "object_type", "object_id", "object_repr", "changed",
               "before", "after", "note"]


def snapshot(obj: models.Model | None, fields: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The object's concrete field values (foreign keys as ids), JSON-safe, secrets left out."""
    if obj is None:
        return None
    names = list(fields) if fields is not None else [
        f.attname for f in obj._meta.concrete_fields if f.name not in SECRET_FIELDS
    ]
    values = {name: getattr(obj, name) for name in names}
    # Round-trip through the encoder so dates, decimals and UUIDs are stored as the log shows them.
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def record(*, actor, action: str, obj: models.Model | None = None, before: Any = None, after: Any = None,
           note: str = "", object_type: str = "", object_id: str = "", object_repr: str = "",
           project: Any = None) -> AuditEntry:
    """Write one audit entry for `action` on `obj` by `actor` (None for the system).

    Call it inside the `transaction.atomic()` block that makes the change. The entry names the
    project it happened in: `project`, else the object's own project (`obj.project_id`), else
    the object itself when it is a project.
    """
    if transaction.get_autocommit():
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk or "")
        object_repr = object_repr or str(obj)
    actor = actor if getattr(actor, "pk", None) else None
    if project is not None:
        project_id = getattr(project, "pk", project)
    elif obj is not None and object_type.endswith(".project"):
        project_id = obj.pk
    else:
        project_id = getattr(obj, "project_id", None)
    return AuditEntry.objects.create(
        actor=actor, action=action[:60], object_type=object_type[:100], object_id=object_id[:64],
        object_repr=object_repr[:200], before=before, after=after, note=(note or "")[:500], project_id=project_id,
    )


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
    # A leading =, +, - or @ makes spreadsheets evaluate the cell; the log holds user-typed text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The header and one CSV line per entry, produced lazily."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for e in entries:
        yield writer.writerow([
            e.created_at.isoformat(), e.actor.username if e.actor else "", e.action, e.object_type, e.object_id,
            _cell(e.object_repr), " ".join(e.changed_fields()), _cell(e.before), _cell(e.after), _cell(e.note),
        ])
