"""A create request's media, as Runway takes them, turned into the project's input assets.

Runway takes three forms (CONTRACT §2.0, §5): an `https://` URL, a base64 `data:` URI, and the
`runway://` URI of an upload. Each becomes an `Asset` of the token's project, so the generation
goes through the pipeline as a browser submission does: probed by content (so the catalog's
checks of kind, size, aspect and length apply), uploaded to Runway by the pipeline, shown with
the generation and kept.

- `runway://takes/<slot>`: the asset `POST /v1/uploads` stored (the token's project's only).
- `data:<type>;base64,…`: decoded and stored (a second identical one reuses the first).
- `https://…`: fetched by `runway.downloads`, with its guards (public addresses only, no
  redirects, a size cap and a deadline), then stored like an upload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from accounts.models import ApiToken
from assets import media
from assets.actions import create_asset
from assets.models import Asset
from runway import catalog, downloads
from runway.catalog.data import MAX_MEDIA_BYTES
from runway.client import wire_name

from .models import URI_PREFIX, Upload

# CONTRACT §2.0 and §5.1: the longest data URI Runway takes, by media kind (encoded length).
DATA_URI_LIMITS = {"image": 5_242_880, "video": 16_777_216, "audio": 16_777_216}
DATA_URI = re.compile(r"data:(image|video|audio)/[a-z0-9.+-]+(?:;[a-z0-9=._-]+)*;base64,", re.I)
HTTPS_MAX = 2048


class InputError(ValueError):
    """A media input that can't be used; `field` is its wire name."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


class _StoredFile(UploadedFile):
    """A file already on disk, handed to the asset workflow as an upload."""

    def __init__(self, path: Path, name: str):
        super().__init__(open(path, "rb"), name=name, size=path.stat().st_size)  # noqa: SIM115
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def _store(path: Path, *, token: ApiToken, name: str, kinds: tuple[str, ...], where: str) -> Asset:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    same = Asset.objects.in_project(token.project).filter(sha256=digest).first()
    if same is not None:
        return same
    upload = _StoredFile(path, name)
    try:
        return create_asset(project=token.project, user=token.user, uploaded_file=upload, name=name, kinds=kinds)
    except media.MediaError as exc:
        raise InputError(f"Invalid asset in {where}: {exc}", field=where) from exc
    finally:
        upload.close()


def _from_data_uri(value: str, *, token: ApiToken, kinds: tuple[str, ...], where: str) -> Asset:
    head = DATA_URI.match(value)
    if head is None:
        raise InputError(f"Invalid data URI in {where}: expected data:image/…, data:video/… or data:audio/… "
                         "with base64 content.", field=where)
    kind = head.group(1).lower()
    if len(value) > DATA_URI_LIMITS[kind]:
        raise InputError(f"The data URI in {where} is longer than the {DATA_URI_LIMITS[kind]:,} characters "
                         f"Runway takes for {kind}; upload the file instead.", field=where)
    try:
        raw = base64.b64decode(value[head.end():], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"The data URI in {where} is not valid base64.", field=where) from None
    fd, name = tempfile.mkstemp(prefix="takes-api-input-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(raw)
        return _store(path, token=token, name=f"{where} ({kind})", kinds=kinds, where=where)
    finally:
        path.unlink(missing_ok=True)


def _from_url(value: str, *, token: ApiToken, kinds: tuple[str, ...], where: str) -> Asset:
    if len(value) > HTTPS_MAX:
        raise InputError(f"The URL in {where} is longer than {HTTPS_MAX} characters.", field=where)
    try:
        path = downloads.fetch_to_temp(value, max_bytes=MAX_MEDIA_BYTES, deadline_seconds=60,
                                       prefix="takes-api-input-")
    except downloads.DownloadError as exc:
        raise InputError(f"Failed to fetch asset in {where}: {exc}", field=where) from exc
    try:
        name = Path(value.split("?", 1)[0]).name[:200] or where
        return _store(path, token=token, name=name, kinds=kinds, where=where)
    finally:
        path.unlink(missing_ok=True)


def asset_for(value: Any, *, token: ApiToken, kinds: tuple[str, ...], where: str) -> Asset:
    """The project asset one media string names, stored first when it is new."""
    if not isinstance(value, str):
        raise InputError(f"Expected a media URI in {where}.", field=where)
    if value.startswith(URI_PREFIX):
        upload = Upload.objects.by_uri(value, token)
        if upload is None or upload.asset is None:
            raise InputError(f"Invalid asset in {where}: no upload of this project has that URI "
                             "(or its file was never sent).", field=where)
        return upload.asset
    if value.startswith("runway://"):
        raise InputError(f"Invalid asset in {where}: runway:// URIs are only those Takes' own uploads "
                         "returned.", field=where)
    if value[:5].lower() == "data:":
        return _from_data_uri(value, token=token, kinds=kinds, where=where)
    if value[:8].lower() == "https://":
        return _from_url(value, token=token, kinds=kinds, where=where)
    raise InputError(f"Invalid asset in {where}: only HTTPS URLs, data URIs and runway:// upload URIs "
                     "are allowed.", field=where)


def resolve_inputs(*, model: catalog.Model, params: dict[str, Any], token: ApiToken) -> dict[str, Any]:
    """`params` with every media string replaced by the id of the project asset it names."""
    resolved = dict(params)
    for f in model.fields:
        value = params.get(f.name)
        if f.kind not in ("asset", "assets") or value in (None, "", []):
            continue
        where = wire_name(f.parent or f.name)
        if f.kind == "asset":
            resolved[f.name] = asset_for(value, token=token, kinds=f.media_kinds, where=where).pk
        else:
            resolved[f.name] = [asset_for(v, token=token, kinds=f.media_kinds, where=where).pk for v in value]
    return resolved
