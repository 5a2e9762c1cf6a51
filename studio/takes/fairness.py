"""Fair turns at the provider: which waiting take starts next (docs/takes.md "Admission: fair
turns").

The provider runs a few takes at once for the whole key (STUDIO_MAX_ACTIVE_EDITS). When takes
wait, a free slot goes round-robin across teams, then round-robin across the members of the
chosen team, then to that member's oldest waiting take:

- the team whose take was let through longest ago goes first (a team never let through goes
  before every other, oldest waiting take first); once let through, it goes behind every
  other team that waits. Members within a team take turns the same way.
- a team at its own limit of takes at the provider (Team.max_active, else
  STUDIO_TEAM_MAX_ACTIVE; none by default) is passed over, keeping its place, until one of its
  takes leaves the provider. A suspended team's takes are not offered at all.

So a take never waits behind more than one take of each other team that waits (one turn), and
no waiting take is skipped forever: every admission moves its team behind the others. When
the turns were last given is kept in the database (Team.last_admitted_at,
Membership.last_admitted_at; for takes of someone no longer in the team, their latest let
through there), so the order survives restarts and a change of scheduler.

This module is pure: the scheduler (studio.takes.driver.takes_admit) feeds it the
waiting takes and applies its choice; the take page uses `simulate` to tell a person their
place in line and when their take should start; tests/takes/test_fairness.py checks the promises as
properties over any interleaving.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# A turn key: (0, oldest waiting) for never let through, (1, when last let through) otherwise.
# Times are numbers (seconds since the epoch in the app, anything increasing in tests).
Key = tuple[int, Any]


@dataclass(frozen=True)
class Waiting:
    """A queued take, as the policy sees it."""

    pk: int
    team: int
    member: int | None
    order: Any  # (created_at, pk): oldest first within a member


@dataclass
class Turns:
    """When each team and member was last let through, and how many takes each team has at
    the provider now; `admit` records a turn as the scheduler gives it."""

    team_last: dict[int, Any] = field(default_factory=dict)
    member_last: dict[tuple[int, int | None], Any] = field(default_factory=dict)
    busy: dict[int, int] = field(default_factory=dict)
    limits: dict[int, int] = field(default_factory=dict)  # per team; absent: no limit
    clock: float = 0.0  # the last turn given; set after every stored one by `start`

    def start(self) -> Turns:
        """Make the turns given from now on later than every stored one."""
        self.clock = max([self.clock, *self.team_last.values(), *self.member_last.values()])
        return self

    def team_key(self, team: int, oldest: Any) -> Key:
        last = self.team_last.get(team)
        return (0, oldest) if last is None else (1, last)

    def member_key(self, team: int, member: int | None, oldest: Any) -> Key:
        last = self.member_last.get((team, member))
        return (0, oldest) if last is None else (1, last)

    def at_limit(self, team: int) -> bool:
        limit = self.limits.get(team)
        return limit is not None and self.busy.get(team, 0) >= limit

    def admit(self, take: Waiting) -> None:
        self.clock += 1
        self.team_last[take.team] = self.clock
        self.member_last[(take.team, take.member)] = self.clock
        self.busy[take.team] = self.busy.get(take.team, 0) + 1

    def release(self, team: int) -> None:
        self.busy[team] = max(0, self.busy.get(team, 0) - 1)


def pick(waiting: Sequence[Waiting], turns: Turns) -> Waiting | None:
    """The take that gets the next free slot, or None when every waiting team is at its
    limit (or nothing waits)."""
    by_team: dict[int, list[Waiting]] = {}
    for take in waiting:
        by_team.setdefault(take.team, []).append(take)
    open_teams = [team for team in by_team if not turns.at_limit(team)]
    if not open_teams:
        return None
    team = min(open_teams, key=lambda t: turns.team_key(t, min(w.order for w in by_team[t])))
    by_member: dict[int | None, list[Waiting]] = {}
    for take in by_team[team]:
        by_member.setdefault(take.member, []).append(take)
    member = min(
        by_member, key=lambda m: turns.member_key(team, m, min(w.order for w in by_member[m]))
    )
    return min(by_member[member], key=lambda w: w.order)


def admission_order(waiting: Sequence[Waiting], turns: Turns, free: int) -> list[Waiting]:
    """The takes to let through now into `free` slots, in order (turns is updated)."""
    turns.start()
    left = list(waiting)
    chosen: list[Waiting] = []
    while len(chosen) < free:
        take = pick(left, turns)
        if take is None:
            break
        turns.admit(take)
        left.remove(take)
        chosen.append(take)
    return chosen


@dataclass(frozen=True)
class Running:
    team: int
    ends_in: float  # seconds from now until it leaves its slot (an estimate)


def simulate(
    waiting: Sequence[Waiting],
    turns: Turns,
    running: Sequence[Running],
    *,
    slots: int,
    hold: float,
    until: int | None = None,
) -> dict[int, float]:
    """When each waiting take should start, in seconds from now, if nothing else is sent and
    every take holds its slot for `hold` seconds: the policy played forward (only as far as
    the take `until` when given)."""
    turns.start()
    free_at: list[tuple[float, int, int | None]] = []  # (when, seq, team or None)
    seq = 0
    for run in running:
        heapq.heappush(free_at, (max(0.0, run.ends_in), seq, run.team))
        seq += 1
    for _ in range(max(0, slots - len(running))):
        heapq.heappush(free_at, (0.0, seq, None))
        seq += 1
    left = list(waiting)
    starts: dict[int, float] = {}
    while left and free_at:
        now, _, team = heapq.heappop(free_at)
        if team is not None:
            turns.release(team)
        take = pick(left, turns)
        if take is None:  # every waiting team is at its limit: wait for the next release
            if not any(t is not None for _, _, t in free_at):
                break  # nothing of theirs will ever leave: cannot say
            heapq.heappush(free_at, (_next_release(free_at), seq, None))
            seq += 1
            continue
        turns.admit(take)
        left.remove(take)
        starts[take.pk] = now
        if take.pk == until:
            break
        heapq.heappush(free_at, (now + hold, seq, take.team))
        seq += 1
    return starts


def _next_release(free_at: list[tuple[float, int, int | None]]) -> float:
    return min(when for when, _, team in free_at if team is not None)
