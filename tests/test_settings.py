"""Settings that hold under load, however the database is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode"); journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout"); busy = cursor.fetchone()[0]
db = settings.DATABASES["default"]
print(json.dumps({"journal": journal, "busy_ms": busy, "mode": db["OPTIONS"].get("transaction_mode")}))
"""


def probe(tmp_path, **env) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "TAKES_DATA_DIR": str(tmp_path), **env})
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_named_by_database_url_keeps_wal_immediate_and_the_busy_timeout(tmp_path):
    named = probe(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'named.sqlite3'}")
    default = probe(tmp_path, DATABASE_URL="", SQLITE_PATH=str(tmp_path / "default.sqlite3"))
    assert named == default == {"journal": "wal", "busy_ms": 20000, "mode": "IMMEDIATE"}


def starts(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "TAKES_DATA_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "message"), [
    *[({"MEDIA_ACCEL_REDIRECT": bad}, "MEDIA_ACCEL_REDIRECT is a path") for bad in
      ("_media", "/_media", "http://cdn/_media/")],
    ({"MEDIA_SIGNED_URL_SECRET": "x" * 40, "MEDIA_SIGNED_URL_PREFIX": "_signed"}, "MEDIA_SIGNED_URL_PREFIX is a path"),
    ({"MEDIA_SIGNED_URL_SECRET": "short"}, "MEDIA_SIGNED_URL_SECRET needs at least 32"),
])
def test_a_media_setting_that_cannot_work_is_refused_at_start(tmp_path, env, message):
    result = starts(tmp_path, **env)
    assert result.returncode != 0 and message in result.stderr


def test_working_media_settings_start(tmp_path):
    assert starts(tmp_path, MEDIA_ACCEL_REDIRECT="/_media/", MEDIA_SIGNED_URL_SECRET="x" * 40).returncode == 0
