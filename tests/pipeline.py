"""Play a take's steps in this process, as the scheduler and the workers would.

With the `queue` fixture (tests/conftest.py), the tasks the services dispatch land in QUEUE
instead of django-q2's broker; run() drives them until the takes are final, and
cluster_threads() runs a scheduler and workers in threads of this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connections
from django.utils import timezone

from accounts.models import User
from studio.models import Clip, Take
from studio.providers.local import engine as local
from studio.takes import create, download, driver, poll, submit
from studio.takes.parameters import EditParameters
from studio.takes.scheduler import Scheduler

# What the services dispatched: (task, take id), in order.
QUEUE: list[tuple[str, int]] = []

STEPS = {
    "prepare_take": submit.take_submit,
    "download_take": download.take_download,
    "render": local.render_job,
}


def new_take(
    clip: Clip, author: User, *, start: float = 1.0, length: float = 3.0, **params: Any
) -> Take:
    """A take of `clip` made through the service, as the form makes it."""
    asked = EditParameters(**({"prompt": "Turn the scene into clay style"} | params))
    return create.take_create(
        project=clip.project, author=author, clip=clip, parameters=asked, start=start, length=length
    )


def takes_poll(now: datetime) -> None:
    """Check every running take that is due, concurrently, and wait for the answers, as one
    scheduler turn does (studio.takes.scheduler)."""
    with poll.Poller() as poller:
        while poller.ask_due(now) or poller.asking:
            poller.collect(wait=1.0)


def drive() -> None:
    """One turn of the scheduler (admit, repair, poll), then every queued step."""
    now = timezone.now()
    driver.takes_admit()
    driver.takes_repair(now)
    takes_poll(now)
    while QUEUE:
        task, take_id = QUEUE.pop(0)
        STEPS[task](take_id)


def run(*items: Take, seconds: float = 120.0) -> None:
    """Drive the takes until they are final (reloaded), for at most `seconds`.

    The limit is only a backstop against a take that never ends: it returns as soon as they do,
    so a busy machine gets all the time it needs.
    """
    deadline = time.monotonic() + seconds
    while True:
        drive()
        for item in items:
            item.refresh_from_db()
        if all(item.is_final for item in items):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not final: {[(t.code, t.state, t.reason) for t in items]}")
        time.sleep(0.02)  # the fake provider works in real time; poll again soon


def state_of(take: Take) -> str:
    take.refresh_from_db()
    return take.state


@contextmanager
def cluster_threads(workers: int = 2) -> Iterator[None]:
    """A cluster in threads of this process: the scheduler admits, repairs and polls, and
    `workers` workers run the dispatched steps one at a time each (as django-q2's worker
    processes do)."""
    stop = threading.Event()
    errors: list[BaseException] = []
    scheduler = Scheduler()

    def driver() -> None:
        try:
            scheduler.run()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def worker() -> None:
        try:
            while not stop.is_set():
                try:
                    task, take_id = QUEUE.pop(0)
                except IndexError:
                    stop.wait(0.02)
                    continue
                STEPS[task](take_id)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=driver, daemon=True)]
    threads += [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        scheduler.stop()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
