"""A take's life against the fake Modellix, through the real client: faults end in the right
state, and the paid POST is made exactly once per take."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from studio.library import clips
from studio.models import LocalJob, ProviderGate, Take, TakeState
from studio.takes import create, driver, poll, submit
from tests import conftest
from tests.fake_modellix import Fault
from tests.pipeline import new_take, run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]


# tests/e2e/test_uncertain_e2e.py imports `fake, new_take, queue, run` from here, and counts on
# `queue` running for every test of its module. Both kept until it takes the fixtures from
# tests/conftest.py and the helpers from tests/pipeline.py.
fake = conftest.fake


@pytest.fixture(autouse=True)
def queue(queue):
    return queue


def test_happy_path_sends_every_parameter_once(fake, clip, bob):
    take = new_take(
        clip,
        bob,
        prompt="把场景变成粘土风格 — clay",
        negative_prompt="blurry",
        resolution="720P",
        ratio="9:16",
        duration=3,
        audio_setting="origin",
        prompt_extend=False,
        seed=42,
    )
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert fake.counts["submit"] == 1 and take.submit_posts == 1
    (_, path, body) = fake.requests[0]
    assert path == "/api/v1/alibaba/wan2.7-videoedit/async"
    assert body["video_url"].startswith(fake.url + "/media/")
    assert {k: v for k, v in body.items() if k != "video_url"} == {
        "prompt": "把场景变成粘土风格 — clay",
        "negative_prompt": "blurry",
        "resolution": "720P",
        "ratio": "9:16",
        "duration": 3,
        "audio_setting": "origin",
        "prompt_extend": False,
        "seed": 42,
    }
    assert take.result.storage.exists(take.result.name) and take.result_sha256
    assert take.charged_usd is not None and take.result_poster
    assert take.provider_calls == take.status_checks + 1
    states = list(take.events.values_list("state", flat=True))
    assert states == ["queued", "preparing", "submitting", "running", "downloading", "succeeded"]


def test_defaults_are_sent_explicitly_and_seed_is_recorded(fake, clip, bob):
    take = new_take(clip, bob)
    run(take)
    body = fake.requests[0][2]
    assert body["duration"] == 0 and body["resolution"] == "1080P"
    assert body["audio_setting"] == "auto" and body["prompt_extend"] is True
    assert "ratio" not in body and "negative_prompt" not in body
    assert body["seed"] == take.seed and not take.seed_was_chosen


def test_429_bursts_on_submit_are_retried_and_make_one_task(fake, clip, bob, settings):
    settings.TIME_SCALE = 0.01
    fake.script("submit", Fault.rate_limited(1), Fault.rate_limited(1))
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED
    # Three POSTs reached the fake; the two refused with 429 created nothing (and cost nothing).
    assert fake.counts["submit"] == 3 and take.submit_posts == 3 and len(fake.tasks) == 1


def test_500_after_sending_parks_the_take(fake, clip, bob):
    fake.script("submit", Fault(status=500))
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.UNCERTAIN
    assert "never re-sends a paid request" in take.reason
    assert fake.counts["submit"] == 1


def test_connection_dropped_after_the_task_was_created(fake, clip, bob):
    fake.script("submit", Fault(drop=True))
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.UNCERTAIN
    assert fake.counts["submit"] == 1 and len(fake.tasks) == 1


def test_429_pauses_every_call_to_the_provider(fake, clip, bob, settings):
    settings.TIME_SCALE = 0.05
    fake.script(
        "status", Fault(status=429, headers={"Retry-After": "20", "X-RateLimit-Remaining": "0"})
    )
    first, second = new_take(clip, bob), new_take(clip, bob, prompt="night")
    run(first, second)
    assert first.state == second.state == TakeState.SUCCEEDED
    gate = ProviderGate.objects.get(provider="modellix")
    assert "busy" in gate.reason
    assert fake.counts["submit"] == 2


def test_402_fails_with_a_clear_reason(fake, clip, bob):
    fake.script(
        "submit",
        Fault(status=402, body='{"code":402,"message":"Payment Required: insufficient balance"}'),
    )
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED
    assert "no credit left (Payment Required: insufficient balance)" in take.reason


def test_bad_api_key(fake, clip, bob, settings):
    settings.MODELLIX_API_KEY = "wrong"
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED and "MODELLIX_API_KEY" in take.reason


def test_malformed_and_5xx_status_replies_are_retried(fake, clip, bob):
    fake.script("status", Fault(malformed=True), Fault(status=502), Fault(body="{}", status=200))
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED
    assert fake.counts["submit"] == 1


def test_unreadable_status_replies_until_the_deadline_time_out(fake, clip, bob, settings):
    settings.EDIT_DEADLINE = timedelta(seconds=2)
    fake.outage("status", 100_000, status=0, malformed=True)
    take = new_take(clip, bob)
    run(take, seconds=60)
    assert take.state == TakeState.TIMED_OUT
    assert "could not reach the provider or read its answer" in take.reason
    assert "cannot read" in take.reason and take.provider_task_id in take.reason
    assert "HTTP 200" in take.last_error


def test_failed_task_keeps_the_providers_reason(fake, clip, bob):
    fake.fail_next_task("Content moderation flagged the input.")
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED
    assert take.reason == "Content moderation flagged the input."


def test_expired_link_is_fetched_again_once(fake, clip, bob):
    take = new_take(clip, bob)
    original = fake._status

    def expire_then_answer(handler, match, raw):
        task = fake.tasks.get(match.group(1))
        if task and not getattr(task, "armed", False):
            task.armed = True
            fake.expire_results(task.task_id, fetches=1)
        return original(handler, match, raw)

    fake._status = expire_then_answer
    run(take)
    assert take.state == TakeState.SUCCEEDED
    assert fake.counts["file"] == 2


def test_link_still_gone_ends_expired(fake, clip, bob):
    take = new_take(clip, bob)
    original = fake._status

    def expire(handler, match, raw):
        task = fake.tasks.get(match.group(1))
        if task:
            fake.expire_results(task.task_id, fetches=5)
        return original(handler, match, raw)

    fake._status = expire
    run(take)
    assert take.state == TakeState.EXPIRED
    assert not take.result


def test_never_finishing_task_times_out(fake, clip, bob, settings):
    fake.task_seconds = 3600
    settings.EDIT_DEADLINE = timedelta(seconds=1)
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.TIMED_OUT
    assert "did not finish within 0 minutes" in take.reason or "stopped waiting" in take.reason


def test_at_most_max_active_edits_at_the_provider(fake, clip, bob, settings):
    settings.MAX_ACTIVE_EDITS = 2
    fake.task_seconds = 3600
    items = [new_take(clip, bob, prompt=f"take {n}") for n in range(3)]
    driver.takes_admit()
    states = [Take.objects.get(pk=t.pk).state for t in items]
    assert states == [TakeState.PREPARING, TakeState.PREPARING, TakeState.QUEUED]


def test_cancel_before_and_stop_waiting_after_submission(fake, clip, bob):
    fake.task_seconds = 3600
    queued = new_take(clip, bob)
    assert create.take_cancel(take=queued) and queued.state == TakeState.CANCELED
    running = new_take(clip, bob)
    driver.takes_admit()
    submit.take_submit(running.pk)
    running.refresh_from_db()
    assert running.state == TakeState.RUNNING
    assert create.take_cancel(take=running)
    assert "may still finish" in running.reason


def test_run_again_copies_every_parameter(fake, clip, bob):
    take = new_take(clip, bob, seed=7, ratio="1:1", duration=2)
    again = create.take_run_again(take=take, author=bob)
    for field in ("prompt", "seed", "ratio", "duration", "start_ms", "length_ms", "resolution"):
        assert getattr(again, field) == getattr(take, field)
    assert again.run_of == take and again.seed_was_chosen


def test_base64_media_mode(fake, clip, bob, settings):
    settings.MODELLIX_MEDIA_MODE = "base64"
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED
    assert fake.requests[0][2]["video_url"].startswith("data:video/mp4;base64,")
    assert fake.counts["upload"] == 0


@pytest.mark.django_db(transaction=True)
def test_signed_url_media_mode(fake, clip, bob, settings, live_server):
    settings.MODELLIX_MEDIA_MODE = "url"
    settings.PUBLIC_URL = live_server.url
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    url = fake.requests[0][2]["video_url"]
    assert url.startswith(f"{live_server.url}/provider-media/")
    assert fake.tasks[take.provider_task_id].video == take.input_clip.file.read()


def test_signed_url_media_mode_needs_a_public_url(fake, clip, bob, settings):
    settings.MODELLIX_MEDIA_MODE = "url"
    settings.PUBLIC_URL = ""
    take = new_take(clip, bob)
    run(take)
    assert take.state == TakeState.FAILED and "STUDIO_PUBLIC_URL" in take.reason
    assert fake.counts["submit"] == 0


def test_provider_media_links(client, clip):
    from django.core import signing

    from studio.models import InputClip
    from studio.providers.base import Media
    from studio.providers.modellix import signed_media_url
    from studio.storage.signing import MEDIA_SALT

    item = clips.input_clip_prepare(clip=clip, start=0, length=2)
    assert InputClip.objects.count() == 1
    url = signed_media_url(Media("input", item.code, "file", item.file.path, "video/mp4", "x"))
    response = client.get(url, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and response["Content-Length"] == "10"
    assert client.get(url[:-3] + "abc").status_code == 404
    other = signing.dumps({"k": "clip", "c": clip.code, "v": "secret"}, salt=MEDIA_SALT)
    assert client.get(reverse("provider_media", args=[other])).status_code == 404


# Status checks run on the poller's threads, which see the engine's job rows only once committed.
@pytest.mark.django_db(transaction=True)
def test_local_engine_renders_the_parameters(clip, bob, settings):
    settings.STUDIO_PROVIDER = "local"
    take = new_take(
        clip, bob, prompt="black and white film", resolution="720P", ratio="9:16", duration=2
    )
    run(take)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert (take.result_width, take.result_height) == (720, 1280)
    assert take.result_duration == pytest.approx(2.0, abs=0.1)
    assert take.result_has_audio is True  # the engine keeps the clip's sound
    assert take.provider_task_id.startswith("local-")
    # Once the take stored its copy, the engine kept neither its record nor its file.
    assert not LocalJob.objects.exists() and not default_storage.listdir("local-engine")[1]
    # The grid thumbnail is made with the poster: 480 px wide, the result's aspect, fewer bytes.
    assert take.result_thumb.name.endswith("/poster-thumb.jpg")
    assert (take.result_thumb_width, take.result_thumb_height) == (480, 853)
    with Image.open(take.result_thumb.path) as thumb:
        assert thumb.size == (480, 853) and thumb.format == "JPEG"
    assert take.result_thumb.size < take.result_poster.size


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_cluster_killed_mid_download_still_ends_with_one_result(fake, clip, bob, tmp_path):
    """SIGKILL the whole cluster while it downloads; a new one finishes: 1 POST, 1 result file."""
    from pathlib import Path

    from django.conf import settings

    from tests.cluster import run_cluster, run_scheduler, wait_for

    release = threading.Event()  # the first download waits until the test is done with it
    fake.script("file", Fault(hang=600, hold=release))
    env = {
        "STUDIO_PROVIDER": "modellix",
        "MODELLIX_API_KEY": "test-key",
        "MODELLIX_BASE_URL": fake.url,
        "STUDIO_DOWNLOAD_ALLOW_LOOPBACK": "true",
        "STUDIO_TIME_SCALE": "0.1",
        "STUDIO_TAKE_LEASE_SECONDS": "3",
    }
    take = new_take(clip, bob)
    try:
        with run_scheduler(tmp_path, **env):
            with run_cluster(tmp_path, **env) as first:
                wait_for(lambda: fake.counts["file"] >= 1, 120, "the download to start", first)
                first.kill()
            take.refresh_from_db()
            assert take.state == TakeState.DOWNLOADING
            with run_cluster(tmp_path, **env) as second:

                def done() -> bool:
                    take.refresh_from_db()
                    return take.is_final

                wait_for(done, 120, "the take to finish", second)
    finally:
        release.set()
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert fake.counts["submit"] == 1 and take.submit_posts == 1
    folder = Path(settings.MEDIA_ROOT) / "takes" / take.project.code / take.code
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["poster-thumb.jpg", "poster.jpg", "result.mp4"]


def _lease(take: Take):
    take.refresh_from_db()
    return take.lease_until


def _scaled_defaults(fake) -> dict[str, str]:
    """The crash tests' settings: the defaults' leases and deadlines divided by ten."""
    return {
        "STUDIO_PROVIDER": "modellix",
        "MODELLIX_API_KEY": "test-key",
        "MODELLIX_BASE_URL": fake.url,
        "STUDIO_DOWNLOAD_ALLOW_LOOPBACK": "true",
        "STUDIO_TIME_SCALE": "0.1",
        "STUDIO_TAKE_LEASE_SECONDS": "6",
        "STUDIO_DOWNLOAD_STALL_SECONDS": "3",
        "STUDIO_DOWNLOAD_TIMEOUT": "30",
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_cluster_killed_while_sending_is_noticed_within_a_lease(fake, clip, bob, tmp_path):
    """SIGKILL while the paid POST waits for its answer. The renewals stop with the worker, so
    the take is uncertain one lease later (6 s here, a minute with the defaults), never sooner."""
    from tests.cluster import run_cluster, run_scheduler, wait_for

    release = threading.Event()
    fake.script("submit", Fault(create=True, hang=600, hold=release))
    env = _scaled_defaults(fake) | {"MODELLIX_READ_TIMEOUT": "600"}
    take = new_take(clip, bob)
    try:
        with run_cluster(tmp_path, **env) as first, run_scheduler(tmp_path, **env) as scheduler:
            wait_for(lambda: fake.active["submit"] == 1, 120, "the POST to hang", first)
            sending = _lease(take)
            wait_for(lambda: _lease(take) > sending, 120, "a renewal while it waits", first)
            first.kill()
            killed_at = timezone.now()
            left = _lease(take)
            assert take.state == TakeState.SUBMITTING
            assert left <= killed_at + timedelta(seconds=6)  # at most one lease left behind
            # The scheduler's repair notices the dead send (no worker is needed for that).
            wait_for(lambda: _lease(take) is None, 120, "the dead send to be noticed", scheduler)
    finally:
        release.set()
    assert take.state == TakeState.UNCERTAIN
    assert take.reason == driver.SEND_SILENT
    assert "never re-sends a paid request by itself" in take.reason
    noticed = take.events.get(state=TakeState.UNCERTAIN)
    assert noticed.note == "The sending step went silent (its lease ran out)" and noticed.at >= left
    assert fake.counts["submit"] == 1 and take.submit_posts == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_long_download_keeps_its_lease_and_is_never_taken_over(fake, clip, bob, tmp_path):
    """Bytes arrive every second for 20 s, more than three leases: the worker renews its lease,
    so the driver's repair never starts a second download of the same take."""
    from tests.cluster import run_cluster, run_scheduler, wait_for

    fake.script("file", Fault(drip=1.0, pieces=20))
    take = new_take(clip, bob)
    seen = []

    def done() -> bool:
        seen.append(_lease(take))
        return take.is_final

    env = _scaled_defaults(fake)
    with run_cluster(tmp_path, **env) as cluster, run_scheduler(tmp_path, **env):
        wait_for(lambda: fake.active["file"] == 1, 120, "the download to start", cluster)
        first = _lease(take)
        wait_for(done, 120, "the take to finish", cluster)
    assert take.state == TakeState.SUCCEEDED, take.reason
    assert max(lease for lease in seen if lease) > first + timedelta(seconds=2 * 6)
    assert fake.counts["file"] == 1 and take.download_attempts == 1
    assert fake.peak[f"file:{take.provider_task_id}"] == 1
    assert fake.counts["submit"] == 1


def test_status_hang_is_retried_and_submit_hang_is_uncertain(fake, clip, bob, settings):
    settings.MODELLIX_READ_TIMEOUT = 1
    fake.script("status", Fault(hang=1.5))
    first = new_take(clip, bob)
    run(first)
    assert first.state == TakeState.SUCCEEDED and "Timeout" in first.last_error
    fake.script("submit", Fault(hang=1.5))
    second = new_take(clip, bob)
    run(second)
    assert second.state == TakeState.UNCERTAIN
    assert fake.counts["submit"] == 2  # one each: the hung one was never re-sent


def test_a_take_that_breaks_polling_does_not_stop_the_others(fake, clip, bob, monkeypatch):
    broken, fine = new_take(clip, bob, prompt="broken"), new_take(clip, bob, prompt="fine")
    real_poll = poll.take_poll_answer

    def poll_answer(take, status):
        if take.prompt == "broken":
            raise RuntimeError("bug")
        return real_poll(take, status)

    monkeypatch.setattr(poll, "take_poll_answer", poll_answer)
    run(fine)
    broken.refresh_from_db()
    assert fine.state == TakeState.SUCCEEDED
    assert broken.state == TakeState.RUNNING and "bug" in broken.last_error


def test_a_bad_key_holds_the_queue_and_says_so(fake, clip, bob, settings, as_bob):
    settings.MODELLIX_API_KEY = "wrong"
    first, second = new_take(clip, bob), new_take(clip, bob, prompt="second")
    driver.takes_admit()
    submit.take_submit(first.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == TakeState.FAILED and "MODELLIX_API_KEY" in first.reason
    driver.takes_admit()
    second.refresh_from_db()
    assert second.state in (TakeState.QUEUED, TakeState.PREPARING)
    assert Take.objects.filter(state=TakeState.FAILED).count() == 1  # the rest wait
    page = as_bob.get(reverse("take_detail", args=[second.code])).content.decode()
    assert 'id="provider-notice"' in page and "MODELLIX_API_KEY" in page
