"""Emulator benchmark: task throughput at --speed 0 and media render times.

Run with ``python bench/bench_emulator.py``. Prints one line per figure,
``name value unit target pass|fail``, then a short table.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import sized
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator import media  # noqa: E402

TASKS = sized(1_000, 20)
HEADERS = {"Authorization": "Bearer key_bench", "X-Runway-Version": "2024-11-06"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_tasks() -> list[tuple[str, float, str, float | None, bool]]:
    """Create, run and finish TASKS tasks against ``python -m emulator --speed 0``."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--speed", "0", "--tier", "5",
         "--no-render", "--credits", "100000000"], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.get("/_emulator/state")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            cpu_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            ids = []
            for n in range(TASKS):
                if n % 2:
                    body = {"model": "gen4_image", "promptText": f"take {n}", "ratio": "1920:1080"}
                    path = "/v1/text_to_image"
                else:
                    body = {"model": "gen4.5", "promptText": f"take {n}", "ratio": "1280:720",
                            "duration": 5}
                    path = "/v1/text_to_video"
                response = client.post(path, json=body)
                response.raise_for_status()
                ids.append(response.json()["id"])
            finished = sum(client.get(f"/v1/tasks/{i}").json()["status"] == "SUCCEEDED" for i in ids)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(timeout=10)
    if finished != TASKS:
        raise SystemExit(f"only {finished} of {TASKS} tasks finished")
    return [
        ("emulator_1000_tasks_cpu", cpu, "s", 10.0, cpu < 10.0),
        ("emulator_1000_tasks_wall", wall, "s", None, True),
        ("emulator_tasks_per_second", TASKS / wall, "tasks/s", None, True),
    ]


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_renders() -> list[tuple[str, float, str, float | None, bool]]:
    """Render times for the media kinds, with the default render settings."""
    settings = media.RenderSettings()
    full = media.RenderSettings(max_video_side=1280)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        still = folder / "still.png"
        Image.new("RGB", (1280, 720), (90, 120, 200)).save(still)
        source = media.Source("image", still)
        prompt = "a slow push in over a blue field at dusk"
        spec = media.VideoSpec(1280, 720, 5)
        video = timed(lambda: media.render_video(folder / "v.mp4", spec, prompt, source, settings))
        video_full = timed(lambda: media.render_video(folder / "f.mp4", spec, prompt, source, full))
        image = timed(lambda: media.render_image(folder / "i.png", 1920, 1080, prompt, None, "png",
                                                 settings))
        audio = timed(lambda: media.render_audio(folder / "a.wav", 10, prompt, "wav", settings))
    return [
        ("emulator_render_video_5s_1280x720", video, "s", 2.0, video < 2.0),
        ("emulator_render_video_5s_1280x720_full_size", video_full, "s", 2.0, video_full < 2.0),
        ("emulator_render_image_1920x1080", image, "s", None, True),
        ("emulator_render_audio_10s_wav", audio, "s", None, True),
    ]


def main() -> int:
    """Run every benchmark and print the figures (a missed target is a figure, not an error)."""
    rows = bench_tasks() + bench_renders()
    for name, value, unit, target, ok in rows:
        shown = "-" if target is None else f"{target:g}"
        print(f"{name} {value:.3f} {unit} {shown} {'pass' if ok else 'fail'}")
    print()
    print(f"{'figure':48} {'value':>10} {'target':>8}  result")
    for name, value, unit, target, ok in rows:
        shown = "-" if target is None else f"< {target:g}"
        print(f"{name:48} {value:>8.3f} {unit:<4} {shown:>6}  {'pass' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
