"""A request's input media: where each media string's bytes are, the per-model image rules, and the
lengths and sizes prices depend on, as ffmpeg reads them."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from . import media, pricing
from .routes import files
from .runtime import Emulator
from .validation import AssetError, MediaRef, check_url, decode_data_uri, field_label

#: Image input checks the API applies per model: (min w/h, max w/h, min side, max side).
IMAGE_RULES: dict[str, tuple[float, float, int, int]] = {
    "gen4.5": (0.5, 2.0, 1, 7999),
    "gen4_turbo": (0.5, 2.0, 1, 7999),
    "act_two": (0.5, 2.0, 1, 7999),
    "h3_max": (0.0, 100.0, 256, 7999),
    "grok_imagine_1_5": (0.4, 2.5, 1, 7999),
    "grok_imagine_1_5_lite": (0.4, 2.5, 1, 7999),
    "magnific_precision_upscaler_v2": (0.0, 100.0, 300, 8000),
}

Source = dict[str, str]


def _kind_of_name(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    return guessed.split("/")[0]


def check_image(path: Path, model: str, label: str) -> None:
    """Apply a model's aspect and size rules to an input image (most models have none)."""
    rule = IMAGE_RULES.get(model)
    if rule is None:
        return
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError):
        raise AssetError(f"Invalid asset for {label}: the image could not be decoded.") from None
    low, high, min_side, max_side = rule
    ratio = width / height
    if ratio < low:
        raise AssetError(f"Invalid asset aspect ratio for {label}. width / height ratio must be "
                         f"at least {low}. Got {ratio:.3f}.")
    if ratio > high:
        raise AssetError(f"Invalid asset aspect ratio for {label}. width / height ratio must be "
                         f"at most {high}. Got {ratio:.3f}.")
    if min(width, height) < min_side or max(width, height) > max_side:
        raise AssetError(f"Invalid asset dimensions for {label}: each side must be between "
                         f"{min_side} and {max_side} pixels. Got {width}x{height}.")


def locate(em: Emulator, ref: MediaRef, task_id: str, number: int) -> Path | None:
    """The local file behind a media string, or None for an https URL (never fetched).

    Refuses unknown, unfinished, expired or wrongly typed uploads and bad data URIs; in
    ``--mock-unknown-ids`` mode an unknown upload reads like an unfetched URL instead.
    """
    label = field_label(ref.path)
    if ref.value.startswith("runway://"):
        upload = em.uploads.get(ref.value.rsplit("/", 1)[-1])
        if upload is None and em.config.mock_unknown_ids:
            return None
        if upload is None or not upload.received:
            raise AssetError(f"Invalid asset for {label}: the runway:// URI does not refer to an upload.")
        if em.clock.now() > upload.created_at + em.config.upload_ttl:
            raise AssetError(f"Invalid asset for {label}: the upload has expired.")
        if _kind_of_name(upload.filename) != ref.kind:
            raise AssetError(f"Invalid asset for {label}: expected {ref.kind}, the upload "
                             f"is {upload.content_type or 'of another type'}.")
        return em.store.upload_path(upload.id)
    if ref.value.startswith("data:"):
        content_type, data = decode_data_uri(ref.value, ref.kind, label)
        ext = mimetypes.guess_extension(content_type) or ".bin"
        path = em.store.files / "inputs" / f"{task_id}-{number}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path
    check_url(ref.value, label, em.config.base_url)
    return files.local_output(em, ref.value)


def source_of(ref: MediaRef, path: Path, model: str) -> Source:
    """One input the output is made from, after the model's image rules."""
    label = field_label(ref.path)
    if ref.kind == "image":
        check_image(path, model, label)
    return {"kind": ref.kind, "path": str(path), "field": label, "name": str(top_field(ref.path))}


def resolve_media(em: Emulator, refs: list[MediaRef], model: str, task_id: str) -> list[Source]:
    """Apply the asset rules to every media string; return the inputs we hold locally."""
    sources: list[Source] = []
    for number, ref in enumerate(refs):
        path = locate(em, ref, task_id, number)
        if path is not None:
            sources.append(source_of(ref, path, model))
    return sources


def top_field(path: list[str | int]) -> str | int:
    """The request field a media string sits under (inside ``input`` for the router)."""
    return path[1] if len(path) > 1 and path[0] == "input" else path[0]


def measure_inputs(endpoint: str, model: str, sources: list[Source],
                   facts: dict[str, dict[str, float]] | None = None) -> dict[str, list[dict[str, float]]]:
    """Length and size of the input media the price depends on, as ffmpeg reads them
    (``facts`` holds files already probed, by path)."""
    wanted = pricing.input_fields(endpoint, model)
    known = facts if facts is not None else {}
    measured: dict[str, list[dict[str, float]]] = {}
    for source in sources:
        if source["name"] in wanted and source["kind"] in ("video", "audio"):
            if source["path"] not in known:
                known[source["path"]] = media.probe(Path(source["path"]))
            measured.setdefault(source["name"], []).append(known[source["path"]])
    return measured
