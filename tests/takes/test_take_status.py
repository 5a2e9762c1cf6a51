"""What a take's live status tells a team: its own queue, a stopped worker, a provider pause."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Team
from studio.models import Project, Take, TakeState, WorkerHeartbeat
from studio.ops import health
from studio.ops.models import Lease
from studio.takes import common, create
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, join, make_user, scheduler_lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def rival(dave):
    """Dave's own team, a stranger to alice's."""
    team = Team.objects.create(name="Rival Pictures")
    join(dave, team, Role.OWNER)
    return Project.objects.create(team=team, name="Their film", created_by=dave)


def queue_take(project, author, prompt: str = "clay") -> Take:
    return create.take_create(
        project=project,
        author=author,
        clip=None,
        parameters=EditParameters(prompt=prompt),
        start=0.0,
        length=3.0,
    )


def status_html(client, take: Take) -> str:
    return client.get(reverse("take_status", args=[take.code])).content.decode()


def queue_place(html: str) -> str:
    match = re.search(r'<span class="small" id="queue-place">(.*?)</span></span>', html, re.S)
    assert match, html
    return re.sub(r"<[^>]+>", "", match[1])


# -- item 7: the queue without other teams' activity ------------------------------------------
def test_queue_place_counts_only_the_own_teams_takes(as_bob, bob, project, rival, dave):
    health.beat()
    first = queue_take(project, bob, "first")
    for n in range(5):
        queue_take(rival, dave, f"theirs {n}")
    mine = queue_take(project, bob, "second")

    html = status_html(as_bob, mine)
    assert queue_place(html).startswith("1 of your team's takes starts before this one.")
    assert "provider's 2 shared slots" in queue_place(html)
    assert "Position" not in html and "6" not in queue_place(html)
    assert queue_place(status_html(as_bob, first)).startswith(
        "No take of your team is ahead of this one."
    )
    as_dave = client_for(dave)
    last = Take.objects.filter(project=rival).order_by("-created_at", "-pk").first()
    assert queue_place(status_html(as_dave, last)).startswith("4 of your team's takes start before")


def test_another_teams_queue_changes_nothing_on_the_page(as_bob, bob, project, rival, dave):
    health.beat()
    mine = queue_take(project, bob)
    before = queue_place(status_html(as_bob, mine))
    Take.objects.filter(pk=mine.pk).update(created_at=timezone.now())  # theirs come first
    for n in range(7):
        queue_take(rival, dave, f"theirs {n}")
    Take.objects.filter(project=rival).update(created_at=timezone.now() - timedelta(hours=1))
    assert queue_place(status_html(as_bob, mine)) == before


# -- item 6: no worker -----------------------------------------------------------------------
def test_take_page_says_when_no_worker_runs_and_keeps_polling(as_bob, bob, project):
    take = queue_take(project, bob)
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "No background worker is running, so this take cannot move on" in page
    assert "make run" in page and "supervisorctl" in page
    assert 'id="queue-place"' not in page  # no place in a queue that does not move

    html = status_html(as_bob, take)
    assert 'id="worker-down"' in html and "data-pending" in html  # live.js keeps asking
    health.beat()  # a worker starts
    html = status_html(as_bob, take)
    assert 'id="worker-down"' not in html and 'id="queue-place"' in html


def test_take_page_knows_at_once_when_the_worker_stops_cleanly(as_bob, bob, project):
    take = queue_take(project, bob)
    health.beat()
    assert 'id="worker-down"' not in status_html(as_bob, take)
    health.forget_cluster(os.getpgrp())  # what `manage.py worker` does when it stops
    assert 'id="worker-down"' in status_html(as_bob, take)


def test_take_page_calls_a_silent_worker_down_before_healthz_does(as_bob, bob, project, client):
    take = queue_take(project, bob)
    health.beat()
    WorkerHeartbeat.objects.update(
        seen_at=timezone.now() - health.worker_down_after() - timedelta(seconds=1)
    )
    assert 'id="worker-down"' in status_html(as_bob, take)
    scheduler_lease()
    assert client.get(reverse("healthz")).status_code == 200


def test_finished_takes_do_not_mention_the_worker(as_bob, bob, project):
    take = queue_take(project, bob)
    Take.objects.filter(pk=take.pk).update(state=TakeState.CANCELED)
    assert 'id="worker-down"' not in status_html(as_bob, take)


def test_project_page_says_takes_wait_for_the_worker(as_bob, bob, project):
    queue_take(project, bob)
    url = reverse("project_detail", args=[project.code])
    assert "so uploads and takes wait" in as_bob.get(url).content.decode()
    health.beat()
    assert 'id="worker-down"' not in as_bob.get(url).content.decode()


def test_pages_say_when_no_scheduler_runs_and_stop_when_one_does(as_bob, bob, project):
    """A worker alone does not move takes on: the scheduler admits and polls them."""
    take = queue_take(project, bob)
    url = reverse("project_detail", args=[project.code])
    assert 'id="scheduler-down"' not in status_html(as_bob, take)  # the worker notice comes first
    health.beat()
    html = status_html(as_bob, take)
    assert 'id="scheduler-down"' in html and "data-pending" in html
    assert "The scheduler is not running, so this take cannot move on" in html
    assert "supervisorctl -c var/supervisord.conf restart scheduler" in html
    assert "The scheduler is not running, so takes wait" in as_bob.get(url).content.decode()
    scheduler_lease()
    assert 'id="scheduler-down"' not in status_html(as_bob, take)
    assert 'id="scheduler-down"' not in as_bob.get(url).content.decode()
    Lease.release("scheduler", "tests")  # a scheduler that stopped cleanly: said at once
    assert 'id="scheduler-down"' in status_html(as_bob, take)
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED)
    assert 'id="scheduler-down"' not in status_html(as_bob, take)
    assert 'id="scheduler-down"' not in as_bob.get(url).content.decode()


# -- item 7: the provider-pause notice goes to whom it concerns ---------------------------------
@pytest.fixture
def paused(settings):
    common.provider_pause(settings.STUDIO_PROVIDER, 300, "The provider asked us to slow down.")


def notice(client) -> str | None:
    page = client.get(reverse("home"), follow=True).content.decode()
    match = re.search(r'<p [^>]*id="provider-notice">(.*?)</p>', page, re.S)
    return match[1] if match else None


def test_a_team_with_takes_waiting_sees_the_pause(as_bob, bob, project, paused):
    take = queue_take(project, bob)
    text = notice(as_bob)
    assert text and text.startswith("Your team's takes wait until")
    assert "slow down" in text
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED)
    assert notice(as_bob) is None  # nothing of theirs waits any more


def test_a_team_with_nothing_waiting_does_not_see_it(as_bob, bob, project, rival, dave, paused):
    queue_take(project, bob)
    assert notice(client_for(dave)) is None  # and so learns nothing of alice's team
    assert notice(as_bob) is not None


def test_staff_always_see_the_pause(paused):
    operator = make_user("ops@example.com", "Ops")
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    text = notice(client_for(operator))
    assert text and text.startswith("Every team's takes wait until")


def test_no_pause_no_notice(as_bob, bob, project):
    queue_take(project, bob)
    assert notice(as_bob) is None


def test_a_running_take_of_the_local_engine_offers_cancel_not_stop_waiting(
    as_bob, bob, project, settings
):
    from studio.models import Trigger

    health.beat()
    scheduler_lease()
    settings.STUDIO_PROVIDER = "local"
    take = queue_take(project, bob)
    for trigger in (Trigger.ADMIT, Trigger.PREPARED):
        assert take.fire(trigger)
    assert take.fire(Trigger.SENT, provider_task_id="local-1")
    html = status_html(as_bob, take)
    assert ">Cancel</button>" in html and "Stop waiting" not in html
    Take.objects.filter(pk=take.pk).update(provider="modellix")
    html = status_html(as_bob, take)
    assert "Stop waiting" in html and ">Cancel</button>" not in html
