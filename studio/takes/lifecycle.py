"""A take's lifecycle: its states and the one table of the moves between them.

`Take.fire` (studio/takes/models.py) is the only way a take's state changes: it looks the
trigger up in TAKE_TRANSITIONS and makes the move as one compare-and-set update, so two
workers racing on a take can never both move it (docs/takes.md "How a take moves").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models


class TakeState(models.TextChoices):
    QUEUED = "queued", "Waiting for a free slot"
    PREPARING = "preparing", "Preparing the input"
    SUBMITTING = "submitting", "Sending to the provider"
    RUNNING = "running", "Rendering"
    DOWNLOADING = "downloading", "Saving the result"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    TIMED_OUT = "timed_out", "Timed out"
    EXPIRED = "expired", "Result expired"
    UNCERTAIN = "uncertain", "Submission uncertain"


# Takes in these states hold one of the provider's concurrent slots.
AT_PROVIDER = (TakeState.PREPARING, TakeState.SUBMITTING, TakeState.RUNNING)
ACTIVE_TAKE_STATES = (TakeState.QUEUED, *AT_PROVIDER, TakeState.DOWNLOADING)
FINAL_TAKE_STATES = (
    TakeState.SUCCEEDED,
    TakeState.FAILED,
    TakeState.CANCELED,
    TakeState.TIMED_OUT,
    TakeState.EXPIRED,
    TakeState.UNCERTAIN,
)
# Endings that go into the team's history (canceling and parking as uncertain are logged by
# the person's own action, or not at all).
LOGGED_ENDINGS = (TakeState.SUCCEEDED, TakeState.FAILED, TakeState.TIMED_OUT, TakeState.EXPIRED)
# Endings the take's maker hears of in their inbox (studio/review/inbox.py): a cancel is
# someone's own doing, an uncertain submission asks them to decide.
NOTIFIED_ENDINGS = (*LOGGED_ENDINGS, TakeState.UNCERTAIN)


class Trigger(StrEnum):
    """What moves a take: a person, a worker's step, the provider's answer or the clock."""

    ADMIT = "admit"
    OVER_BUDGET = "over_budget"
    CANCEL = "cancel"
    CANCEL_TASK = "cancel_task"
    STOP_WAITING = "stop_waiting"
    PREPARE_FAILED = "prepare_failed"
    PREPARED = "prepared"
    RETRY_LATER = "retry_later"
    SUBMIT_FAILED = "submit_failed"
    SEND_UNCERTAIN = "send_uncertain"
    SEND_INTERRUPTED = "send_interrupted"
    SENT = "sent"
    PROVIDER_FINISHED = "provider_finished"
    PROVIDER_FAILED = "provider_failed"
    STATUS_REFUSED = "status_refused"
    ADOPTION_REFUSED = "adoption_refused"
    DEADLINE = "deadline"
    SAVED = "saved"
    SAVE_FAILED = "save_failed"
    RESULT_EXPIRED = "result_expired"
    SEND_AGAIN = "send_again"
    ADOPT = "adopt"
    HELD_ID_RECORDED = "held_id_recorded"
    CHECK_AGAIN = "check_again"
    TRY_SAVING_AGAIN = "try_saving_again"


@dataclass(frozen=True)
class Transition:
    sources: tuple[TakeState, ...]
    target: TakeState
    when: str  # for people: printed in docs/takes.md's table (manage.py take_states)
    # The provider surely bills nothing for this take (never sent, refused, or failed: only
    # successful edits are billed), so its money reservation is given back.
    releases: bool = False


_Q, _PREP, _SUB, _RUN, _DOWN = (
    TakeState.QUEUED,
    TakeState.PREPARING,
    TakeState.SUBMITTING,
    TakeState.RUNNING,
    TakeState.DOWNLOADING,
)

# Every legal move of a take. Take.fire is the only way to change a take's state: it moves only
# from the trigger's sources (compare-and-set), so a trigger from any other state does nothing.
TAKE_TRANSITIONS: dict[Trigger, Transition] = {
    Trigger.ADMIT: Transition((_Q,), _PREP, "a slot at the provider is free"),
    Trigger.OVER_BUDGET: Transition(
        (_Q,),
        TakeState.FAILED,
        "a slot is free, but a budget no longer has room for it (charges above estimates)",
        releases=True,
    ),
    Trigger.CANCEL: Transition(
        (_Q, _PREP), TakeState.CANCELED, "a person cancels it", releases=True
    ),
    Trigger.CANCEL_TASK: Transition(
        (_RUN,), TakeState.CANCELED, "a person cancels it, and the provider stops its task"
    ),
    Trigger.STOP_WAITING: Transition(
        (_RUN,), TakeState.CANCELED, "a person stops waiting: the provider cannot cancel"
    ),
    Trigger.PREPARE_FAILED: Transition(
        (_PREP,), TakeState.FAILED, "the clip is gone or its part cannot be cut", releases=True
    ),
    Trigger.PREPARED: Transition((_PREP,), _SUB, "the input is ready: the paid POST comes next"),
    Trigger.RETRY_LATER: Transition(
        (_PREP, _SUB), _PREP, "the POST was certainly not received (or our own trouble before it)"
    ),
    Trigger.SUBMIT_FAILED: Transition(
        (_PREP, _SUB),
        TakeState.FAILED,
        "the provider refused, or the retries ran out",
        releases=True,
    ),
    Trigger.SEND_UNCERTAIN: Transition(
        (_SUB,), TakeState.UNCERTAIN, "the POST may have reached the provider"
    ),
    Trigger.SEND_INTERRUPTED: Transition(
        (_SUB,),
        TakeState.UNCERTAIN,
        "the sending step went silent: its worker died or lost the database (its lease ran out)",
    ),
    Trigger.SENT: Transition((_SUB,), _RUN, "the provider said its task id"),
    Trigger.PROVIDER_FINISHED: Transition((_RUN,), _DOWN, "the provider has a result"),
    Trigger.PROVIDER_FAILED: Transition(
        (_RUN,), TakeState.FAILED, "the provider failed the task", releases=True
    ),
    Trigger.STATUS_REFUSED: Transition(
        (_RUN,), TakeState.FAILED, "the provider refuses to say (e.g. it does not know the task)"
    ),
    Trigger.ADOPTION_REFUSED: Transition(
        (_RUN,), TakeState.UNCERTAIN, "the provider does not know a task id a person pasted"
    ),
    Trigger.DEADLINE: Transition((_RUN,), TakeState.TIMED_OUT, "the take's deadline passed"),
    Trigger.SAVED: Transition((_DOWN,), TakeState.SUCCEEDED, "the result is stored"),
    Trigger.SAVE_FAILED: Transition(
        (_DOWN,), TakeState.FAILED, "the result cannot be saved, or the attempts ran out"
    ),
    Trigger.RESULT_EXPIRED: Transition(
        (_DOWN,), TakeState.EXPIRED, "the result link expired and no fresh one is to be had"
    ),
    Trigger.SEND_AGAIN: Transition(
        (TakeState.UNCERTAIN,), _Q, "a person sends it again (a new paid POST)"
    ),
    Trigger.ADOPT: Transition(
        (TakeState.UNCERTAIN,), _RUN, "a person pastes the task id found at the provider"
    ),
    Trigger.HELD_ID_RECORDED: Transition(
        (TakeState.UNCERTAIN,),
        _RUN,
        "the task id its worker kept on disk while the database was down is recorded",
    ),
    Trigger.CHECK_AGAIN: Transition(
        (TakeState.TIMED_OUT,), _RUN, "a person asks about the known task once more"
    ),
    Trigger.TRY_SAVING_AGAIN: Transition(
        (TakeState.FAILED,), _DOWN, "a person asks to save a paid result again"
    ),
}
# Written only by Take's methods below (tests/takes/test_take_states.py checks the source tree).
GUARDED_TAKE_FIELDS = (
    "state",
    "state_changed_at",
    "lease_until",
    "provider_calls",
    "status_checks",
    "submit_posts",
    "transient_errors",
    "download_attempts",
    "reserved_usd",
    "admitted_at",
)
