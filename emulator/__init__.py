"""A local emulator of Runway's developer API, for offline development and tests."""

from .app import EmulatorConfig, create_app

__all__ = ["EmulatorConfig", "create_app"]
