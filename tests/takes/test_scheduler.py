"""The scheduler process: admission, polling and repair outside the worker pool, one active at a
time across hosts (a database lease), and a stand-by that takes over when it dies."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from studio.models import Lease, MediaState, Take, TakeState
from studio.takes import scheduler as scheduler_module
from studio.takes.scheduler import LEASE_NAME, Scheduler
from tests.cluster import run_cluster, run_scheduler, wait_for
from tests.conftest import upload_clip
from tests.fake_modellix import FakeModellix
from tests.pipeline import new_take, state_of


# -- the lease ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_lease_has_one_holder_until_it_runs_out_or_is_given_up():
    assert Lease.holder("role") is None
    assert Lease.acquire("role", "a", 30)
    assert not Lease.acquire("role", "b", 30)  # a holds it
    assert Lease.acquire("role", "a", 30)  # a renews
    assert Lease.holder("role").owner == "a"
    Lease.release("role", "b")  # only the holder can give it up
    assert Lease.holder("role").owner == "a"
    Lease.objects.filter(name="role").update(until=timezone.now() - timedelta(seconds=1))
    assert Lease.holder("role") is None  # a stopped renewing
    assert Lease.acquire("role", "b", 30)
    assert not Lease.acquire("role", "a", 30)
    Lease.release("role", "b")
    assert Lease.holder("role") is None
    assert Lease.acquire("role", "a", 30)  # given up: free at once
    assert Lease.objects.filter(name="role").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_in_one_process_take_turns_never_together():
    """Only the holder of the lease works (its turns never overlap the other's); a stop gives
    the role to the other at once."""
    first, second = Scheduler(owner="first"), Scheduler(owner="second")
    turns: list[tuple[str, float, float]] = []

    def recorded(scheduler: Scheduler):
        real = scheduler.turn

        def turn(poller):
            started = time.monotonic()
            try:
                real(poller)
            finally:
                turns.append((scheduler.owner, started, time.monotonic()))

        return turn

    for scheduler in (first, second):
        scheduler.turn = recorded(scheduler)
    threads = [
        threading.Thread(target=run_and_close, args=(s,), daemon=True) for s in (first, second)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: Lease.holder(LEASE_NAME) is not None, 120, "one to take the lease")
        active = first if Lease.holder(LEASE_NAME).owner == "first" else second
        standby = second if active is first else first
        wait_for(lambda: len(turns) > 3, 120, "a few turns of the holder")
        active.stop()
        wait_for(lambda: standby.active, 120, "the stand-by to take over")
        assert Lease.holder(LEASE_NAME).owner == standby.owner
        wait_for(lambda: turns[-1][0] == standby.owner, 120, "a turn of the new holder")
    finally:
        first.stop()
        second.stop()
        for thread in threads:
            thread.join(timeout=60)
    assert {owner for owner, _, _ in turns} == {"first", "second"}
    ordered = sorted(turns, key=lambda turn: turn[1])
    for (owner, _, ended), (other, started, _) in itertools.pairwise(ordered):
        assert owner == other or ended <= started  # a hand-over: the last turn ended first
    assert Lease.holder(LEASE_NAME) is None  # the last one gave it up too


def run_and_close(scheduler: Scheduler) -> None:
    try:
        scheduler.run()
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_the_active_scheduler_runs_the_other_repairs_every_few_seconds_with_no_take_active(
    monkeypatch,
):
    """Other domains' repairs (the cuts' renders_sweep) run on the active scheduler only, at
    most every REPAIR_EVERY, though no take is active; one that fails stops neither the loop
    nor the others."""
    monkeypatch.setattr(scheduler_module, "REPAIR_EVERY", 0.5)
    monkeypatch.setattr(scheduler_module, "LONGEST_TURN", 0.05)  # idle turns, quickly
    calls: dict[str, list[float]] = {"active": [], "standby": [], "after a failure": []}

    def broken() -> None:
        raise RuntimeError("a bug in one repair")

    # The round's time is taken by its first repair: a failure's log line, slow on a busy
    # machine, does not move it.
    active = Scheduler(
        owner="active",
        repairs=[
            lambda: calls["active"].append(time.monotonic()),
            broken,
            lambda: calls["after a failure"].append(time.monotonic()),
        ],
    )
    standby = Scheduler(
        owner="standby", repairs=[lambda: calls["standby"].append(time.monotonic())]
    )
    assert not Take.objects.exists()
    assert Lease.acquire(LEASE_NAME, "active", 60)  # the first one is the active one
    threads = [
        threading.Thread(target=run_and_close, args=(s,), daemon=True) for s in (active, standby)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(calls["active"]) >= 3, 120, "three rounds of repairs")
    finally:
        active.stop()
        standby.stop()
        for thread in threads:
            thread.join(timeout=60)
    assert calls["standby"] == []
    assert all(b - a >= 0.5 for a, b in itertools.pairwise(calls["active"]))
    assert len(calls["after a failure"]) == len(calls["active"])


# -- real processes -------------------------------------------------------------------------------
@pytest.fixture
def slow_fake(settings):
    """Takes whose prompt starts with "long" run until the test ends them; others for 1 s."""
    server = FakeModellix(
        task_seconds=lambda body: 600.0 if body["prompt"].startswith("long") else 1.0,
        pending_seconds=0.2,
    ).start()
    settings.STUDIO_PROVIDER = "modellix"
    settings.MODELLIX_API_KEY = "test-key"
    settings.MODELLIX_BASE_URL = server.url
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    yield server
    server.stop()


def env_for(fake: FakeModellix, **extra: str) -> dict[str, str]:
    return {
        "STUDIO_PROVIDER": "modellix",
        "MODELLIX_API_KEY": "test-key",
        "MODELLIX_BASE_URL": fake.url,
        "STUDIO_DOWNLOAD_ALLOW_LOOPBACK": "true",
        "STUDIO_TIME_SCALE": "0.1",  # a check every 0.5-1.5 s
        "STUDIO_MAX_ACTIVE_EDITS": "10",
        "STUDIO_WORKERS": "1",
        **extra,
    }


def checks_of(items: list[Take]) -> int:
    rows = Take.objects.filter(pk__in=[t.pk for t in items])
    return rows.aggregate(checks=Sum("status_checks"))["checks"] or 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_one_worker_an_upload_and_a_take_proceed_while_others_are_polled(
    slow_fake, as_bob, bob, project, clip, samples, tmp_path
):
    """Polling runs in the scheduler process, not in a worker: the only worker is free for an
    upload and for preparing, sending and saving a new take while three takes are polled."""
    long = [new_take(clip, bob, prompt=f"long {n}", length=2.0) for n in range(3)]
    env = env_for(slow_fake)
    with run_cluster(tmp_path, **env) as cluster, run_scheduler(tmp_path, **env) as scheduler:
        wait_for(
            lambda: all(state_of(t) == TakeState.RUNNING for t in long),
            120,
            "the long takes to run",
            scheduler,
        )
        wait_for(lambda: checks_of(long) >= 6, 120, "the long takes to be polled", scheduler)
        fresh = upload_clip(as_bob, project, samples["hevc-portrait.mov"], prepare=False)

        def prepared() -> bool:
            fresh.refresh_from_db()
            return fresh.state not in (MediaState.RECEIVED, MediaState.PROCESSING)

        wait_for(prepared, 120, "the upload to be prepared", cluster)
        assert fresh.state == MediaState.READY, fresh.reason
        quick = new_take(clip, bob, prompt="quick", length=2.0)
        polled_before = checks_of(long)
        wait_for(lambda: state_of(quick) == TakeState.SUCCEEDED, 120, "the new take", cluster)
        assert checks_of(long) > polled_before  # polling went on meanwhile
        assert all(state_of(t) == TakeState.RUNNING for t in long)
        for take in long:
            slow_fake.finish_now(take.provider_task_id)
        wait_for(
            lambda: all(state_of(t) == TakeState.SUCCEEDED for t in long), 120, "the long takes"
        )
    assert slow_fake.counts["submit"] == 4 and len(slow_fake.tasks) == 4


def scheduler_pid(owner: str) -> int:
    return int(owner.split(":")[1])


def status_gaps(fake: FakeModellix) -> list[float]:
    """Seconds between consecutive status reads of the same task, over every task."""
    gaps = []
    for task in fake.tasks.values():
        gaps += [b - a for a, b in itertools.pairwise(task.checks)]
    return gaps


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_one_active_and_a_killed_one_is_replaced(slow_fake, bob, clip, tmp_path):
    """Two scheduler processes (two hosts): exactly one polls. kill -9 of it: the other takes
    over once the dead one's lease (3 s) has run out, and finishes every take, each sent
    exactly once."""
    items = [new_take(clip, bob, prompt=f"long {n}", length=2.0) for n in range(4)]
    env = env_for(slow_fake, STUDIO_SCHEDULER_LEASE_SECONDS="3")
    with (
        run_cluster(tmp_path, **env) as cluster,
        run_scheduler(tmp_path, **env) as one,
        run_scheduler(tmp_path, **env) as two,
    ):
        wait_for(lambda: Lease.holder(LEASE_NAME) is not None, 120, "a scheduler to start", one)
        wait_for(
            lambda: all(state_of(t) == TakeState.RUNNING for t in items), 120, "the takes", cluster
        )
        wait_for(lambda: checks_of(items) >= 12, 120, "the takes to be polled", one)
        holder = Lease.holder(LEASE_NAME).owner
        active, standby = (one, two) if scheduler_pid(holder) == one.process.pid else (two, one)
        assert scheduler_pid(holder) == active.process.pid
        wait_for(lambda: "standing by" in standby.output(), 120, "the stand-by to say so")
        assert ": active" in active.output() and ": active" not in standby.output()
        # Every check reached the fake after its scheduler counted it (none went uncounted).
        assert slow_fake.counts["status"] <= checks_of(items)

        os.killpg(active.process.pid, signal.SIGKILL)
        active.process.wait(timeout=60)
        wait_for(
            lambda: (h := Lease.holder(LEASE_NAME)) is not None and h.owner != holder,
            120,
            "the stand-by to take over",
            standby,
        )
        assert ": active" in standby.output()
        polled = checks_of(items)
        wait_for(lambda: checks_of(items) > polled, 120, "polling to go on", standby)
        for take in items:
            slow_fake.finish_now(take.provider_task_id)
        wait_for(
            lambda: all(state_of(t) == TakeState.SUCCEEDED for t in items),
            120,
            "the takes",
            standby,
        )
    assert slow_fake.counts["submit"] == 4 and len(slow_fake.tasks) == 4
    assert [t.submit_posts for t in Take.objects.all()] == [1, 1, 1, 1]
    # Checks of one task are at least the schedule's shortest gap apart (5 s * 0.9 * scale 0.1),
    # across the hand-over too: no task was asked by two schedulers at once.
    assert min(status_gaps(slow_fake)) > 0.3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_gives_the_lease_up_and_a_stand_by_takes_over_at_once(slow_fake, tmp_path):
    env = env_for(slow_fake, STUDIO_SCHEDULER_LEASE_SECONDS="600")  # it would never run out
    with run_scheduler(tmp_path, **env) as one, run_scheduler(tmp_path, **env) as two:
        wait_for(lambda: Lease.holder(LEASE_NAME) is not None, 120, "a scheduler to start", one)
        holder = Lease.holder(LEASE_NAME).owner
        active, standby = (one, two) if scheduler_pid(holder) == one.process.pid else (two, one)
        wait_for(lambda: "standing by" in standby.output(), 120, "the stand-by to say so")
        active.process.send_signal(signal.SIGTERM)
        assert active.process.wait(timeout=60) == 0, active.output()
        assert "stopped after" in active.output()
        wait_for(
            lambda: (h := Lease.holder(LEASE_NAME)) is not None and h.owner != holder,
            120,
            "the stand-by to take over",
            standby,
        )
        standby.process.send_signal(signal.SIGINT)
        assert standby.process.wait(timeout=60) == 0, standby.output()
    assert Lease.holder(LEASE_NAME) is None


class NotAsking:
    """A poller with nothing in flight: the turn below only admits and repairs."""

    asking = False


@pytest.mark.django_db
def test_a_lease_that_ran_out_during_a_database_outage_is_not_called_silent_at_once(
    make_take, settings
):
    """The scheduler's own turn failed (the database was gone): the workers could not renew
    their leases either. For one take lease after, a send whose lease ran out is left to its
    living worker; after that it is parked as uncertain, as ever."""
    settings.TAKE_LEASE = timedelta(seconds=4)
    take = make_take(
        TakeState.SUBMITTING,
        provider="modellix",
        provider_task_id=None,
        submit_posts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    scheduler = Scheduler(owner="back")
    scheduler.stopping.set()  # no waiting between turns
    scheduler.failed_at = time.monotonic()
    scheduler.turn(NotAsking())
    take.refresh_from_db()
    assert take.state == TakeState.SUBMITTING
    scheduler.failed_at = time.monotonic() - 5
    scheduler.turn(NotAsking())
    take.refresh_from_db()
    assert take.state == TakeState.UNCERTAIN
