"""The Modellix client on its own: the JSON it sends, how it reads replies and errors."""

from __future__ import annotations

import itertools
import time
from email.utils import formatdate

import pytest
import requests

from studio.providers.base import EditRequest, Failure, Media, ProviderError
from studio.providers.modellix import Modellix, classify, parse_status, retry_after
from studio.takes.parameters import EditParameters


@pytest.fixture
def media(tmp_path):
    video = tmp_path / "in.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom")
    image = tmp_path / "ref.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    return Media("input", "v", "file", video, "video/mp4", "in.mp4"), Media(
        "ref", "r", "image", image, "image/png", "ref.png"
    )


def test_the_json_for_every_parameter_combination(media):
    client = Modellix(api_key="k", base_url="http://x", submit_path="/", media_mode="base64")
    video, ref = media
    combos = itertools.product(
        ["720P", "1080P"],
        ["", "16:9", "9:16", "1:1", "4:3", "3:4"],
        [0, 2, 10],
        ["auto", "origin"],
        [True, False],
        ["", "blurry"],
        [0, 1, 4],
        [0, 2_147_483_647],
    )
    count = 0
    for resolution, ratio, duration, audio, extend, negative, refs, seed in combos:
        asked = EditParameters(
            prompt="粘土 clay",
            negative_prompt=negative,
            resolution=resolution,
            ratio=ratio,
            duration=duration,
            audio_setting=audio,
            prompt_extend=extend,
            seed=seed,
        )
        request = EditRequest(
            asked,
            video=video,
            references=(ref,) * refs,
        )
        body = client.body(request)
        expected = {
            "video_url": "data:video/mp4;base64,AAAAGGZ0eXBpc29t",
            "prompt": "粘土 clay",
            "resolution": resolution,
            "duration": duration,
            "audio_setting": audio,
            "prompt_extend": extend,
            "seed": seed,
        }
        if negative:
            expected["negative_prompt"] = negative
        if ratio:
            expected["ratio"] = ratio
        if refs:
            expected["reference_images"] = ["data:image/png;base64,iVBORw0KGgo="] * refs
        assert body == expected
        count += 1
    assert count == 2 * 6 * 3 * 2 * 2 * 2 * 3 * 2


def response(status: int, body: str = "", headers: dict | None = None) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made._content = body.encode()
    made.headers.update(headers or {})
    return made


@pytest.mark.parametrize(
    ("status", "paid", "failure"),
    [
        (400, True, Failure.REJECTED),
        (401, True, Failure.REJECTED),
        (402, True, Failure.REJECTED),
        (404, False, Failure.REJECTED),
        (429, True, Failure.RATE_LIMITED),
        (403, True, Failure.REJECTED),
        (413, True, Failure.REJECTED),
        (422, True, Failure.REJECTED),
        (500, True, Failure.UNCERTAIN),
        (500, False, Failure.RETRY),
        # A gateway that gave up waiting may have passed the request on: never re-sent.
        (502, True, Failure.UNCERTAIN),
        (503, True, Failure.UNCERTAIN),
        (504, True, Failure.UNCERTAIN),
        (408, True, Failure.UNCERTAIN),
        (409, True, Failure.UNCERTAIN),
        (502, False, Failure.RETRY),
        (503, False, Failure.RETRY),
        (408, False, Failure.RETRY),
    ],
)
def test_classify(status, paid, failure):
    assert classify(response(status, '{"code": 1, "message": "x"}'), paid=paid).failure == failure


def test_error_envelope_and_bare_message():
    error = classify(
        response(400, '{"code":400,"message":"Invalid parameters: prompt"}'), paid=True
    )
    assert error.message == "The provider rejected the request: Invalid parameters: prompt."
    bare = classify(response(401, '{"message":"unauthorized"}'), paid=True)
    assert "(unauthorized)" in bare.message and bare.config


def test_retry_after_forms():
    now = time.time()
    assert retry_after(response(429, headers={"Retry-After": "7"}), now) == 7
    date = formatdate(now + 30, usegmt=True)
    assert 28 <= retry_after(response(429, headers={"Retry-After": date}), now) <= 31
    assert retry_after(
        response(429, headers={"X-RateLimit-Reset": str(int(now) + 12)}), now
    ) == pytest.approx(12, abs=1)
    assert retry_after(
        response(429, headers={"X-RateLimit-Reset": str(int(now * 1000) + 5000)}), now
    ) == pytest.approx(5, abs=1)
    assert retry_after(response(429, headers={"X-RateLimit-Reset": "9"}), now) == 9
    assert retry_after(response(429, headers={"Retry-After": "soon"}), now) is None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("pending", "pending"),
        ("processing", "running"),
        ("running", "running"),
        ("SUCCESS", "succeeded"),
        ("completed", "succeeded"),
        ("succeeded", "succeeded"),
        ("failed", "failed"),
        ("error", "failed"),
        ("canceled", "failed"),
        ("cancelled", "failed"),
    ],
)
def test_every_status_spelling(status, state):
    data = {"task_id": "t", "status": status, "resources": ["https://cdn/x.mp4"]}
    assert parse_status(data, "t").state == state


def test_success_fields_and_resource_shapes():
    data = {
        "task_id": "t",
        "status": "success",
        "duration": 41230,
        "result": {
            "resources": [
                {"url": "https://cdn/a.mp4", "type": "video"},
                {"url": "https://cdn/p.png", "type": "image"},
            ]
        },
        "billing": {"status": "succeeded", "amount": "0.2400"},
        "result_expires_at": 1786000000000,
    }
    status = parse_status(data, "t")
    assert status.result_urls == ("https://cdn/a.mp4",)
    assert str(status.charged_usd) == "0.2400" and status.duration_ms == 41230
    assert status.result_expires_at.year == 2026
    assert parse_status(
        {"task_id": "t", "status": "success", "resources": ["https://cdn/b.mp4"]}, "t"
    ).result_urls == ("https://cdn/b.mp4",)


@pytest.mark.parametrize(
    "data",
    [
        {"task_id": "t", "status": "failed", "error": {"message": "why"}},
        {"task_id": "t", "status": "failed", "error": "why"},
        {"task_id": "t", "status": "failed", "message": "why"},
        {"task_id": "t", "status": "failed", "fail_reason": "why"},
    ],
)
def test_failure_reason_in_any_of_the_guessed_places(data):
    assert parse_status(data, "t").message == "why"


def test_wrong_task_or_missing_status_is_transient():
    for data in ({"task_id": "other", "status": "success"}, {"task_id": "t"}):
        with pytest.raises(ProviderError) as caught:
            parse_status(data, "t")
        assert caught.value.failure == Failure.RETRY
