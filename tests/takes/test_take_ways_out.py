"""The ways out of an uncertain take on its page: send it again, or adopt the provider's task;
and for a paid result in doubt: check again, try saving again. Editors act; viewers only see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.models import Activity, Take, TakeState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]
REASON = "The provider answered with an error (HTTP 504) after the edit was sent, so it may or ..."


@pytest.fixture
def uncertain(make_take) -> Take:
    """Sent once, 3 s at 1080P: about 0.35 USD."""
    return make_take(TakeState.UNCERTAIN, "modellix", reason=REASON, event="HTTP 504")


def said(response) -> list[str]:
    """The messages shown on the take page the view redirected to."""
    assert response.redirect_chain[-1][1] == 302
    return [str(m) for m in response.context["messages"]]


def page(client, take: Take) -> str:
    return client.get(reverse("take_detail", args=[take.code])).content.decode()


def test_the_page_offers_both_ways_out_to_editors_only(uncertain, as_bob, as_carol):
    html = page(as_bob, uncertain)
    assert REASON in html
    assert f'action="/k/{uncertain.code}/adopt/"' in html
    assert f'action="/k/{uncertain.code}/send-again/"' in html
    assert "Send it again as a new paid request, about 0.35 USD (estimate)" in html
    viewer = page(as_carol, uncertain)
    assert REASON in viewer and "Submission uncertain" in viewer
    assert "/adopt/" not in viewer and "/send-again/" not in viewer
    assert "An editor of this team can" in viewer


def test_send_again_needs_the_confirmation(uncertain, as_bob):
    response = as_bob.post(reverse("take_send_again", args=[uncertain.code]), follow=True)
    assert said(response) == ["Tick the box to confirm the new paid request, then send again."]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN


def test_send_again_queues_the_same_take(uncertain, as_bob):
    url = reverse("take_send_again", args=[uncertain.code])
    response = as_bob.post(url, {"confirm": "yes"}, follow=True)
    assert response.redirect_chain == [(f"/k/{uncertain.code}/", 302)]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.QUEUED and uncertain.reason == ""
    assert uncertain.finished_at is None and uncertain.submit_posts == 1  # the POST comes later
    event = uncertain.events.last()
    assert event.state == TakeState.QUEUED
    assert event.note == "Sent again by Bob: a new paid request, about 0.35 USD (estimate)"
    assert Activity.objects.filter(take=uncertain, summary__startswith="sent a take again")
    # Only once: a second click finds the take no longer uncertain.
    again = as_bob.post(url, {"confirm": "yes"}, follow=True)
    assert said(again) == ["This take is no longer waiting for a decision."]
    assert Take.objects.count() == 1


def test_send_again_refused_in_an_archived_project(uncertain, as_bob, project):
    project.archived_at = project.created_at
    project.save()
    response = as_bob.post(
        reverse("take_send_again", args=[uncertain.code]), {"confirm": "yes"}, follow=True
    )
    assert "archived" in said(response)[0]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN


def test_adopt_follows_the_task(uncertain, as_bob):
    response = as_bob.post(
        reverse("take_adopt", args=[uncertain.code]), {"task_id": "  task-abc123  "}, follow=True
    )
    assert said(response) == [
        "Cutroom now follows the provider task task-abc123 and saves its result."
    ]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.RUNNING and uncertain.provider_task_id == "task-abc123"
    assert uncertain.reason == "" and uncertain.deadline_at and uncertain.next_check_at
    assert uncertain.submit_posts == 1  # adopting pays nothing
    assert uncertain.events.last().note == "Adopted provider task task-abc123 (found by Bob)"


@pytest.mark.parametrize(
    "task_id",
    ["", "   ", "ab", "../../etc/passwd", "task abc", "task-abc?x=1", "t" * 121, "тask-1", "-abc"],
)
def test_adopt_refuses_ids_of_the_wrong_shape(uncertain, as_bob, task_id):
    response = as_bob.post(
        reverse("take_adopt", args=[uncertain.code]), {"task_id": task_id}, follow=True
    )
    (message,) = said(response)
    assert "task id" in message
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN and uncertain.provider_task_id is None


def test_adopt_refuses_an_id_another_take_follows(uncertain, as_bob, make_take):
    make_take(TakeState.RUNNING, "modellix", prompt="other", seed=2, provider_task_id="task-taken")
    response = as_bob.post(
        reverse("take_adopt", args=[uncertain.code]), {"task_id": "task-taken"}, follow=True
    )
    assert said(response) == [
        "Another take already follows the provider task “task-taken”; check the id."
    ]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN and uncertain.provider_task_id is None


def test_adopt_a_different_id_on_a_timed_out_take_is_refused(uncertain, as_bob):
    Take.objects.filter(pk=uncertain.pk).update(
        state=TakeState.TIMED_OUT, provider_task_id="task-mine"
    )
    response = as_bob.post(
        reverse("take_adopt", args=[uncertain.code]), {"task_id": "task-else"}, follow=True
    )
    assert said(response) == ["This take is no longer waiting for a decision."]
    ok = as_bob.post(
        reverse("take_adopt", args=[uncertain.code]), {"task_id": "task-mine"}, follow=True
    )
    assert said(ok)[0].startswith("Cutroom now follows the provider task task-mine")
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.RUNNING
    assert uncertain.events.last().note == "Checking provider task task-mine again (asked by Bob)"


def test_check_again_is_offered_for_a_timed_out_take(uncertain, as_bob, as_carol):
    Take.objects.filter(pk=uncertain.pk).update(
        state=TakeState.TIMED_OUT, provider_task_id="task-mine", reason="For 31 minutes…"
    )
    html = page(as_bob, uncertain)
    assert "Check again" in html and 'value="task-mine"' in html
    assert "Check again" not in page(as_carol, uncertain)


def test_save_again_downloads_the_paid_result_once_more(uncertain, as_bob, as_carol, queue):
    Take.objects.filter(pk=uncertain.pk).update(
        state=TakeState.FAILED,
        provider_task_id="task-paid",
        result_url="https://cdn.example/x.mp4",
        download_attempts=4,
        reason="The media folder (/srv/media) is full: free space there, then choose “Try "
        "saving again” on the take's page.",
    )
    assert "Try saving again" in page(as_bob, uncertain)
    assert f'action="/k/{uncertain.code}/save-again/"' not in page(as_carol, uncertain)
    response = as_bob.post(reverse("take_save_again", args=[uncertain.code]), follow=True)
    assert said(response) == ["Cutroom is fetching the result from the provider again."]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.DOWNLOADING and uncertain.download_attempts == 0
    assert queue == [("download_take", uncertain.pk)]
    again = as_bob.post(reverse("take_save_again", args=[uncertain.code]), follow=True)
    assert said(again) == ["This take has no result waiting at the provider to save."]


def test_save_again_refused_without_a_result_at_the_provider(uncertain, as_bob, queue):
    Take.objects.filter(pk=uncertain.pk).update(state=TakeState.FAILED, reason="Moderation.")
    response = as_bob.post(reverse("take_save_again", args=[uncertain.code]), follow=True)
    assert said(response) == ["This take has no result waiting at the provider to save."]
    assert queue == []


@pytest.mark.parametrize("name", ["take_send_again", "take_adopt", "take_save_again"])
def test_access(uncertain, as_carol, as_dave, as_bob, name):
    url = reverse(name, args=[uncertain.code])
    data = {"confirm": "yes", "task_id": "task-abc123"}
    assert as_dave.post(url, data).status_code == 404
    assert as_carol.post(url, data).status_code == 403
    assert as_bob.get(url).status_code == 405
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN


def test_csrf_is_required(uncertain, bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("take_adopt", args=[uncertain.code]), {"task_id": "task-x1"})
    assert response.status_code == 403
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN
