"""Static files collect as production serves them (hashed, compressed names, every reference found)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_collectstatic_with_the_production_storage_finds_every_file_referenced(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "TAKES_DATA_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    for name in ("css/takes.css", "js/takes.js", "vendor/dropzone/dropzone-min.js"):
        assert f'"{name}"' in manifest
