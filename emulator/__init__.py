"""A local emulator of Runway's developer API, for offline development and tests."""

from .app import create_app
from .runtime import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
