"""Outputs with real media in storage, as the pipeline would leave them, for the gallery tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.core.files import File

from assets import media
from generations.models import Generation, Output, Status
from tests.generations import media_samples


@dataclass(frozen=True)
class Sample:
    path: Path
    thumb: Path
    info: media.MediaInfo


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> dict[str, Sample]:
    """One small real file of each kind, probed and with its thumbnail, made once per run."""
    d = tmp_path_factory.mktemp("gallery-samples")
    made = {}
    for kind, path in (("image", media_samples.make_png(d / "still.png", 320, 180)),
                       ("video", media_samples.make_mp4(d / "clip.mp4", 1, 160, 120)),
                       ("audio", media_samples.make_wav(d / "tone.wav", 1.0))):
        info = media.probe(path)
        thumb = d / f"{kind}-thumb.jpg"
        media.make_thumbnail(path, info, thumb)
        made[kind] = Sample(path, thumb, info)
    return made


ENDPOINT_FOR = {"image": ("text_to_image", "gen4_image"), "video": ("text_to_video", "gen4.5"),
                "audio": ("sound_effect", "eleven_text_to_sound_v2")}


@pytest.fixture(autouse=True)
def gallery_media(media_root):
    """Every gallery test starts on filesystem storage in its own folder (s3_storage switches)."""
    return media_root


@pytest.fixture
def make_output(samples):
    """make_output(project, user, kind="image", prompt=..., **generation_fields) -> Output."""

    def make(project, user, kind: str = "image", prompt: str = "a red fox in the snow", *,
             created_at: datetime | None = None, index: int = 0, generation: Generation | None = None,
             **fields) -> Output:
        sample = samples[kind]
        if generation is None:
            endpoint, model = ENDPOINT_FOR[kind]
            fields.setdefault("endpoint", endpoint)
            fields.setdefault("model", model)
            fields.setdefault("params", {"prompt_text": prompt})
            fields.setdefault("cost_credits", 5)
            extra = {"created_at": created_at} if created_at else {}
            generation = Generation.objects.create(project=project, created_by=user, prompt=prompt,
                                                   status=Status.SUCCEEDED, **extra,
                                                   **fields)
        info = sample.info
        output = Output(project=project, generation=generation, index=index, kind=info.kind,
                        content_type=info.content_type, size=info.size, width=info.width,
                        height=info.height, duration=info.duration, sha256=media.sha256_file(sample.path))
        if created_at:
            output.created_at = created_at
        with sample.path.open("rb") as fp:
            output.file.save(f"out{info.extension}", File(fp), save=False)
        with sample.thumb.open("rb") as fp:
            output.thumbnail.save("thumb.jpg", File(fp), save=False)
        output.save()
        return output

    return make


def copies_of(first: Output, n: int) -> list[Output]:
    """`n` more outputs like `first` (its files shared, each its own generation "<prompt>, take <i>"), in bulk."""
    g = first.generation
    rows = Generation.objects.bulk_create([
        Generation(project=g.project, created_by=g.created_by, endpoint=g.endpoint, model=g.model,
                   prompt=f"{g.prompt}, take {i}", params=g.params, status=Status.SUCCEEDED) for i in range(n)])
    return Output.objects.bulk_create([
        Output(project=first.project, generation=row, kind=first.kind, content_type=first.content_type, size=first.size,
               width=first.width, height=first.height, sha256=first.sha256, file=first.file.name,
               thumbnail=first.thumbnail.name) for row in rows])


@dataclass(frozen=True)
class S3:
    url: str
    bucket: str
    expire: int
    client: object


@pytest.fixture(scope="session")
def moto_server():
    """moto's standalone S3-compatible server on a free loopback port, for the whole run."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_storage(moto_server, gallery_media, settings) -> S3:
    """Default storage switched to S3 on the moto server, in a fresh private bucket."""
    import uuid

    import boto3

    bucket = f"takes-test-{uuid.uuid4().hex[:12]}"
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", **keys)
    client.create_bucket(Bucket=bucket)
    expire = 120
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": moto_server, "region_name": "us-east-1",
            "access_key": "testing", "secret_key": "testing",
            "default_acl": None, "querystring_auth": True, "querystring_expire": expire,
            "file_overwrite": False, "object_parameters": {"ACL": "private"},
        },
    }}
    return S3(moto_server, bucket, expire, client)
