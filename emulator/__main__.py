"""``python -m emulator``: serve the Runway API emulator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from .app import create_app
from .runtime import DAY, EmulatorConfig


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    """Turn command-line options into an ``EmulatorConfig``."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local emulator of Runway's developer API (api.dev.runwayml.com). Point "
                    "any Runway client at it with RUNWAYML_BASE_URL=http://HOST:PORT.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default %(default)s)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="task clock speed: 1 = realistic durations, 0 = instant, 0.1 = ten "
                             "times faster (default %(default)s)")
    parser.add_argument("--credits", type=int, default=10_000,
                        help="starting credit balance (default %(default)s)")
    parser.add_argument("--tier", type=int, default=1, choices=range(1, 6),
                        help="usage tier for concurrency and daily limits (default %(default)s)")
    parser.add_argument("--data", type=Path, default=None,
                        help="SQLite file that keeps tasks, uploads and usage across restarts")
    parser.add_argument("--api-key", action="append", dest="api_keys", default=None,
                        help="accept only this bearer key (repeatable; default: any key)")
    parser.add_argument("--public-url", default=None,
                        help="URL prefix for output and upload URLs (default http://HOST:PORT)")
    parser.add_argument("--output-ttl", type=float, default=DAY,
                        help="seconds an output URL stays valid (default %(default)s)")
    parser.add_argument("--upload-ttl", type=float, default=DAY,
                        help="seconds a runway:// upload URI stays valid (default %(default)s)")
    parser.add_argument("--frozen-clock", action="store_true",
                        help="stop the clock; move it with POST /_emulator/clock")
    parser.add_argument("--no-render", action="store_true",
                        help="serve tiny placeholder media instead of rendering real outputs")
    parser.add_argument("--max-video-side", type=int, default=640,
                        help="longest side of rendered videos in pixels (default %(default)s)")
    parser.add_argument("--max-image-side", type=int, default=1024,
                        help="longest side of rendered images in pixels (default %(default)s)")
    parser.add_argument("--fps", type=int, default=12, help="frame rate of rendered videos")
    parser.add_argument("--no-version-check", action="store_true",
                        help="accept requests without a valid X-Runway-Version header")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="latency added to every request (default %(default)s)")
    parser.add_argument("--error-rate", type=float, default=0.0,
                        help="fraction of /v1 requests answered with --error-status")
    parser.add_argument("--error-status", type=int, default=503,
                        help="status for --error-rate faults (default %(default)s)")
    parser.add_argument("--fail-rate", type=float, default=0.0,
                        help="fraction of tasks that fail with INTERNAL.BAD_OUTPUT.CODE01")
    parser.add_argument("--fault", action="append", default=[], metavar="JSON",
                        help='a fault as JSON, as for POST /_emulator/faults (repeatable), e.g. '
                             '\'{"path": "/v1/tasks/*", "status": 429, "retry_after": 1, '
                             '"count": 3}\'')
    parser.add_argument("--seed", type=int, default=None, help="random seed for faults")
    parser.add_argument("--mock-unknown-ids", action="store_true",
                        help="contract-test mode: an unknown id of any resource resolves to a fabricated "
                             "object of the right shape instead of 404, as Stainless's mock server answers")
    args = parser.parse_args(argv)
    return EmulatorConfig(
        host=args.host, port=args.port, speed=args.speed, credits=args.credits, tier=args.tier,
        data=args.data, api_keys=args.api_keys, public_base_url=args.public_url,
        output_ttl=args.output_ttl, upload_ttl=args.upload_ttl, frozen_clock=args.frozen_clock,
        render=not args.no_render, max_video_side=args.max_video_side,
        max_image_side=args.max_image_side, fps=args.fps,
        require_version=not args.no_version_check, latency_ms=args.latency_ms,
        error_rate=args.error_rate, error_status=args.error_status, fail_rate=args.fail_rate,
        faults=[json.loads(spec) for spec in args.fault], seed=args.seed, mock_unknown_ids=args.mock_unknown_ids)


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    config = parse_args(argv)
    mode = ", unknown ids mocked" if config.mock_unknown_ids else ""
    print(f"Runway API emulator on {config.base_url} (speed {config.speed}, "
          f"{config.credits} credits, tier {config.tier}{mode})", flush=True)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning")


if __name__ == "__main__":
    main()
