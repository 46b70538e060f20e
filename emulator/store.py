"""State storage: files on disk, and an optional SQLite file that keeps state across restarts."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .state import LedgerEntry, Record, Task, Upload

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
                                    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS ledger (at REAL NOT NULL, model TEXT NOT NULL, amount INTEGER NOT NULL,
                                   task_id TEXT NOT NULL);
"""


class Store:
    """Holds the directory of uploaded and rendered files; persists state when given a path."""

    def __init__(self, data: Path | None) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if data is None:
            self._tmp: str | None = tempfile.mkdtemp(prefix="runway-emulator-")
            self.files = Path(self._tmp)
            return
        self._tmp = None
        data = Path(data)
        data.parent.mkdir(parents=True, exist_ok=True)
        self.files = data.with_name(data.name + ".files")
        self._db = sqlite3.connect(str(data), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self.files.mkdir(exist_ok=True)

    @property
    def persistent(self) -> bool:
        """Whether state survives a restart."""
        return self._db is not None

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute(sql, args)

    def save_meta(self, key: str, value: Any) -> None:
        """Persist one organization-level value."""
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def save_task(self, task: Task) -> None:
        """Persist a task's current record."""
        self._write("INSERT OR REPLACE INTO tasks VALUES (?, ?)",
                    (task.id, json.dumps(asdict(task))))

    def save_upload(self, upload: Upload) -> None:
        """Persist an upload's record (its bytes are already a file)."""
        self._write("INSERT OR REPLACE INTO uploads VALUES (?, ?)",
                    (upload.id, json.dumps(asdict(upload))))

    def save_record(self, record: Record) -> None:
        """Persist a voice, avatar, router, routing request or preview."""
        self._write("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                    (record.kind, record.id, json.dumps(asdict(record))))

    def add_ledger(self, entry: LedgerEntry) -> None:
        """Persist a credit movement."""
        self._write("INSERT INTO ledger VALUES (?, ?, ?, ?)",
                    (entry.at, entry.model, entry.amount, entry.task_id))

    def load(self) -> dict[str, Any]:
        """Everything persisted: ``meta``, ``tasks``, ``uploads``, ``records`` and ``ledger`` rows."""
        if self._db is None:
            return {"meta": {}, "tasks": [], "uploads": [], "records": [], "ledger": []}
        with self._lock:
            meta = {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}
            tasks = [json.loads(v) for (v,) in self._db.execute("SELECT value FROM tasks")]
            uploads = [json.loads(v) for (v,) in self._db.execute("SELECT value FROM uploads")]
            records = [json.loads(v) for (v,) in self._db.execute("SELECT value FROM records")]
            ledger = list(self._db.execute("SELECT at, model, amount, task_id FROM ledger "
                                           "ORDER BY rowid"))
        return {"meta": meta, "tasks": tasks, "uploads": uploads, "records": records, "ledger": ledger}

    def clear(self) -> None:
        """Forget every task, upload, record, ledger entry and file."""
        if self._db is not None:
            with self._lock:
                self._db.executescript("DELETE FROM meta; DELETE FROM tasks; "
                                       "DELETE FROM uploads; DELETE FROM records; "
                                       "DELETE FROM ledger;")
        shutil.rmtree(self.files, ignore_errors=True)
        self.files.mkdir(parents=True, exist_ok=True)

    def upload_path(self, upload_id: str) -> Path:
        """Where an upload's bytes live."""
        return self.files / "uploads" / upload_id

    def output_path(self, task_id: str, name: str) -> Path:
        """Where a rendered output lives."""
        return self.files / "outputs" / task_id / name

    def record_dir(self, kind: str, record_id: str) -> Path:
        """The folder of a record's files (an avatar's image and previews, a voice's sample)."""
        return self.files / "records" / kind / record_id

    def record_path(self, kind: str, record_id: str, name: str) -> Path:
        """Where one file belonging to a record lives."""
        return self.record_dir(kind, record_id) / name

    def close(self) -> None:
        """Close the database and remove temporary files."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
