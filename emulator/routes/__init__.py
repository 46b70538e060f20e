"""The emulator's HTTP routes: the ``/v1`` API, served files and the ``/_emulator`` control API."""
