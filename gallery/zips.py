"""ZIP downloads of many outputs, streamed as they are written (never held whole in memory).

Each ZIP ends with `manifest.csv` and `manifest.json`: a row per file, naming it as it stands
in the ZIP, with what made it (prompt, model as it ran, endpoint, settings, seed), its cost,
its author and its date.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Iterator

from django.utils import timezone

from gallery.cards import cost_of, seed_of
from generations.models import Output

logger = logging.getLogger(__name__)

ZIP_MAX_ITEMS = 500
ZIP_CHUNK = 1024 * 1024


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0
        self.broken = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not self.broken:
            self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


MANIFEST_FIELDS = ("file", "prompt", "model", "endpoint", "settings", "seed", "cost_credits",
                   "cost_estimated", "author", "created_at")
# A cell a spreadsheet would read as a formula is written with a leading apostrophe (CSV only).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def zip_entry_name(output: Output) -> str:
    return output.download_name


def manifest_row(output: Output) -> dict:
    """What the manifests say of one output (its generation and creator loaded)."""
    generation = output.generation
    credits, estimated = cost_of(generation)
    return {
        "file": zip_entry_name(output),
        "prompt": generation.prompt,
        "model": generation.model,  # as it ran: a routed generation names the model Runway chose
        "endpoint": generation.endpoint,
        "settings": generation.params or {},
        "seed": seed_of(generation),
        "cost_credits": credits,
        "cost_estimated": estimated,
        "author": generation.created_by.username,
        "created_at": timezone.localtime(output.created_at).isoformat(),
    }


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def manifests(rows: list[dict]) -> dict[str, bytes]:
    """manifest.csv (UTF-8 with a BOM, so spreadsheets read accents) and manifest.json of the rows."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row[k]) for k in MANIFEST_FIELDS})
    return {
        "manifest.csv": text.getvalue().encode("utf-8-sig"),
        "manifest.json": json.dumps({"files": rows}, ensure_ascii=False, indent=2).encode(),
    }


def _add_manifests(archive: zipfile.ZipFile, rows: list[dict]) -> None:
    now = timezone.localtime().timetuple()[:6]
    for name, data in manifests(rows).items():
        info = zipfile.ZipInfo(name, date_time=now)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)


def stream_zip(outputs: Iterable[Output], *, chunk_size: int = ZIP_CHUNK) -> Iterator[bytes]:
    """A ZIP of the outputs' files, entries stored as they are, produced a chunk at a time, then the manifests.

    A storage error part-way stops the stream without the archive's closing directory, so
    the browser reports a broken download instead of saving a ZIP with a short file in it.
    """
    pipe = _Pipe()
    archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    rows = []
    try:
        for output in outputs:
            rows.append(manifest_row(output))
            info = zipfile.ZipInfo(zip_entry_name(output),
                                   date_time=timezone.localtime(output.created_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with output.file.storage.open(output.file.name, "rb") as source, \
                    archive.open(info, "w", force_zip64=output.size > zipfile.ZIP64_LIMIT // 2) as entry:
                while chunk := source.read(chunk_size):
                    entry.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
        _add_manifests(archive, rows)
        archive.close()
        yield pipe.drain()
    except Exception:
        pipe.broken = True  # nothing more leaves, not even the directory a later close writes
        logger.exception("ZIP download stopped by a storage error")
        raise
    finally:
        if not pipe.broken and archive.fp is not None:
            # Closed early (the browser went away): write nothing more.
            pipe.broken = True
