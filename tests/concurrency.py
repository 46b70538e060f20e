"""Callers released at the same instant, each on its own database connection."""

from __future__ import annotations

import threading

from django.db import close_old_connections, connection


def run_together(work, count: int) -> list:
    """Run work(i) in `count` threads released at once; returns each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # kept for the assertions, never swallowed
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    close_old_connections()
    return results
