"""A heartbeat for a block of work: a thread that calls `beat` at an interval while the block runs.

Leases are kept short so that a dead worker is noticed soon; a live worker keeps its lease by
renewing it from this thread, which beats even while the work waits on a slow call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections

log = logging.getLogger(__name__)


@contextmanager
def beating(beat: Callable[[], bool], *, every: float, name: str) -> Iterator[None]:
    """Call `beat` every `every` seconds while the block runs, until it returns False.

    A beat that raises is logged and the next one is tried: a database that is busy for a moment
    must not end the work. The thread's database connections are closed when it ends.
    """
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(every):
                try:
                    if not beat():
                        return
                except Exception:
                    log.exception("%s: a heartbeat failed", name)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # A beat blocked on a locked database ends by itself; the work need not wait for it.
        thread.join(timeout=2.0)
