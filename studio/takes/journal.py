"""Provider task ids held on the worker's own disk until the database has them.

The paid POST answers with the id of the task the provider made. If the database cannot be
reached at that moment (a restart, a failover, a network cut), the id must not be lost: the take
was paid for, and only the id leads to its result. So, before the id is written to the database,
it is written to a small file in this host's data folder (STUDIO_DATA_DIR/journal, one file per
send, written whole and synced), and logged. The worker then retries the database write with
backoff for as long as it lives (STUDIO_DATABASE_RETRY_SECONDS at most); once the id is in the
database the file goes.

If the worker dies first, or gives up, the file stays. The worker command reads the journal
back when it starts and again every half minute (`journal_adopt`), so the take follows its task
as soon as the database answers, even if the repair sweep meanwhile parked it as uncertain
(its hold on the take ran out while nobody could say more). An id is adopted only by the send
that made it: a take sent again since, or one that follows another task, keeps what it has, and
the held id is written into its history and the log instead.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.utils import timezone

from studio.takes import polling
from studio.takes.lifecycle import TakeState, Trigger
from studio.takes.models import Take

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldId:
    """One task id the provider gave for one send of a take."""

    take: int
    code: str
    provider: str
    task_id: str
    posts: int  # the take's submit_posts when the id came: which send it belongs to
    at: str  # when the provider answered (ISO 8601)

    @property
    def name(self) -> str:
        return f"take-{self.take}-send-{self.posts}.json"


def journal_dir() -> Path:
    return Path(settings.DATA_DIR) / "journal"


def journal_hold(take: Take, task_id: str) -> tuple[Path, HeldId]:
    """Write the provider's task id for this send to the journal, synced, and log it."""
    held = HeldId(
        take=take.pk,
        code=take.code,
        provider=take.provider,
        task_id=task_id,
        posts=take.submit_posts,
        at=timezone.now().isoformat(),
    )
    log.info("take %s: the provider created task %s (send %s)", take.code, task_id, held.posts)
    folder = journal_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / held.name
    partial = folder / f".{held.name}.{os.getpid()}"
    with partial.open("w", encoding="utf-8") as out:
        json.dump(asdict(held), out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    _sync_folder(folder)
    return path, held


def journal_release(path: Path) -> None:
    """The id is in the database: its file goes."""
    path.unlink(missing_ok=True)


def journal_entries() -> list[tuple[Path, HeldId]]:
    """The ids this host holds, oldest send first; unreadable files are logged and left."""
    folder = journal_dir()
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob("take-*.json")):
        try:
            entries.append((path, HeldId(**json.loads(path.read_text(encoding="utf-8")))))
        except (OSError, ValueError, TypeError) as error:
            log.error("journal file %s cannot be read (%s); left for a person", path, error)
    # A process killed between writing an entry and renaming it into place leaves its partial
    # file. Written whole, it holds the id like any entry; cut short, the id never reached the
    # disk (the take is uncertain, for a person), and the scrap goes.
    for path in sorted(folder.glob(".take-*.json.*")):
        try:
            entries.append((path, HeldId(**json.loads(path.read_text(encoding="utf-8")))))
        except (ValueError, TypeError):
            log.warning("journal: removing %s, a write cut short by a crash", path.name)
            path.unlink(missing_ok=True)
        except OSError as error:
            log.error("journal file %s cannot be read (%s); left for a person", path, error)
    return entries


def held_id_adopt(held: HeldId) -> bool:
    """Record a held task id on its take. True when the journal no longer needs it: recorded
    now or before, or the take has moved on (the id is then kept in its history); raises a
    database error when the database cannot be reached."""
    take = Take.objects.filter(pk=held.take).first()
    if take is None:
        log.error(
            "take #%s (%s) was deleted; the provider's task %s for it is not followed",
            held.take,
            held.code,
            held.task_id,
        )
        return True
    if take.provider_task_id == held.task_id:
        return True
    now = timezone.now()
    fields: dict[str, Any] = {
        "provider_task_id": held.task_id,
        "submitted_at": now,
        "deadline_at": now + settings.EDIT_DEADLINE,
        "next_check_at": now + polling.first_wait(take),
        "lease_until": None,
        "transient_errors": 0,
    }
    same_send = take.submit_posts == held.posts and not take.provider_task_id
    sent = f"Provider task {held.task_id}"
    if same_send and take.state == TakeState.SUBMITTING and take.fire(Trigger.SENT, sent, **fields):
        return True
    take.refresh_from_db()
    if same_send and take.state == TakeState.UNCERTAIN:
        note = (
            f"Provider task {held.task_id}: the id came while the database could not be "
            "reached; the worker kept it on its disk and Cutroom now follows the task"
        )
        if take.fire(
            Trigger.HELD_ID_RECORDED,
            note,
            **fields,
            reason="",
            last_error="",
            finished_at=None,
        ):
            log.info("take %s: now follows held provider task %s", take.code, held.task_id)
            return True
        take.refresh_from_db()
    if take.provider_task_id == held.task_id:
        return True
    if take.state == TakeState.SUBMITTING and take.submit_posts == held.posts:
        return False  # the send is still being recorded by its step: not ours to decide yet
    take.note(
        f"The provider made task {held.task_id} for an earlier send of this take, which Cutroom "
        f"could not record in time; the take has moved on ({take.get_state_display()}), so it "
        "is not followed: look it up on the provider's dashboard if needed."
    )
    log.warning(
        "take %s: held provider task %s not followed, the take moved on (%s)",
        take.code,
        held.task_id,
        take.state,
    )
    return True


def journal_adopt() -> int:
    """Record every id this host holds whose take the database now accepts; how many files
    went. A database that still cannot be reached leaves the rest for the next call."""
    done = 0
    for path, held in journal_entries():
        try:
            finished = held_id_adopt(held)
        except DatabaseError as error:
            log.warning("journal: the database is still unreachable (%s); will retry", error)
            connections.close_all()
            break
        if finished:
            journal_release(path)
            done += 1
    return done


def with_database_retry[T](write: Callable[[], T], *, what: str) -> T:
    """Run a database write, retrying with backoff while the database cannot be reached, for at
    most DATABASE_RETRY; then the last error is raised."""
    deadline = time.monotonic() + settings.DATABASE_RETRY.total_seconds()
    wait = 0.5
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + wait > deadline:
                raise
            log.warning("%s: database unreachable (%s); retrying in %.1f s", what, error, wait)
            # A connection that broke stays broken: the next try opens a new one.
            connections.close_all()
            time.sleep(wait)
            wait = min(wait * 2, 10.0)


def _sync_folder(folder: Path) -> None:
    """Make the file's name durable too (a rename is in the folder's data)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
