"""The take's state machine (studio.models.TAKE_TRANSITIONS): every legal move works, every
illegal one is refused and changes nothing, and the Take methods are the only writers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.models import (
    FINAL_TAKE_STATES,
    TAKE_TRANSITIONS,
    Activity,
    Project,
    Take,
    TakeEvent,
    TakeState,
    Trigger,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(team, alice):
    return Project.objects.create(team=team, name="States", created_by=alice)


def take_in(project, state: str) -> Take:
    return Take.objects.create(
        project=project, prompt="clay", seed=1, length_ms=3000, provider="local", state=state
    )


def snapshot(take: Take) -> dict[str, object]:
    row = Take.objects.filter(pk=take.pk).values().get()
    return row | {"events": take.events.count(), "activity": Activity.objects.count()}


def test_every_trigger_has_a_move_and_every_state_is_reached():
    assert set(TAKE_TRANSITIONS) == set(Trigger)
    reached = {move.target for move in TAKE_TRANSITIONS.values()} | {TakeState.QUEUED}
    assert reached == set(TakeState)


@pytest.mark.parametrize("trigger", list(Trigger))
def test_a_legal_move_changes_the_state_and_records_it(project, trigger):
    move = TAKE_TRANSITIONS[trigger]
    for source in move.sources:
        take = take_in(project, source)
        assert take.fire(trigger, f"because {trigger}", last_error="why", count=["provider_calls"])
        assert take.state == move.target
        stored = Take.objects.get(pk=take.pk)
        assert stored.state == move.target and stored.last_error == "why"
        assert stored.provider_calls == 1
        event = take.events.get()
        assert (event.state, event.note) == (move.target, f"because {trigger}")
        if move.target in FINAL_TAKE_STATES:
            assert stored.finished_at is not None and stored.lease_until is None
        logged = move.target in (
            TakeState.SUCCEEDED,
            TakeState.FAILED,
            TakeState.TIMED_OUT,
            TakeState.EXPIRED,
        )
        assert Activity.objects.filter(take=take).exists() == logged


@pytest.mark.parametrize("trigger", list(Trigger))
def test_an_illegal_move_is_refused_and_changes_nothing(project, trigger):
    illegal = [state for state in TakeState if state not in TAKE_TRANSITIONS[trigger].sources]
    assert illegal
    for state in illegal:
        take = take_in(project, state)
        before = snapshot(take)
        assert not take.fire(trigger, "should not happen", reason="no", count=["submit_posts"])
        assert snapshot(take) == before, (trigger, state)
        assert take.state == state


def test_counters_add_up_in_the_database_not_from_a_stale_copy(project):
    take = take_in(project, TakeState.RUNNING)
    stale = Take.objects.get(pk=take.pk)
    assert take.record(while_in=TakeState.RUNNING, count=["status_checks", "provider_calls"])
    assert stale.record(while_in=TakeState.RUNNING, count=["status_checks", "provider_calls"])
    take.refresh_from_db()
    assert (take.status_checks, take.provider_calls) == (2, 2)


def test_record_changes_only_a_take_still_in_its_state_and_never_the_state(project):
    take = take_in(project, TakeState.CANCELED)
    assert not take.record(while_in=TakeState.RUNNING, progress=0.5)
    assert take.record(while_in=None, progress=0.5)
    with pytest.raises(ValueError, match="fire"):
        take.record(while_in=None, state=TakeState.RUNNING)
    with pytest.raises(ValueError, match="fire"):
        take.record(while_in=None, lease_until=None)


def test_a_lease_is_claimed_once_and_renewed_only_by_its_holder(project):
    take = take_in(project, TakeState.DOWNLOADING)
    claimed = Take.claim(take.pk, TakeState.DOWNLOADING)
    assert claimed is not None and claimed.lease_until is not None
    assert Take.claim(take.pk, TakeState.DOWNLOADING) is None  # held
    assert Take.claim(take.pk, TakeState.RUNNING) is None  # elsewhere
    until = claimed.renew_lease(claimed.lease_until)
    assert until is not None and until > claimed.lease_until
    assert claimed.renew_lease(claimed.lease_until) is None  # no longer the value we hold
    claimed.release_lease(retry_at=until, error="try later")
    stored = Take.objects.get(pk=take.pk)
    assert stored.lease_until is None and stored.last_error == "try later"
    assert Take.claim(take.pk, TakeState.DOWNLOADING) is not None


def test_a_note_keeps_the_state(project):
    take = take_in(project, TakeState.RUNNING)
    take.note("The provider answers again")
    assert list(TakeEvent.objects.filter(take=take).values_list("state", "note")) == [
        ("running", "The provider answers again")
    ]


def test_a_named_lease_has_one_holder_until_it_runs_out_or_is_released(db):
    from studio.models import Lease

    assert Lease.holder("scheduler") is None
    assert Lease.acquire("scheduler", "host-a", 30)
    assert not Lease.acquire("scheduler", "host-b", 30)  # held by a
    assert Lease.acquire("scheduler", "host-a", 30)  # a renews
    assert Lease.holder("scheduler") == "host-a"
    Lease.release("scheduler", "host-b")  # only the owner can
    assert Lease.holder("scheduler") == "host-a"
    Lease.release("scheduler", "host-a")
    assert Lease.holder("scheduler") is None
    assert Lease.acquire("scheduler", "host-b", 30)
    Lease.objects.filter(name="scheduler").update(until=timezone.now() - timedelta(seconds=1))
    assert Lease.holder("scheduler") is None  # it ran out: b died
    assert Lease.acquire("scheduler", "host-a", 30)
    assert Lease.acquire("driver", "host-b", 30)  # another name, another lease
