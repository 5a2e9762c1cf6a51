"""A queued take's page, as its team sees it: no worker running, then one; no other team's queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role, Team
from studio.models import Project
from studio.ops import health
from studio.takes import create
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, join, scheduler_lease, upload_clip
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_queued_take_says_no_worker_runs_until_one_does(
    page: Page, live_server, team, alice, bob, dave, samples, console_errors
):
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")
    rival = Team.objects.create(name="Rival Pictures")
    join(dave, rival, Role.OWNER)
    theirs = Project.objects.create(team=rival, name="Their film", created_by=dave)
    for n in range(3):  # another team's takes, queued first
        create.take_create(
            project=theirs,
            author=dave,
            clip=None,
            parameters=EditParameters(prompt=f"theirs {n}"),
            start=0,
            length=3,
        )
    take = create.take_create(
        project=project,
        author=bob,
        clip=clip,
        parameters=EditParameters(prompt="Make it clay"),
        start=0,
        length=3,
    )

    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/k/{take.code}/")
    warning = page.locator("#worker-down")
    expect(warning).to_contain_text("No background worker is running")
    expect(warning).to_contain_text("make run")
    shot(page, "take-no-worker")

    scheduler_lease()  # the scheduler runs (this test is about the worker)
    health.beat()  # a worker starts; the page notices by itself
    expect(warning).to_have_count(0, timeout=10_000)
    place = page.locator("#queue-place")
    expect(place).to_contain_text("No take of your team is ahead of this one.")
    expect(place).to_contain_text("provider's 2 shared slots")
    expect(page.locator("#queue-start")).to_contain_text("Should start")
    expect(place).not_to_contain_text("3")  # dave's team's takes stay its own business
    shot(page, "take-queued")
