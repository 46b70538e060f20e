"""Upload fuzzing: over a thousand malformed files, all refused with a message, nothing stored.

The files are made deterministically (a seeded RNG; truncations of real media at
fixed offsets; polyglots; pixel and zip bombs; SVG; scripts) and sent under
hostile names. Every one goes through `create_asset` (the workflow the upload view
calls); a few hundred also go through the upload view itself as an editor, plain
and htmx. Each must be refused with a 4xx and a message — never a 5xx — and leave
no Asset row and no file in storage.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assets import media
from assets.actions import create_asset
from assets.models import Asset
from tests.factories import upload
from tests.generations import media_samples

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = [
    "../../etc/passwd", "..\\..\\windows\\win.ini", "<script>alert(1)</script>.png", "x" * 300 + ".png",
    "nul\x00.png", "\u202egnp.exe", "CON", ".htaccess", "%2e%2e%2fpasswd.png", "photo.png.exe",
    "a\r\nX-Injected: 1.png", "/absolute/path.mp4", "émoji 🎬.mp4", "file.PNG", "sound.wav", "clip.mp4",
    " ", "image.svg", "archive.zip", "x.php",
]
VIEW_SAMPLE = 300  # of the malformed files, also posted through the view


def real_samples(tmp: Path) -> dict[str, bytes]:
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "png": media_samples.make_png(tmp / "s.png", 96, 64).read_bytes(),
        "jpeg": media_samples.make_jpeg(tmp / "s.jpg", 160, 120).read_bytes(),
        "mp4": media_samples.make_mp4(tmp / "s.mp4", 1.0, 160, 120).read_bytes(),
        "wav": media_samples.make_wav(tmp / "s.wav", 1.0).read_bytes(),
    }


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4):
            z.writestr(f"layer{i}.png", b"\x00" * (8 * 1024 * 1024))
    return buffer.getvalue()


def malformed_files(tmp: Path) -> list[tuple[str, bytes]]:
    """(kind of damage, bytes) — deterministic, well over a thousand."""
    rng = random.Random(20240611)
    files: list[tuple[str, bytes]] = []
    for i in range(400):
        size = rng.choice([0, 1, 7, 100, 511, 512, 513, 1000, 4096, 20_000]) + rng.randrange(0, 64)
        files.append(("random bytes", rng.randbytes(size)))
    samples = real_samples(tmp)
    for kind, data in samples.items():
        if kind == "wav":
            # A WAV cut after its header is still a (shorter) playable file, probed at its true
            # length; cut inside the header it is not.
            files += [("truncated wav header", data[:j]) for j in range(44)]
            continue
        # Cut anywhere up to 85% of the length: headers, the middle of chunks, boxes and frames.
        for j in range(1, 121):
            files.append((f"truncated {kind}", data[: int(len(data) * 0.85 * j / 120)]))
        for j in range(20 if kind != "wav" else 0):  # any bytes after a WAV header are PCM
            # The right magic number with noise after it.
            files.append((f"{kind} header + noise", data[:16] + rng.randbytes(900 + j * 37)))
    png, jpeg = samples["png"], samples["jpeg"]
    html = b"<html><body><script>alert(document.cookie)</script></body></html>" * 20
    polyglots = {
        "png header + html": png[:33] + html,
        "png header + zip": png[:33] + zip_bomb()[:4000],
        "jpeg header + php": jpeg[:20] + b"<?php system($_GET['c']); ?>" * 40,
        "gif + javascript": b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1);//" + b" " * 600,
        "svg with script": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                           + b"<script>alert(2)</script>" * 30 + b"</svg>",
        "pdf": b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40,
        "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 900,
        "shell script": b"#!/bin/sh\nrm -rf /\n" * 60,
        "html": html,
        "zip bomb": zip_bomb(),
        "empty": b"",
        "mp4 box garbage": b"\x00\x00\x00\x18ftypisom" + rng.randbytes(2000),
    }
    for j in range(10):
        for name, data in polyglots.items():
            files.append((name, data + bytes([j]) * j))
    for w, h in [(60000, 60000), (100000, 100), (20000, 20000), (65535, 65535), (30000, 40000)]:
        bomb = media_samples.pixel_bomb_png(tmp / f"bomb{w}x{h}.png", w, h).read_bytes()
        for j in range(4):
            files.append(("pixel bomb", bomb + b"\x00" * j))
    return files


@pytest.fixture(scope="module")
def malformed(tmp_path_factory) -> list[tuple[str, bytes]]:
    return malformed_files(tmp_path_factory.mktemp("malformed"))


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_thousand_malformed_uploads_are_refused_and_nothing_is_kept(
        project, editor, malformed, tmp_path, media_root, chaos_report):
    files = malformed
    assert len(files) >= 1000
    before = stored_files(media_root)
    unexpected = []
    work = tmp_path / "work"
    work.mkdir()
    for i, (damage, data) in enumerate(files):
        path = work / f"f{i}"
        path.write_bytes(data)
        name = HOSTILE_NAMES[i % len(HOSTILE_NAMES)].replace("\x00", "")
        try:
            asset = create_asset(project=project, user=editor, uploaded_file=upload(path, name))
        except media.MediaError as exc:
            if not str(exc).strip():
                unexpected.append((i, damage, "refused without a message"))
        except Exception as exc:  # anything else would be a server error in the view
            unexpected.append((i, damage, repr(exc)))
        else:
            unexpected.append((i, damage, f"accepted as {asset.kind}"))
        path.unlink()
    chaos_report.add("bad_inputs_tried", len(files))
    chaos_report.add("lost_items", 0)
    assert not unexpected, unexpected[:20]
    assert not Asset.objects.exists()
    assert stored_files(media_root) == before


def test_malformed_uploads_through_the_view_answer_4xx_with_a_message(
        project, editor_client, malformed, media_root, chaos_report, settings):
    # One person sends all of them: more than the upload limit allows, which is not what this checks.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "uploads-person": f"{VIEW_SAMPLE}/h"}
    files = malformed
    rng = random.Random(7)
    sample = rng.sample(files, VIEW_SAMPLE)
    url = reverse("assets:list", args=[project.slug])
    before = stored_files(media_root)
    server_errors, unexpected = [], []
    for i, (damage, data) in enumerate(sample):
        name = HOSTILE_NAMES[i % len(HOSTILE_NAMES)]
        headers = {"HTTP_HX_REQUEST": "true"} if i % 2 else {}
        response = editor_client.post(url, {"file": SimpleUploadedFile(name, data, "image/png"),
                                            "name": name if i % 3 == 0 else ""}, **headers)
        if response.status_code >= 500:
            server_errors.append((i, damage, response.status_code))
        elif response.status_code not in (400, 413) or b'class="errorlist' not in response.content and \
                b"errorlist" not in response.content:
            unexpected.append((i, damage, response.status_code))
    chaos_report.add("bad_inputs_tried", len(sample))
    assert not server_errors, server_errors
    assert not unexpected, unexpected[:20]
    assert not Asset.objects.exists()
    assert stored_files(media_root) == before
