"""An uncertain take in the browser: a person pastes a wrong task id, is told so, pastes the right
one, and watches Cutroom save the paid result; the POST is never repeated."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Page, expect

from studio.models import Project, TakeState
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import shot, sign_in
from tests.fake_modellix import Fault
from tests.takes.test_take_lifecycle import fake, new_take, queue, run  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def uncertain(fake, team, alice, bob, samples):  # noqa: F811
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")
    fake.script("submit", Fault(status=504, create=True))
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.UNCERTAIN
    return take


@pytest.mark.parametrize("width", [1440, 390])
def test_adopt_the_task_found_at_the_provider(
    page: Page,
    live_server,
    fake,  # noqa: F811
    uncertain,
    console_errors,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/k/{uncertain.code}/")
    expect(page.locator("#take-state")).to_have_text("Submission uncertain")
    expect(page.get_by_role("alert").first).to_contain_text("HTTP 504")
    ways_out = page.get_by_role("region", name="What now?")
    expect(ways_out).to_contain_text("about 0.35 USD (estimate)")
    shot(page, f"uncertain-{width}")

    # A wrong id: the provider does not know it; the take comes back, and says so.
    field = page.get_by_label("I found it at the provider: its task id")
    field.fill("task-nope42")
    page.get_by_role("button", name="Follow this task").click()
    expect(page.locator("#take-state")).to_have_text("Rendering")
    run(uncertain)
    page.reload()
    expect(page.locator("#take-state")).to_have_text("Submission uncertain")
    expect(page.get_by_role("alert").first).to_contain_text(
        "Cutroom could not adopt the task “task-nope42”"
    )

    # The right id, pasted with stray spaces as dashboards copy them.
    (task_id,) = fake.tasks
    page.get_by_label("I found it at the provider: its task id").fill(f" {task_id} ")
    page.get_by_role("button", name="Follow this task").click()
    expect(page.get_by_text(f"Cutroom now follows the provider task {task_id}")).to_be_visible()
    run(uncertain)
    expect(page.locator("#take-state")).to_have_text("Done", timeout=20_000)
    expect(page.locator("[data-compare] video[data-side=b]")).to_be_visible()
    expect(page.locator("#take-status")).to_contain_text(f"provider task {task_id}")
    shot(page, f"uncertain-adopted-{width}")
    assert fake.counts["submit"] == 1
    paid = fake.tasks[task_id].video
    assert uncertain.result_fetched_sha256 == hashlib.sha256(paid).hexdigest()


def test_send_it_again_asks_for_confirmation(
    page: Page,
    live_server,
    fake,  # noqa: F811
    uncertain,
    console_errors,
):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/k/{uncertain.code}/")
    button = page.get_by_role("button", name="Send it again")
    button.click()  # the browser holds the form back until the box is ticked
    expect(page.locator("#take-state")).to_have_text("Submission uncertain")
    page.get_by_label("Send it again as a new paid request, about 0.35 USD (estimate)").check()
    button.click()
    expect(page.get_by_text("The edit is queued to be sent again")).to_be_visible()
    run(uncertain)
    expect(page.locator("#take-state")).to_have_text("Done", timeout=20_000)
    assert fake.counts["submit"] == 2 and uncertain.submit_posts == 2


def test_a_viewer_sees_the_state_but_no_controls(
    page: Page,
    live_server,
    uncertain,
    carol,
    console_errors,
):
    sign_in(page, live_server.url, "carol@example.com")
    page.goto(f"{live_server.url}/k/{uncertain.code}/")
    expect(page.locator("#take-state")).to_have_text("Submission uncertain")
    expect(page.get_by_text("An editor of this team can")).to_be_visible()
    expect(page.get_by_role("button", name="Follow this task")).to_have_count(0)
    expect(page.get_by_role("button", name="Send it again")).to_have_count(0)
