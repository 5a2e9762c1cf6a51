"""A take whose provider this Cutroom does not know: an empty one (old rows, rows made outside
take_create) or one renamed or removed from STUDIO_PROVIDER's choices. Every page showing the
take answers, and says the provider is unknown in words instead of guessing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.models import Lineage, Project, Take, TakeState
from studio.providers.catalogue import about
from studio.review import shares
from studio.templatetags.money import take_cost
from tests.conftest import clip_row
from tests.pipeline import takes_poll

pytestmark = pytest.mark.django_db

UNKNOWN = ["", "dashscope"]  # never set, and a provider this Cutroom no longer has


@pytest.fixture
def project(team, alice):
    return Project.objects.create(team=team, name="Old rows", created_by=alice)


def make_take(project, author, provider: str, **fields) -> Take:
    return Take.objects.create(
        project=project,
        clip=fields.pop("clip", None) or clip_row(project),
        created_by=author,
        prompt="Turn the ferry into clay",
        seed=7,
        length_ms=4000,
        provider=provider,
        state=fields.pop("state", TakeState.SUCCEEDED),
        resolution="1080P",
        estimate_usd=Decimal("0.40"),
        **fields,
    )


@pytest.mark.parametrize("name", UNKNOWN)
def test_an_unknown_provider_is_described_in_words(name):
    engine = about(name)
    assert not engine.known
    assert engine.label == ("Unknown provider" if not name else f"Unknown provider ({name})")
    # Nothing is promised about it: no cancel, and no claim that it is the free local engine.
    assert engine.bills and engine.is_ai and not engine.can_cancel
    assert about("local").known and about("modellix").known


@pytest.mark.parametrize("name", UNKNOWN)
def test_every_page_showing_the_take_answers(as_bob, bob, team, project, name):
    local = make_take(project, bob, "local")
    take = make_take(project, bob, name, clip=local.clip, run_of=local, lineage=Lineage.RUN_AGAIN)
    clip = take.clip
    _, token = shares.share_create(
        take=take, author=bob, days=None, allow_download=False, show_prompt=True
    )
    pair = f"?take={local.code}&take={take.code}"
    pages = [
        reverse("team_gallery", args=[team.code]),
        reverse("team_detail", args=[team.code]),
        reverse("team_activity", args=[team.code]),
        reverse("team_usage", args=[team.code]),
        reverse("team_usage_csv", args=[team.code]),
        reverse("project_detail", args=[project.code]),
        reverse("clip_detail", args=[clip.code]),
        reverse("clip_takes", args=[clip.code]),
        reverse("take_detail", args=[take.code]),
        reverse("take_status", args=[take.code]),
        reverse("take_grid_cell", args=[take.code]),
        reverse("take_detail", args=[take.code]) + f"?with={local.code}",  # the compare
        reverse("clip_grid", args=[clip.code]) + pair,
        reverse("inbox"),
    ]
    for url in pages:
        response = as_bob.get(url)
        assert response.status_code == 200, url
    shared = as_bob.get(reverse("share_page", args=[token]))
    assert shared.status_code == 200
    assert "Made with an unknown provider" in shared.content.decode()  # and so maybe AI
    detail = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Unknown provider" in detail
    gallery = as_bob.get(reverse("team_gallery", args=[team.code])).content.decode()
    assert "unknown provider" in gallery.lower()


@pytest.mark.parametrize("name", UNKNOWN)
def test_the_cost_of_an_unknown_providers_take(bob, project, name):
    take = make_take(project, bob, name)
    assert take_cost(take) == "not known (unknown provider)"
    take.charged_usd = Decimal("0.31")
    assert take_cost(take) == "0.31 USD"  # the provider's charge is known: it is what it cost


@pytest.mark.parametrize("name", UNKNOWN)
def test_a_running_take_of_an_unknown_provider_can_be_stopped(as_bob, bob, project, name):
    take = make_take(project, bob, name, state=TakeState.RUNNING, provider_task_id="task-old-1")
    response = as_bob.post(reverse("take_cancel", args=[take.code]))
    assert response.status_code == 302
    take.refresh_from_db()
    assert take.is_final


@pytest.mark.parametrize("name", UNKNOWN)
def test_polling_such_a_take_says_why_and_stops_no_worker(bob, project, name, settings):
    settings.STUDIO_PROVIDER = "local"
    now = timezone.now()
    running = make_take(
        project,
        bob,
        name,
        state=TakeState.RUNNING,
        provider_task_id="task-old-2",
        next_check_at=now - timedelta(seconds=1),
        deadline_at=now + timedelta(hours=1),
    )
    # Polling asks about every due take in one loop: this one must not end the loop (it raised
    # ValueError), and it is asked about again later, until its deadline, in case the provider
    # comes back.
    takes_poll(now)
    running.refresh_from_db()
    assert running.state == TakeState.RUNNING and running.next_check_at > now
    assert "cannot reach it" in running.last_error
