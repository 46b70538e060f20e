"""Output formats: what each ``outputFormat`` / ``format`` value of a request is made of.

The names and what they deliver are the SDK's docstrings (``runwayml.types.*_create_params``):
``prores`` a ProRes .mov, ``png_sequence`` a .zip of PNG frames, ``hdr10``/``hlg`` HEVC Main 10
BT.2020 + PQ/HLG .mp4, ``hdr_pq_12bit_master`` a 12-bit 4:4:4 HEVC .mov, ``hdr_prores`` a
BT.2020 + PQ ProRes .mov, the EXR profiles a .zip of half-float OpenEXR frames with a
colorimetry.json sidecar, and so on. Everything here is plain data read by ``media.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: (primaries, transfer, matrix) as ffmpeg names them.
Colour = tuple[str, str, str]
BT709: Colour = ("bt709", "bt709", "bt709")
BT2020_PQ: Colour = ("bt2020", "smpte2084", "bt2020nc")
BT2020_HLG: Colour = ("bt2020", "arib-std-b67", "bt2020nc")
BT2020_LINEAR: Colour = ("bt2020", "linear", "bt2020nc")


@dataclass(frozen=True)
class VideoFormat:
    """One video delivery: its file, codec, pixel format, colour tags and (for ProRes) default tier."""

    ext: str  # the output file: mp4, mov or zip
    codec: str  # h264, hevc, prores, png or exr
    pix_fmt: str = ""
    colour: Colour | None = None
    prores_profile: str = ""  # the SDK's default tier for this format
    frame_names: str = "%04d"  # image2 pattern of a sequence's frames (without the extension)
    colorimetry: str = ""  # what a sequence's colorimetry.json says its values are


VIDEO: dict[str, VideoFormat] = {
    "mp4": VideoFormat("mp4", "h264", "yuv420p"),
    # seedance2_5: "`mov` keeps high colour precision for grading and compositing"
    "mov": VideoFormat("mov", "prores", colour=BT709, prores_profile="422 HQ"),
    "prores": VideoFormat("mov", "prores", prores_profile="4444"),
    "hdr10": VideoFormat("mp4", "hevc", "yuv420p10le", BT2020_PQ),
    "hlg": VideoFormat("mp4", "hevc", "yuv420p10le", BT2020_HLG),
    "sdr_rec709_10bit": VideoFormat("mp4", "hevc", "yuv420p10le", BT709),
    "hdr_pq_12bit_master": VideoFormat("mov", "hevc", "yuv444p12le", BT2020_PQ),
    "hdr_prores": VideoFormat("mov", "prores", colour=BT2020_PQ, prores_profile="422 HQ"),
    "png_sequence": VideoFormat("zip", "png", "rgb24"),
    "hdr_png_sequence": VideoFormat("zip", "png", "rgb48be", BT2020_PQ,
                                    colorimetry="16-bit PNG, BT.2020 primaries, PQ (SMPTE ST 2084) signal"),
    "hdr_exr_sequence": VideoFormat("zip", "exr", "gbrpf32le", BT2020_LINEAR,
                                    colorimetry="half-float linear BT.2020 display light, 1.0 = 100 nits"),
    "hdr_exr_acescg_sequence_1_3": VideoFormat(
        "zip", "exr", "gbrpf32le", BT2020_LINEAR, frame_names="frame.%04d",
        colorimetry="half-float scene-referred ACEScg (AP1), through the inverse ACES 1.3 Output Transform"),
    "hdr_exr_acescg_sequence_2_0": VideoFormat(
        "zip", "exr", "gbrpf32le", BT2020_LINEAR, frame_names="frame.%04d",
        colorimetry="half-float scene-referred ACEScg (AP1), through the inverse ACES 2.0 Output Transform"),
}

#: The SDK's ``proresProfile`` values as prores_ks profiles, with the pixel format each takes.
PRORES_PROFILES: dict[str, tuple[str, str]] = {
    "422 Proxy": ("proxy", "yuv422p10le"), "422 LT": ("lt", "yuv422p10le"),
    "422": ("standard", "yuv422p10le"), "422 HQ": ("hq", "yuv422p10le"),
    "4444": ("4444", "yuva444p10le"), "4444 XQ": ("4444xq", "yuva444p10le"),
}

#: Audio ``format`` / ``outputFormat`` values: (file extension, ffmpeg encoder arguments).
AUDIO: dict[str, tuple[str, tuple[str, ...]]] = {
    "wav": ("wav", ("-c:a", "pcm_s16le", "-f", "wav")),
    "mp3": ("mp3", ("-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3")),
    "flac": ("flac", ("-c:a", "flac", "-f", "flac")),
    "ogg_opus": ("ogg", ("-c:a", "libopus", "-b:a", "32k", "-f", "ogg")),
}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)

#: Image ``outputFormat`` values: (file extension, Pillow format).
IMAGE: dict[str, tuple[str, str]] = {"png": ("png", "PNG"), "jpeg": ("jpg", "JPEG"), "webp": ("webp", "WEBP")}

#: Content-Type of every output file extension.
CONTENT_TYPES: dict[str, str] = {
    "png": "image/png", "jpg": "image/jpeg", "webp": "image/webp",
    "mp4": "video/mp4", "mov": "video/quicktime", "zip": "application/zip",
    "wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
}


def video_format(name: str | None, default: str = "mp4") -> str:
    """A known video format name: the one asked, else the default."""
    return name if isinstance(name, str) and name in VIDEO else default


def prores_profile(fmt: str, asked: str | None) -> str:
    """The ProRes tier a format renders: the one asked where valid, else the format's default."""
    return asked if isinstance(asked, str) and asked in PRORES_PROFILES else VIDEO[fmt].prores_profile
