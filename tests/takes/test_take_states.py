"""The take's state machine (studio.takes.lifecycle.TAKE_TRANSITIONS): every legal move works, every
illegal one is refused and changes nothing, and the Take methods are the only writers."""

from __future__ import annotations

import ast
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from studio.models import (
    FINAL_TAKE_STATES,
    GUARDED_TAKE_FIELDS,
    Activity,
    Take,
    TakeEvent,
    TakeState,
    Trigger,
)
from studio.takes.lifecycle import TAKE_TRANSITIONS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def take_in(make_take):
    """take_in(state): a take in `state` whose counters start from zero."""
    return lambda state: make_take(state, provider_calls=0, submit_posts=0, status_checks=0)


def snapshot(take: Take) -> dict[str, object]:
    row = Take.objects.filter(pk=take.pk).values().get()
    return row | {"events": take.events.count(), "activity": Activity.objects.count()}


def test_every_trigger_has_a_move_and_every_state_is_reached():
    assert set(TAKE_TRANSITIONS) == set(Trigger)
    reached = {move.target for move in TAKE_TRANSITIONS.values()} | {TakeState.QUEUED}
    assert reached == set(TakeState)


@pytest.mark.parametrize("trigger", list(Trigger))
def test_a_legal_move_changes_the_state_and_records_it(take_in, trigger):
    move = TAKE_TRANSITIONS[trigger]
    for source in move.sources:
        take = take_in(source)
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
def test_an_illegal_move_is_refused_and_changes_nothing(take_in, trigger):
    illegal = [state for state in TakeState if state not in TAKE_TRANSITIONS[trigger].sources]
    assert illegal
    for state in illegal:
        take = take_in(state)
        before = snapshot(take)
        assert not take.fire(trigger, "should not happen", reason="no", count=["submit_posts"])
        assert snapshot(take) == before, (trigger, state)
        assert take.state == state


def test_counters_add_up_in_the_database_not_from_a_stale_copy(take_in):
    take = take_in(TakeState.RUNNING)
    stale = Take.objects.get(pk=take.pk)
    assert take.record(while_in=TakeState.RUNNING, count=["status_checks", "provider_calls"])
    assert stale.record(while_in=TakeState.RUNNING, count=["status_checks", "provider_calls"])
    take.refresh_from_db()
    assert (take.status_checks, take.provider_calls) == (2, 2)


def test_record_changes_only_a_take_still_in_its_state_and_never_the_state(take_in):
    take = take_in(TakeState.CANCELED)
    assert not take.record(while_in=TakeState.RUNNING, progress=0.5)
    assert take.record(while_in=None, progress=0.5)
    with pytest.raises(ValueError, match="fire"):
        take.record(while_in=None, state=TakeState.RUNNING)
    with pytest.raises(ValueError, match="fire"):
        take.record(while_in=None, lease_until=None)


def test_a_lease_is_claimed_once_and_renewed_only_by_its_holder(take_in):
    take = take_in(TakeState.DOWNLOADING)
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


def test_a_note_keeps_the_state(take_in):
    take = take_in(TakeState.RUNNING)
    take.note("The provider answers again")
    assert list(TakeEvent.objects.filter(take=take).values_list("state", "note")) == [
        ("running", "The provider answers again")
    ]


def test_a_named_lease_has_one_holder_until_it_runs_out_or_is_released(db):
    from studio.ops.models import Lease

    assert Lease.holder("scheduler") is None
    assert Lease.acquire("scheduler", "host-a", 30)
    assert not Lease.acquire("scheduler", "host-b", 30)  # held by a
    assert Lease.acquire("scheduler", "host-a", 30)  # a renews
    assert Lease.holder("scheduler").owner == "host-a"
    Lease.release("scheduler", "host-b")  # only the owner can
    assert Lease.holder("scheduler").owner == "host-a"
    Lease.release("scheduler", "host-a")
    assert Lease.holder("scheduler") is None
    assert Lease.acquire("scheduler", "host-b", 30)
    Lease.objects.filter(name="scheduler").update(until=timezone.now() - timedelta(seconds=1))
    assert Lease.holder("scheduler") is None  # it ran out: b died
    assert Lease.acquire("scheduler", "host-a", 30)
    assert Lease.acquire("driver", "host-b", 30)  # another name, another lease


ROW_SETS = (".objects", "_default_manager", ".filter(", ".exclude(")


def _is_rows(expression: ast.expr, row_names: set[str]) -> bool:
    """Whether an expression is a queryset: a manager chain, or a name assigned from one."""
    if isinstance(expression, ast.Name):
        return expression.id in row_names
    return any(marker in ast.unparse(expression) for marker in ROW_SETS)


def _writes_outside_the_models(paths: list[Path] | None = None) -> list[str]:
    """Every place in the source tree, outside the domains' models modules (studio/<domain>/
    models.py), that writes a guarded field of a row (state, lease, counters: `.update(state=...)`
    and the like, `take.state = ...`) or records a TakeEvent. Dictionaries (the local engine's job
    files) are not rows."""
    found = []
    if paths is None:
        paths = sorted([*ROOT.glob("studio/**/*.py"), *ROOT.glob("accounts/**/*.py")])
    for path in paths:
        if path.name == "models.py" or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        row_names = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _is_rows(node.value, set())
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                named = {k.arg for k in node.keywords} & set(GUARDED_TAKE_FIELDS)
                writes = node.func.attr in ("update", "create", "update_or_create")
                if writes and named and _is_rows(node.func.value, row_names):
                    found.append(f"{where}:{node.lineno}: {node.func.attr}({', '.join(named)})")
                called = ast.unparse(node.func)
                event_write = called.startswith("TakeEvent.objects") and node.func.attr in (
                    "create",
                    "bulk_create",
                    "get_or_create",
                    "update",
                    "update_or_create",
                    "delete",
                )
                if event_write or called.startswith("TakeEvent("):
                    found.append(f"{where}:{node.lineno}: {called}")
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in GUARDED_TAKE_FIELDS:
                    found.append(f"{where}:{node.lineno}: .{target.attr} =")
    return found


def test_only_the_models_change_state_leases_and_counters():
    assert _writes_outside_the_models() == []


def test_the_check_finds_a_raw_write(tmp_path):
    bad = tmp_path / "raw_write.py"
    bad.write_text(
        "from studio.models import Take, TakeEvent\n"
        "Take.objects.filter(pk=1).update(state='failed')\n"
        "rows = Take.objects.filter(pk=1)\n"
        "rows.update(provider_calls=2)\n"
        "TakeEvent.objects.create(take_id=1, state='failed')\n"
        "take = Take()\n"
        "take.lease_until = None\n"
        "job = {}\n"
        "job.update(state='failed')\n"  # a dictionary, not a row
    )
    found = _writes_outside_the_models([bad])
    assert sorted(line.split(": ", 1)[1] for line in found) == [
        ".lease_until =",
        "TakeEvent.objects.create",
        "create(state)",
        "update(provider_calls)",
        "update(state)",
    ]


def test_the_docs_chart_is_the_one_printed_from_the_table():
    out = StringIO()
    call_command("take_states", stdout=out)
    printed = out.getvalue()
    docs = (ROOT / "docs" / "takes.md").read_text()
    begin, end = printed.splitlines()[0], printed.splitlines()[-1]
    assert docs.count(begin) == 1 and docs.count(end) == 1
    shown = docs[docs.index(begin) : docs.index(end) + len(end)] + "\n"
    assert shown == printed
    for trigger, move in TAKE_TRANSITIONS.items():
        for source in move.sources:
            assert f"    {source} --> {move.target}: {trigger}\n" in shown
