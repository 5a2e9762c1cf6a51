"""The provider's request budget (MODELLIX_RPM), shared by every process: no minute ever holds
more requests than the account allows, so Cutroom never causes a 429, however many takes run."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone

from studio.models import FINAL_TAKE_STATES, RequestBudget, Take, TakeState
from studio.providers import modellix, request_budget
from studio.providers.base import EditRequest, Media
from studio.takes import driver, submit
from studio.takes.parameters import EditParameters
from tests.cluster import wait_for
from tests.fake_modellix import FakeModellix
from tests.pipeline import cluster_threads, new_take, run, state_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]


def busiest_minute(times: list[float]) -> int:
    """The most requests in any 60 s, wherever the minute starts."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 60:
            first += 1
        most = max(most, last - first + 1)
    return most


# Each acquire commits, as it does in the app: PostgreSQL cannot prune the row's old versions
# while one transaction is still open, so 15,000 updates of one row inside the test's single
# transaction make every later read walk all of them (minutes instead of seconds).
# The bucket's arithmetic is the same on both databases: PostgreSQL checks it at 100 a minute
# (the smallest entitlement); the other budgets run in the SQLite pass only.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "rpm",
    [
        pytest.param(10, marks=pytest.mark.once),
        pytest.param(20, marks=pytest.mark.once),
        100,
        pytest.param(1000, marks=pytest.mark.once),
    ],
)
def test_no_minute_ever_holds_more_than_the_budget(clock, settings, rpm):
    """Greedy callers ask every 20 ms for five minutes, sends of up to six requests among them
    (uploads and the POST, paid at once): no minute, wherever it starts, goes over MODELLIX_RPM;
    nearly every token is used: at least 80 % of the budget from 100 a minute up."""
    settings.MODELLIX_RPM = rpm
    settings.TIME_SCALE = 1
    sent: list[float] = []
    for step in range(5 * 60 * 50):
        at = step * 0.02
        count = (1, 2, 6)[step % 3]
        keep = request_budget.STATUS_KEEP if count == 1 else 0
        if request_budget.acquire("modellix", count, keep=keep) == 0.0:
            sent += [at] * count
        clock.advance(0.02)
    assert busiest_minute(sent) <= rpm
    capacity, per_second = request_budget.limits()
    assert len(sent) >= 0.9 * (capacity + per_second * 5 * 60)
    if rpm >= 100:
        assert len(sent) >= 0.8 * rpm * 5


def test_a_refusal_says_when_the_tokens_are_there(clock, settings):
    settings.MODELLIX_RPM = 100  # 10 in the bucket, 80 a minute: one every 0.75 s
    settings.TIME_SCALE = 1
    capacity, rate = request_budget.limits()
    assert (capacity, rate) == (10, 80 / 60)
    assert request_budget.acquire("modellix", 10) == 0.0
    wait = request_budget.acquire("modellix", 2)
    assert wait == pytest.approx(2 / rate)
    clock.advance(wait / 2)
    assert request_budget.acquire("modellix", 2) == pytest.approx(wait / 2)
    clock.advance(wait / 2)
    assert request_budget.acquire("modellix", 2) == 0.0
    assert RequestBudget.objects.get(provider="modellix").tokens == pytest.approx(0)


def test_status_checks_leave_room_for_a_waiting_send(clock, settings):
    settings.MODELLIX_RPM = 100
    settings.TIME_SCALE = 1
    provider = modellix.Modellix(api_key="k", base_url="http://x", submit_path="/", media_mode="")
    checks = 0
    while request_budget.prepay_status(provider):
        checks += 1
    assert checks == 10 - request_budget.STATUS_KEEP and provider.prepaid == checks
    assert request_budget.acquire("modellix", 2) == 0.0  # an upload and the POST go at once


@pytest.mark.django_db(transaction=True)
def test_processes_spending_at_once_never_get_a_token_twice(settings):
    """Six callers at the same moment, each with its own database connection as each worker
    process has: together they get the bucket's tokens exactly once (the provider's row is
    locked on PostgreSQL, the database's write lock on SQLite), its first use included."""
    settings.MODELLIX_RPM = 100  # 10 in the bucket
    settings.TIME_SCALE = 1000  # and next to no refill while the test runs
    capacity, _ = request_budget.limits()
    start = threading.Barrier(6)
    granted: list[float] = []
    errors: list[BaseException] = []

    def spend() -> None:
        try:
            start.wait()
            granted.extend(1 for _ in range(10) if request_budget.acquire("modellix") == 0.0)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    callers = [threading.Thread(target=spend) for _ in range(6)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(60)
    assert not errors
    assert len(granted) == capacity
    assert RequestBudget.objects.get(provider="modellix").tokens == pytest.approx(0, abs=0.1)


def test_the_budget_is_per_clock_of_the_benchmark(settings):
    settings.MODELLIX_RPM = 100
    settings.TIME_SCALE = 0.1  # a minute is 6 s
    assert request_budget.limits()[1] == pytest.approx(80 / 6)


# -- the client pays before it sends -----------------------------------------------------------
def spent(settings) -> None:
    """Nothing left in the bucket, and a slow refill (MODELLIX_RPM=10: one every 10 s)."""
    settings.MODELLIX_RPM = 10
    settings.TIME_SCALE = 1
    RequestBudget.objects.update_or_create(
        provider="modellix", defaults={"tokens": 0.0, "updated_at": timezone.now()}
    )


def test_without_a_token_nothing_is_sent(fake, settings, tmp_path):
    settings.MODELLIX_STATUS_TIMEOUT = 1
    spent(settings)
    client = modellix.from_settings()
    video = tmp_path / "in.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom")
    media = Media("input", "v", "file", video, "video/mp4", "in.mp4")
    request = EditRequest(EditParameters(prompt="p", resolution="720P", seed=1), video=media)
    # One token every 10 s: an upload and the POST in 20 s, a status read in 10 s.
    for call, wait in ((lambda: client.prepare(request), 20), (lambda: client.status("t"), 10)):
        with pytest.raises(request_budget.OverBudget) as refused:
            call()
        assert refused.value.wait == pytest.approx(wait, abs=0.5)
    assert sum(fake.counts.values()) == 0


def test_a_take_refused_by_the_budget_waits_and_is_sent_once(fake, clip, bob, settings):
    """The refusal is not a failure: no retry counted, no event, then one upload and one POST."""
    settings.MODELLIX_RPM = 200  # 160 a minute, and a minute is 1.2 s: 133 a second
    settings.TIME_SCALE = 0.02
    # Spent, and 300 more in debt: the next tokens come in about 2.3 s.
    RequestBudget.objects.create(provider="modellix", tokens=-300.0, updated_at=timezone.now())
    take = new_take(clip, bob)
    driver.takes_admit()
    submit.take_submit(take.pk)
    take.refresh_from_db()
    assert take.state == TakeState.PREPARING and take.transient_errors == 0
    assert take.lease_until is None and take.next_check_at > timezone.now()
    assert take.last_error.startswith("modellix request budget: next request in")
    assert sum(fake.counts.values()) == 0
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert fake.counts["upload"] == 1 and fake.counts["submit"] == 1
    assert take.submit_posts == 1
    notes = list(take.events.values_list("note", flat=True))
    assert notes == ["Created", "Started", "Sending", notes[3], "Provider finished", "Saved"]


# -- many takes, a small account -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_thirty_takes_at_once_on_twenty_requests_a_minute_get_no_429(clip, bob, settings):
    """30 takes at once against a provider that allows 20 requests a minute (a minute is 2.4 s
    on this clock): every upload, POST and status read waits its turn, none is refused, and
    every take finishes with one POST."""
    scale = 0.04
    fake = FakeModellix(task_seconds=20 * scale, pending_seconds=0.1, rpm=20, minute=60 * scale)
    fake.start()
    settings.STUDIO_PROVIDER = "modellix"
    settings.MODELLIX_API_KEY = "test-key"
    settings.MODELLIX_BASE_URL = fake.url
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    settings.TIME_SCALE = scale
    settings.MODELLIX_RPM = 20
    settings.MAX_ACTIVE_EDITS = 30
    try:
        items = [new_take(clip, bob, prompt=f"take {n}") for n in range(30)]
        with cluster_threads(workers=2):
            wait_for(
                lambda: all(state_of(t) in FINAL_TAKE_STATES for t in items),
                600,
                "every take to finish",
            )
    finally:
        fake.stop()
    assert {t.state for t in items} == {TakeState.SUCCEEDED}
    assert sum(fake.rate_limited.values()) == 0
    assert fake.counts["submit"] == 30 and len(fake.tasks) == 30
    assert [t.submit_posts for t in Take.objects.all()] == [1] * 30
    assert fake.counts["status"] >= 30 and fake.counts["upload"] == 30
