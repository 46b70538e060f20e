"""`make run`: the web server, a qcluster worker, the poller and (without a Runway key) the emulator.

One foreground command: Ctrl-C stops them all. A worker or poller that dies is started
again; the web server or the emulator exiting stops everything.

Stopping is graceful: each process's own leader gets SIGTERM (never its whole group —
django-q2's children handle the signal themselves and a group-wide SIGTERM leaves the
cluster hanging), so the worker finishes the steps in hand and the poller its pass and
hands back its lease; whatever is still running after `STOP_GRACE` seconds is killed, and
the next start carries on from the database (claimed steps are taken over when stale).
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

PYTHON = sys.executable
RESTARTED = ("worker", "poller")


def _commands() -> list[tuple[str, list[str]]]:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    commands = [
        (
            "web",
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}", "--workers", "2",
             "--threads", "4", "--worker-class", "gthread", "--timeout", "300", "--access-logfile", "-"],
        ),
        ("worker", [PYTHON, "manage.py", "qcluster"]),
        ("poller", [PYTHON, "manage.py", "poller"]),
    ]
    if not os.environ.get("RUNWAYML_API_SECRET"):
        emulator_port = os.environ.get("EMULATOR_PORT", "8765")
        data = os.environ.get("EMULATOR_DATA", "var/emulator.sqlite3")
        commands.insert(
            0,
            ("emulator", [PYTHON, "-m", "emulator", "--host", "127.0.0.1", "--port", emulator_port,
                          "--speed", os.environ.get("EMULATOR_SPEED", "0.2"), "--tier", "2", "--data", data]),
        )
    return commands


def main() -> int:
    """Start every process, wait, and stop them all together."""
    procs: list[tuple[str, subprocess.Popen]] = []
    for name, command in _commands():
        print(f"[takes] starting {name}: {' '.join(command[1:])}", flush=True)
        procs.append((name, subprocess.Popen(command, start_new_session=True)))
    port = os.environ.get("PORT", "8000")
    print(f"[takes] serving http://127.0.0.1:{port} — Ctrl-C stops everything", flush=True)
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    commands = dict(_commands())
    while not stopping:
        for index, (name, proc) in enumerate(procs):
            if proc.poll() is None:
                continue
            if name in RESTARTED:
                # A worker or poller that dies (or is killed) comes back: in-flight generations resume.
                print(f"[takes] {name} exited with {proc.returncode}; starting a new one", flush=True)
                time.sleep(1)
                procs[index] = (name, subprocess.Popen(commands[name], start_new_session=True))
                continue
            print(f"[takes] {name} exited with {proc.returncode}; stopping the rest", flush=True)
            code = proc.returncode or 1
            stopping = True
        time.sleep(0.5)
    stop_all([proc for _name, proc in procs], grace=float(os.environ.get("STOP_GRACE", "30")))
    print("[takes] stopped", flush=True)
    return code


def stop_all(procs: list[subprocess.Popen], *, grace: float) -> list[subprocess.Popen]:
    """SIGTERM each leader, wait up to `grace` seconds, then kill what is left; returns those that had to be killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the leader only: it stops its own children
    deadline = time.monotonic() + grace
    killed = []
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(proc)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
    return killed


if __name__ == "__main__":
    sys.exit(main())
