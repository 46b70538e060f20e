"""Test overrides: fast hashing, plain static storage, locmem email."""

import os
import tempfile
from pathlib import Path

from .settings import *  # noqa: F403
from .settings import DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True

# Each test process downloads into a folder of its own (generation ids repeat across test databases).
DOWNLOADS_DIR = Path(tempfile.gettempdir()) / f"takes-test-downloads-{os.getpid()}"
DOWNLOADS_DIR.mkdir(exist_ok=True)

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # On disk rather than in memory, so the qcluster subprocess of tests/faults opens the
    # same test database; one file per test process, so parallel runs never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"takes-test-{os.getpid()}.sqlite3"),
    }
