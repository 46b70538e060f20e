"""Memory: peak growth while uploading a 200 MB video and while copying a 200 MB output.

The file is a real H.264 MP4 (a few seconds of ffmpeg's test pattern) grown to exactly
200,000,000 bytes with a trailing `free` box, which every MP4 reader skips: it probes,
decodes and gets a poster frame like any upload, and is made in a second or two.

* Upload: the file is POSTed as multipart (httpx streams it from disk) to the asset upload
  view (`assets:list`) of a gunicorn server with one sync worker. We reset that
  worker's peak RSS (`/proc/<pid>/clear_refs`) just before and read VmHWM after: the
  figure is how far the worker's peak rose above its resident size while it parsed the
  upload, probed the file, stored it and made the thumbnail (ffmpeg runs as a child
  process and is not counted).
* Output copy: a separate static file server (`python -m http.server`, a subprocess) serves
  the file at the origin Takes is told is the emulator's; a generation in COPYING whose
  task output is that URL goes through `copy.copy_outputs` in this process (download
  to a temp file, probe, store, thumbnail, Output row, settle credits), with the same peak
  measurement on this process.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from common import (
    PYTHON,
    Figure,
    Stopwatch,
    children,
    django_workspace,
    free_port,
    gunicorn,
    make_member,
    note,
    peak_growth,
    peak_rss_mb,
    report,
    reset_peak,
    rss_mb,
    session_cookie,
    sized,
    spawn,
    stop,
    wait_for_http,
)

SIZE = sized(200_000_000, 20_000_000)  # under media.MAX_BYTES (200 MiB)
TARGET_MB = 64


def make_video(path: Path, size: int = SIZE) -> Path:
    """A valid MP4 padded with a trailing `free` box to exactly `size` bytes."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=size=640x360:rate=24", "-t", "4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=60)
    padding = size - path.stat().st_size
    chunk = bytes(1024 * 1024)
    with path.open("ab") as out:
        out.write(padding.to_bytes(4, "big") + b"free")
        left = padding - 8
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
    assert path.stat().st_size == size
    return path


def bench_upload(video: Path, user, project) -> dict:
    from django.urls import reverse

    from assets.models import Asset

    cookie = session_cookie(user)
    csrf = secrets.token_hex(16)  # a 32-character secret: valid as both cookie and form token
    url_path = reverse("assets:list", args=[project.slug])
    with gunicorn(workers=1, worker_class="sync", threads=1) as (base, server):
        worker = children(server.pid)[0]
        cookies = {"sessionid": cookie, "csrftoken": csrf}
        httpx.get(base + url_path, cookies=cookies).raise_for_status()  # a warm worker
        with peak_growth(worker) as growth, Stopwatch() as watch, video.open("rb") as fp:
            response = httpx.post(base + url_path, cookies=cookies, timeout=120,
                                  data={"csrfmiddlewaretoken": csrf, "name": "big"},
                                  files={"file": ("big.mp4", fp, "video/mp4")})
    stored = Asset.objects.filter(name="big").first()
    if response.status_code != 302 or stored is None:
        raise SystemExit(f"upload answered {response.status_code}: {response.text[:300]}")
    note(f"upload: {watch.seconds:.1f} s, worker RSS {growth['before']:.0f} MB before, "
         f"stored {stored.size:,} bytes")
    return {"mb": growth["mb"], "seconds": watch.seconds}


def bench_copy(video: Path, user, project) -> dict:
    from django.conf import settings

    from generations import copy, submit
    from generations.models import Generation, Status

    port = free_port()
    server = spawn([PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                    "--directory", str(video.parent)])
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(origin + "/", process=server)
        settings.RUNWAYML_API_SECRET = ""
        settings.RUNWAY_USES_EMULATOR = True
        settings.RUNWAY_BASE_URL = origin  # the one non-https origin Takes downloads from
        generation = submit.submit_generation(
            project=project, user=user, endpoint="text_to_video", model="gen4.5",
            params={"prompt_text": "a long take", "ratio": "1280:720", "duration": 5})
        Generation.objects.filter(pk=generation.pk).update(
            status=Status.COPYING, runway_task_id="bench-copy", cost_credits=60,
            task_json={"id": "bench-copy", "status": "SUCCEEDED", "output": [f"{origin}/{video.name}"]})
        with peak_growth() as growth, Stopwatch() as watch:
            copy.copy_outputs(generation_id=generation.pk)
    finally:
        stop(server)
    generation.refresh_from_db()
    output = generation.outputs.first()
    if generation.status != Status.SUCCEEDED or output is None:
        raise SystemExit(f"copy ended {generation.status}: {generation.failure_message}")
    note(f"copy: {watch.seconds:.1f} s, RSS {growth['before']:.0f} MB before, "
         f"stored {output.size:,} bytes")
    return {"mb": growth["mb"], "seconds": watch.seconds}


def main() -> int:
    with django_workspace("memory", static=True) as data_dir:
        user, project = make_member()
        folder = data_dir / "source"
        folder.mkdir()
        with Stopwatch() as made:
            video = make_video(folder / "big.mp4")
        note(f"made a {SIZE:,}-byte MP4 in {made.seconds:.1f} s")
        upload = bench_upload(video, user, project)
        reset_peak()
        note(f"bench process RSS {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB")
        copy = bench_copy(video, user, project)
    report([
        Figure("upload_200mb_memory_growth_mb", upload["mb"], "MB", TARGET_MB),
        Figure("upload_200mb_seconds", upload["seconds"], "s"),
        Figure("output_copy_200mb_memory_growth_mb", copy["mb"], "MB", TARGET_MB),
        Figure("output_copy_200mb_seconds", copy["seconds"], "s"),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
