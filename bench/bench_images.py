"""Images: peak memory of the web process while four large PNGs are uploaded at once.

Issue #15: a 127 KB PNG of 7999×4999 passed the pixel cap and was decoded in full twice
(and copied once more for the thumbnail); four such uploads at once took a web process
from 210 MB to 1.93 GB. Here the files are real PNGs of shifting stripes (about 1 MB each,
written row by row so this process never holds one as an image), POSTed as multipart
through the asset upload view of a gunicorn server with one gthread worker and four
threads, so all four land in the same process at the same moment (a barrier starts them).
The figure is how far that worker's peak RSS (VmHWM, reset through `/proc/<pid>/clear_refs`
just before) rose above its RSS before the uploads: parsing, probing, storing and the
thumbnail of all four. Two shapes: the issue's 7999×4999 and the largest Runway takes,
7999×7999. Then one 8000×5000 PNG, just past the limit, must be refused (400, nothing kept).
"""

from __future__ import annotations

import secrets
import struct
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from common import (
    Figure,
    Stopwatch,
    children,
    django_workspace,
    gunicorn,
    make_member,
    note,
    peak_growth,
    report,
    session_cookie,
    sized,
)

TARGET_MB = 150
UPLOADS = sized(4, 1)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def stripes_png(path: Path, w: int, h: int) -> Path:
    """An 8-bit RGB PNG of shifting stripes, compressed while it is written."""
    base = bytes((x * 7) % 251 for x in range(w * 3 + 251))
    pack = zlib.compressobj(1)
    with path.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        pending = b""
        for y in range(h):
            shift = (y * 3) % 251
            pending += pack.compress(b"\x00" + base[shift:shift + w * 3])
            if len(pending) >= 1 << 16:
                f.write(_chunk(b"IDAT", pending))
                pending = b""
        f.write(_chunk(b"IDAT", pending + pack.flush()) + _chunk(b"IEND", b""))
    return path


def upload_all(base: str, url_path: str, cookies: dict, csrf: str, paths: list[Path]) -> list[int]:
    """POST every file at once (one thread each, released together); their status codes."""
    start = threading.Barrier(len(paths))

    def post(path: Path) -> int:
        with path.open("rb") as fp:
            start.wait()
            return httpx.post(base + url_path, cookies=cookies, timeout=300,
                              data={"csrfmiddlewaretoken": csrf, "name": path.stem},
                              files={"file": (path.name, fp, "image/png")}).status_code

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(post, paths))


def bench_shape(folder: Path, user, project, w: int, h: int) -> dict:
    from django.urls import reverse

    from assets.models import Asset

    paths = [stripes_png(folder / f"{w}x{h}-{i}.png", w, h) for i in range(UPLOADS)]
    cookie = session_cookie(user)
    csrf = secrets.token_hex(16)  # a 32-character secret: valid as both cookie and form token
    url_path = reverse("assets:list", args=[project.slug])
    cookies = {"sessionid": cookie, "csrftoken": csrf}
    before = Asset.objects.count()
    with gunicorn(workers=1, worker_class="gthread", threads=UPLOADS) as (base, server):
        worker = children(server.pid)[0]
        httpx.get(base + url_path, cookies=cookies).raise_for_status()  # a warm worker
        with peak_growth(worker) as growth, Stopwatch() as watch:
            codes = upload_all(base, url_path, cookies, csrf, paths)
        over = stripes_png(folder / "over.png", 8000, 5000)
        refused = upload_all(base, url_path, cookies, csrf, [over])[0]
    stored = Asset.objects.count() - before
    kept_over = Asset.objects.filter(name="over").exists()
    if codes != [302] * UPLOADS or stored != UPLOADS:
        note(f"{w}×{h}: uploads answered {codes}, {stored} stored")
        return {}
    note(f"{UPLOADS} × {w}×{h} PNG ({paths[0].stat().st_size:,} bytes each): {watch.seconds:.1f} s, "
         f"worker RSS {growth['before']:.0f} MB before; 8000×5000 answered {refused}")
    return {"mb": growth["mb"], "seconds": watch.seconds,
            "refused": refused == 400 and not kept_over}


def main() -> int:
    with django_workspace("images", static=True) as data_dir:
        user, project = make_member()
        folder = data_dir / "source"
        folder.mkdir()
        issue = bench_shape(folder, user, project, 7999, 4999)
        largest = bench_shape(folder, user, project, 7999, 7999)
    figures = []
    for label, result in (("7999x4999", issue), ("7999x7999", largest)):
        if result:  # a shape the server refused has no figure (the note says so)
            figures += [Figure(f"upload_4x_png_{label}_memory_growth_mb", result["mb"], "MB", TARGET_MB),
                        Figure(f"upload_4x_png_{label}_seconds", result["seconds"], "s")]
    refused = [r["refused"] for r in (issue, largest) if r]
    figures.append(Figure("upload_png_8000x5000_refused", int(bool(refused) and all(refused)), "bool", 1,
                          lower_is_better=False))
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
