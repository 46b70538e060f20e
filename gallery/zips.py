"""ZIP downloads of many outputs, streamed as they are written (never held whole in memory)."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterable, Iterator

from django.utils import timezone

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


def zip_entry_name(output: Output) -> str:
    return output.download_name


def stream_zip(outputs: Iterable[Output], *, chunk_size: int = ZIP_CHUNK) -> Iterator[bytes]:
    """A ZIP of the outputs' files, entries stored as they are, produced a chunk at a time.

    A storage error part-way stops the stream without the archive's closing directory, so
    the browser reports a broken download instead of saving a ZIP with a short file in it.
    """
    pipe = _Pipe()
    archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    try:
        for output in outputs:
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
