"""Fair turns at the provider (docs/takes.md "Admission: fair turns"): the policy's promises as
properties over any interleaving of submissions, then the scheduler's admission on real rows."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.models import Membership, Role, Team
from studio.core import errors
from studio.governance import budgets
from studio.models import Clip, Project, Take, TakeState, Trigger
from studio.takes import common, create, driver, fairness, queue
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, clip_row, join, make_user, take_row


# -- the policy, played over any interleaving -------------------------------------------------
@dataclass
class Log:
    arrived: dict[int, int] = field(default_factory=dict)  # take -> step
    admitted: list[tuple[int, int]] = field(default_factory=list)  # (step, take) in order
    of: dict[int, tuple[int, int]] = field(default_factory=dict)  # take -> (team, member)


arrival = st.tuples(
    st.integers(0, 30),  # step
    st.integers(0, 3),  # team
    st.integers(0, 2),  # member
    st.integers(1, 12),  # how many at once (a batch of variations)
)


def play(
    arrivals: list[tuple[int, int, int, int]],
    *,
    slots: int,
    hold: list[int],
    limits: dict[int, int] | None = None,
) -> Log:
    """Run the policy step by step: takes arrive, finished ones free their slots, free slots
    are filled by `fairness.admission_order`, exactly as takes_admit does each turn."""
    log = Log()
    turns = fairness.Turns(limits=dict(limits or {}))
    waiting: list[fairness.Waiting] = []
    running: list[tuple[int, int]] = []  # (ends at step, team)
    pk = 0
    by_step = defaultdict(list)
    for step, team, member, count in arrivals:
        by_step[step].append((team, member, count))
    step = 0
    total = sum(c for *_, c in arrivals)
    while len(log.admitted) < total:
        assert step < 10_000, "the queue stopped moving"
        for team, member, count in by_step.get(step, ()):
            for _ in range(count):
                pk += 1
                waiting.append(fairness.Waiting(pk, team, member, (step, pk)))
                log.arrived[pk] = step
                log.of[pk] = (team, member)
        for ends, team in [r for r in running if r[0] <= step]:
            running.remove((ends, team))
            turns.release(team)
        chosen = fairness.admission_order(waiting, turns, slots - len(running))
        for take in chosen:
            waiting.remove(take)
            log.admitted.append((step, take.pk))
            running.append((step + hold[take.pk % len(hold)], take.team))
        step += 1
    return log


def turns_between(log: Log, take: int) -> list[int]:
    """The takes let through after `take` arrived and before it was let through."""
    position = [pk for _, pk in log.admitted].index(take)
    return [pk for step, pk in log.admitted[:position] if step >= log.arrived[take]]


policy = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Any interleaving: up to 12 arrivals of 1-12 takes, 1-5 slots, task lengths of 1-6 steps.
scenarios = given(
    st.lists(arrival, min_size=1, max_size=12),
    st.integers(1, 5),
    st.lists(st.integers(1, 6), min_size=1, max_size=5),
)


@policy
@scenarios
def test_no_waiting_take_is_skipped_forever(arrivals, slots, hold):
    log = play(arrivals, slots=slots, hold=hold)
    assert sorted(pk for _, pk in log.admitted) == sorted(log.arrived)


@policy
@scenarios
def test_another_team_gets_at_most_one_turn_more_than_mine(arrivals, slots, hold):
    """While a take waits, any other team is let through at most once more than the take's
    own team: a team with one take waits behind at most one take of each other team."""
    log = play(arrivals, slots=slots, hold=hold)
    for take, (team, _member) in log.of.items():
        counts: dict[int, int] = defaultdict(int)
        for pk in turns_between(log, take):
            counts[log.of[pk][0]] += 1
        own = counts.pop(team, 0)
        for other, turns in counts.items():
            assert turns <= own + 1, (take, team, other, turns, own)


@policy
@scenarios
def test_members_of_a_team_take_turns_and_each_members_takes_go_oldest_first(arrivals, slots, hold):
    log = play(arrivals, slots=slots, hold=hold)
    for take, (team, member) in log.of.items():
        counts: dict[int, int] = defaultdict(int)
        for pk in turns_between(log, take):
            if log.of[pk][0] == team:
                counts[log.of[pk][1]] += 1
        own = counts.pop(member, 0)
        assert all(turns <= own + 1 for turns in counts.values())
    mine: dict[tuple[int, int], list[int]] = defaultdict(list)
    for _, pk in log.admitted:
        mine[log.of[pk]].append(pk)
    assert all(pks == sorted(pks) for pks in mine.values())


@policy
@given(
    st.lists(arrival, min_size=1, max_size=10),
    st.integers(1, 5),
    st.lists(st.integers(1, 6), min_size=1, max_size=5),
    st.dictionaries(st.integers(0, 3), st.integers(1, 3), max_size=4),
)
def test_a_team_limit_holds_and_still_skips_nobody_forever(arrivals, slots, hold, limits):
    log = play(arrivals, slots=slots, hold=hold, limits=limits)
    assert sorted(pk for _, pk in log.admitted) == sorted(log.arrived)
    # Replay: at no step does a limited team have more takes running than its limit.
    running: list[tuple[int, int]] = []
    for step, pk in log.admitted:
        running = [(e, t) for e, t in running if e > step]
        team = log.of[pk][0]
        running.append((step + hold[pk % len(hold)], team))
        if team in limits:
            assert sum(1 for _, t in running if t == team) <= limits[team]
        assert len(running) <= slots


def test_one_members_two_hundred_variations_hold_up_another_team_by_one_turn():
    """The issue's case: team 0 queues 200 at once, teams 1 and 2 then send 5 each."""
    arrivals = [(0, 0, 0, 200), (1, 1, 0, 5), (1, 2, 0, 5)]
    log = play(arrivals, slots=5, hold=[20])
    order = [pk for _, pk in log.admitted]
    late = [pk for pk, (team, _) in log.of.items() if team in (1, 2)]
    # The first five of team 0 took every slot at step 0; from the next free slot on, the
    # three teams alternate, so the last of the late ten starts within five rounds of turns.
    assert max(order.index(pk) for pk in late) < 5 + 3 * 5
    assert max(step for step, pk in log.admitted if pk in late) <= 20 * 4


def test_the_simulation_says_when_a_take_should_start():
    waiting = [fairness.Waiting(n, 0, 0, (0, n)) for n in range(1, 6)]
    waiting.append(fairness.Waiting(99, 1, 0, (1, 99)))
    running = [fairness.Running(0, 10.0), fairness.Running(0, 30.0)]
    starts = fairness.simulate(waiting, fairness.Turns(), running, slots=2, hold=60.0)
    assert starts[1] == 10.0  # team 0 was never let through: its oldest goes first
    assert starts[99] == 30.0  # then team 1's only take, at the next free slot
    assert starts[2] == 70.0
    assert list(starts)[:2] == [1, 99]
    only = fairness.simulate(waiting, fairness.Turns(), running, slots=2, hold=60.0, until=99)
    assert list(only) == [1, 99]


# -- on real rows: takes_admit, positions and budgets ------------------------------------------


@pytest.fixture
def teams(db, monkeypatch, settings):
    """Team A (alice, bob) and team B (dave), each with a project; dispatch recorded."""
    settings.MAX_ACTIVE_EDITS = 2
    sent: list[int] = []
    monkeypatch.setattr(common, "dispatch", lambda task, take_id: sent.append(take_id))
    alice, bob, dave = (make_user(f"{n}@example.com", n.title()) for n in ("alice", "bob", "dave"))
    a, b = Team.objects.create(name="A"), Team.objects.create(name="B")
    join(alice, a, Role.OWNER)
    join(bob, a, Role.EDITOR)
    join(dave, b, Role.OWNER)
    pa = Project.objects.create(team=a, name="PA", created_by=alice)
    pb = Project.objects.create(team=b, name="PB", created_by=dave)
    clip_row(pa), clip_row(pb)
    people = {"alice": alice, "bob": bob, "dave": dave}
    return people | {"A": a, "B": b, "pa": pa, "pb": pb, "sent": sent}


def submit(project, author, count=1):
    made = []
    for _ in range(count):
        made.append(
            create.take_create(
                project=project,
                author=author,
                clip=Clip.objects.filter(project=project).first(),
                parameters=EditParameters(prompt="clay"),
                start=0,
                length=3,
            )
        )
    return made


def finish(take):
    take.refresh_from_db()
    take.fire(Trigger.CANCEL, "done") or take.fire(Trigger.PREPARE_FAILED, "done")


@pytest.mark.django_db
def test_the_scheduler_lets_teams_and_members_through_in_turns(teams):
    a_bob = submit(teams["pa"], teams["bob"], 6)
    a_alice = submit(teams["pa"], teams["alice"], 2)
    b = submit(teams["pb"], teams["dave"], 2)
    order = []
    for _ in range(5):  # two slots, ten takes
        assert driver.takes_admit() == 2
        now = Take.objects.filter(state=TakeState.PREPARING).order_by("admitted_at")
        for take in now:
            if take.pk not in order:
                order.append(take.pk)
            finish(take)
    groups = (("bob", a_bob), ("alice", a_alice), ("dave", b))
    who = {t.pk: name for name, group in groups for t in group}
    names = [who[pk] for pk in order]
    # A's oldest (bob) first, then B (never let through), then A's other member, then B...
    assert names[:6] == ["bob", "dave", "alice", "dave", "bob", "alice"]
    assert teams["sent"] == order[: len(teams["sent"])]
    a_turn = Team.objects.get(pk=teams["A"].pk).last_admitted_at
    assert a_turn is not None
    assert Membership.objects.get(team=teams["A"], user=teams["alice"]).last_admitted_at


@pytest.mark.django_db
@pytest.mark.parametrize("gone", ["removed from the team", "account deleted"])
def test_a_departed_members_queued_takes_still_take_turns_with_the_others(teams, settings, gone):
    """Their takes stay queued, but no Membership keeps their turn: it must not reset."""
    settings.MAX_ACTIVE_EDITS = 1
    bobs = submit(teams["pa"], teams["bob"], 4)
    alices = submit(teams["pa"], teams["alice"], 2)
    if gone == "account deleted":
        teams["bob"].delete()
    else:
        Membership.objects.filter(team=teams["A"], user=teams["bob"]).delete()
    order = []
    for _ in range(6):  # one slot, one take at a time
        assert driver.takes_admit() == 1
        take = Take.objects.get(state=TakeState.PREPARING)
        order.append(take.pk)
        finish(take)
    who = {t.pk: "bob" for t in bobs} | {t.pk: "alice" for t in alices}
    assert [who[pk] for pk in order] == ["bob", "alice", "bob", "alice", "bob", "bob"]


@pytest.mark.django_db
def test_a_team_at_its_limit_waits_and_others_go_ahead(teams, settings):
    settings.MAX_ACTIVE_EDITS = 3
    Team.objects.filter(pk=teams["A"].pk).update(max_active=1)
    a = submit(teams["pa"], teams["bob"], 3)
    b = submit(teams["pb"], teams["dave"], 3)
    driver.takes_admit()
    preparing = set(Take.objects.filter(state=TakeState.PREPARING).values_list("pk", flat=True))
    assert preparing == {a[0].pk, b[0].pk, b[1].pk}
    place = queue.take_place(Take.objects.get(pk=a[1].pk))
    assert place is not None and place.starts_at is not None  # after its own take is done
    finish(a[0])
    driver.takes_admit()
    assert Take.objects.get(pk=a[1].pk).state == TakeState.PREPARING


@pytest.mark.django_db
def test_a_suspended_teams_takes_wait_with_the_reason_and_go_when_lifted(teams):
    Team.objects.filter(pk=teams["A"].pk).update(
        suspended_at=timezone.now(), suspended_reason="unpaid invoice"
    )
    # Queued before the suspension; new ones are refused.
    waiting = take_row(teams["pa"], state=TakeState.QUEUED, created_by=teams["bob"], prompt="x")
    teams["pa"].team.refresh_from_db()
    with pytest.raises(errors.Refused, match="suspended by the administrator"):
        submit(teams["pa"], teams["bob"])
    b = submit(teams["pb"], teams["dave"])
    driver.takes_admit()
    assert Take.objects.get(pk=waiting.pk).state == TakeState.QUEUED
    assert Take.objects.get(pk=b[0].pk).state == TakeState.PREPARING
    from studio.ops import health

    health.beat()
    page = client_for(teams["bob"]).get(reverse("take_status", args=[waiting.code]))
    assert "A is suspended by the administrator of this Cutroom (unpaid invoice)" in (
        page.content.decode()
    )
    Team.objects.filter(pk=teams["A"].pk).update(suspended_at=None)
    driver.takes_admit()
    assert Take.objects.get(pk=waiting.pk).state == TakeState.PREPARING


@pytest.mark.django_db
def test_a_person_sees_their_place_and_a_start_time_but_not_other_teams(teams, settings):
    from studio.ops import health

    health.beat()
    settings.MAX_ACTIVE_EDITS = 1
    submit(teams["pa"], teams["alice"], 30)  # another team's flood... from team A's owner
    mine = submit(teams["pb"], teams["dave"], 2)
    driver.takes_admit()  # one of A's takes holds the only slot
    place = queue.take_place(Take.objects.get(pk=mine[1].pk))
    assert place is not None and place.team_ahead == 1  # only dave's own first take
    assert place.starts_at is not None
    # Dave's 2nd take starts after: the running one, his first, one of A's: three holds of
    # the default 60 s (less the one running now).
    expected = timezone.now() + timedelta(seconds=3 * queue.DEFAULT_HOLD)
    assert abs((place.starts_at - expected).total_seconds()) < 10
    html = client_for(teams["dave"]).get(reverse("take_status", args=[mine[1].code]))
    text = html.content.decode()
    assert "1 of your team's takes starts before this one." in text
    place_text = re.search(r'id="queue-place">(.*?)</span></span>', text, re.S)[1]
    assert "29" not in place_text and "30" not in place_text  # A's queue stays A's business
    start_text = re.search(r'id="queue-start">(.*?)</span>', text, re.S)[1]
    assert start_text.startswith("Should start in about 2")  # minutes, less what has passed


@pytest.mark.django_db
@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    requests_=st.lists(
        st.tuples(st.sampled_from(["alice", "bob", "dave"]), st.integers(1, 4)),
        min_size=1,
        max_size=8,
    ),
    budget=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("6"), places=2),
)
def test_reservations_never_exceed_any_budget(teams, settings, requests_, budget):
    """Any sequence of submissions and variations against team, member and project budgets:
    what is accepted never sums over a budget, and a refusal makes nothing."""
    settings.STUDIO_PROVIDER = "modellix"
    with transaction.atomic():
        Team.objects.filter(pk=teams["A"].pk).update(budget_usd=budget)
        Membership.objects.filter(user=teams["bob"]).update(budget_usd=budget / 2)
        Project.objects.filter(pk=teams["pb"].pk).update(budget_usd=budget / 3)
        for name, count in requests_:
            project = teams["pb"] if name == "dave" else teams["pa"]
            project.refresh_from_db()
            project.team.refresh_from_db()
            before = Take.objects.count()
            try:
                if count == 1:
                    submit(project, teams[name])
                else:
                    _variations(project, teams[name], count)
            except budgets.OverBudget:
                assert Take.objects.count() <= before + (1 if count > 1 else 0)
            for covering in budgets.budgets_covering(project=project, author=teams[name]):
                assert covering.spent <= covering.limit, covering
        transaction.set_rollback(True)


def _variations(project, author, count):
    first = submit(project, author)[0]
    return create.take_variations(take=first, author=author, count=count - 1)
