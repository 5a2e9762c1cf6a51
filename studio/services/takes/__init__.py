"""A take's life, one module per step (docs/takes.md "How a take moves"):

- `create`: make takes, cancel them, run again, variations, send again, adopt a task.
- `submit`: prepare the input and make the one paid POST (`prepare_take` task).
- `poll`: ask the provider about running takes and move them on from its answers.
- `driver`: admission and repair, run by the scheduler process (studio/scheduler.py).
- `download`: save the result, and try saving it again (`download_take` task).
- `leases`, `common`: the step's lease on its take; queueing, the provider's pause, errors.

Our table is the source of truth; django-q2 only carries kicks. A take moves only by the legal
moves in studio.takes.models.TAKE_TRANSITIONS (Take.fire, a compare-and-set). Every step claims the
take
with a lease (Take.claim), does one external thing outside any transaction, then moves the take
on, so a step that runs twice does no harm.
"""

from __future__ import annotations

from studio.core.errors import Refused
from studio.services.takes import common
from studio.services.takes.common import provider_pause, provider_paused
from studio.services.takes.create import (
    take_adopt,
    take_cancel,
    take_create,
    take_run_again,
    take_send_again,
    take_variations,
)
from studio.services.takes.download import (
    DOWNLOAD_BUDGET,
    take_download,
    take_download_failed,
    take_save_again,
)
from studio.services.takes.driver import takes_admit, takes_repair, takes_sweep
from studio.services.takes.poll import take_poll_answer, take_poll_failed, takes_poll
from studio.services.takes.submit import take_submit, take_submit_failed

__all__ = [
    "DOWNLOAD_BUDGET",
    "Refused",
    "common",
    "provider_pause",
    "provider_paused",
    "take_adopt",
    "take_cancel",
    "take_create",
    "take_download",
    "take_download_failed",
    "take_poll_answer",
    "take_poll_failed",
    "take_run_again",
    "take_save_again",
    "take_send_again",
    "take_submit",
    "take_submit_failed",
    "take_variations",
    "takes_admit",
    "takes_poll",
    "takes_repair",
    "takes_sweep",
]
