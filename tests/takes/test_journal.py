"""The journal of task ids (studio/takes/journal.py): what it records, when it lets an id go,
and the retry of the database write after the paid POST. The real outage, with PostgreSQL
stopped and a worker killed, is tests/takes/test_database_outage.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError

from studio.models import Take, TakeState
from studio.takes import journal, submit
from studio.takes.models import Take as TakeModel

# Transactional: a retry closes the connection, as it must after a real outage.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.DATABASE_RETRY = timedelta(seconds=2)


def sending(make_take, **fields) -> Take:
    return make_take(
        TakeState.SUBMITTING, provider="modellix", provider_task_id=None, submit_posts=1, **fields
    )


def test_the_id_is_on_disk_before_the_database_and_gone_after(make_take, settings):
    take = sending(make_take)
    submit.sent_record(take, "task-1")
    take.refresh_from_db()
    assert take.state == TakeState.RUNNING and take.provider_task_id == "task-1"
    assert journal.journal_entries() == []


def test_a_database_that_fails_for_a_while_is_retried(make_take, monkeypatch, logs):
    take = sending(make_take)
    real_fire, failures = TakeModel.fire, []

    def flaky(self, *args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_fire(self, *args, **kwargs)

    monkeypatch.setattr(TakeModel, "fire", flaky)
    submit.sent_record(take, "task-2")
    take.refresh_from_db()
    assert take.provider_task_id == "task-2" and take.state == TakeState.RUNNING
    assert "database unreachable" in logs.text and "task-2" in logs.text


def test_a_database_gone_too_long_leaves_the_id_in_the_journal(make_take, monkeypatch):
    take = sending(make_take)

    def down(self, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(TakeModel, "fire", down)
    with pytest.raises(submit.HeldInJournal):
        submit.sent_record(take, "task-3")
    ((_, held),) = journal.journal_entries()
    assert (held.take, held.task_id, held.posts) == (take.pk, "task-3", 1)
    # The step does not call the send uncertain: the id is known, and kept.
    take.refresh_from_db()
    assert take.state == TakeState.SUBMITTING
    monkeypatch.undo()
    assert journal.journal_adopt() == 1
    take.refresh_from_db()
    assert take.state == TakeState.RUNNING and take.provider_task_id == "task-3"
    assert journal.journal_entries() == []


def test_an_uncertain_take_follows_its_held_id(make_take):
    take = sending(make_take)
    journal.journal_hold(take, "task-4")
    Take.objects.filter(pk=take.pk).update(state=TakeState.UNCERTAIN, reason="parked")
    assert journal.journal_adopt() == 1
    take.refresh_from_db()
    assert take.state == TakeState.RUNNING and take.provider_task_id == "task-4"
    assert take.reason == "" and take.finished_at is None
    assert "kept it on its disk" in take.events.get(state=TakeState.RUNNING).note


def test_a_take_sent_again_keeps_its_new_send(make_take):
    take = sending(make_take)
    journal.journal_hold(take, "task-5")
    # A person sent it again meanwhile: the second send is the one that counts.
    Take.objects.filter(pk=take.pk).update(submit_posts=2, provider_task_id="task-6")
    Take.objects.filter(pk=take.pk).update(state=TakeState.RUNNING)
    assert journal.journal_adopt() == 1
    take.refresh_from_db()
    assert take.provider_task_id == "task-6"
    assert "task-5" in take.events.latest("pk").note  # written down, not lost


def test_an_unreachable_database_keeps_every_entry(make_take, monkeypatch):
    take = sending(make_take)
    journal.journal_hold(take, "task-7")

    def down(held):
        raise OperationalError("connection refused")

    monkeypatch.setattr(journal, "held_id_adopt", down)
    assert journal.journal_adopt() == 0
    assert [held.task_id for _, held in journal.journal_entries()] == ["task-7"]


def test_an_unreadable_entry_is_left_for_a_person(settings, logs):
    folder = journal.journal_dir()
    folder.mkdir(parents=True)
    (folder / "take-1-send-1.json").write_text("{not json")
    assert journal.journal_adopt() == 0
    assert (folder / "take-1-send-1.json").exists()
    assert "cannot be read" in logs.text


def test_a_silent_send_of_the_free_engine_is_sent_again_not_parked(make_take):
    """Nothing is paid on the local engine, so a send whose step went silent is simply made
    again; a paid provider's is parked for a person (tests/takes/test_take_lifecycle.py)."""
    from datetime import timedelta

    from django.utils import timezone

    from studio.takes import driver

    past = timezone.now() - timedelta(seconds=1)
    free = make_take(
        TakeState.SUBMITTING, provider="local", provider_task_id=None, lease_until=past
    )
    paid = sending(make_take, lease_until=past)
    driver.takes_repair(timezone.now())
    free.refresh_from_db()
    paid.refresh_from_db()
    assert free.state == TakeState.PREPARING and free.reason == ""
    assert paid.state == TakeState.UNCERTAIN and paid.reason == driver.SEND_SILENT


def test_a_crash_before_the_rename_keeps_a_whole_entry_and_drops_a_scrap(make_take, monkeypatch):
    """A process killed between writing an entry and renaming it into place: written whole, the
    partial file still holds the paid id; cut short, nothing of it reached the disk."""
    take = sending(make_take)
    path, _ = journal.journal_hold(take, "task-8")
    whole = path.with_name(f".{path.name}.4242")
    path.replace(whole)
    scrap = path.with_name(".take-99-send-1.json.4243")
    scrap.write_text('{"take": 99, "co')
    Take.objects.filter(pk=take.pk).update(state=TakeState.UNCERTAIN, reason="parked")
    assert journal.journal_adopt() == 1
    take.refresh_from_db()
    assert take.state == TakeState.RUNNING and take.provider_task_id == "task-8"
    assert list(journal.journal_dir().iterdir()) == []
