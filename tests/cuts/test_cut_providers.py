"""A cut works with every way Modellix gets its input and every storage: each window's request
(the window and its handles, in the source's shape) reaches the provider as an uploaded file or
as a signed link it fetches, from local files or a bucket, and the render then uses the results.
(The local engine and the 40 s clip end to end: tests/cuts/test_long_clip.py.)"""

from __future__ import annotations

import pytest

from studio.cuts import renders, services
from studio.cuts.models import RenderState
from studio.media.probe import probe
from studio.models import TakeState
from studio.storage.files import local_copy
from studio.takes.parameters import EditParameters
from tests import pipeline
from tests.conftest import upload_clip


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("mode", "storage"), [("upload", "local"), ("url", "local"), ("url", "s3")]
)
def test_every_window_reaches_modellix_and_the_cut_renders(
    mode, storage, request, fake, settings, live_server, as_bob, project, samples, bob, queue,
    tmp_path,
):  # fmt: skip
    if storage == "s3":
        request.getfixturevalue("s3")
    settings.MODELLIX_MEDIA_MODE = mode
    settings.PUBLIC_URL = live_server.url
    clip = upload_clip(as_bob, project, samples["cut-25.mp4"])  # 9 s, 25 fps, 480x270
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    windows = [
        services.window_add(cut=cut, start=1.0, end=3.0),
        services.window_add(cut=cut, start=5.0, end=7.0),
    ]
    takes = services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay", resolution="720P")
    )
    pipeline.run(*takes)
    assert all(t.state == TakeState.SUCCEEDED for t in takes), [t.reason for t in takes]
    assert fake.counts["submit"] == 2 and all(t.submit_posts == 1 for t in takes)
    # What the provider got for each window: the window with a second of the source each side.
    for take, window in zip(takes, windows, strict=True):
        body = fake.tasks[take.provider_task_id]
        sent = tmp_path / f"{take.code}.mp4"
        sent.write_bytes(body.video)
        assert probe(sent, max_seconds=60).duration == pytest.approx(window.length + 2.0, abs=0.05)
        services.window_choose(window=window, take=take)
    if mode == "url":  # signed links the provider fetched: Cutroom's own, or the bucket's
        links = [body["video_url"] for kind, _, body in fake.requests if kind == "submit" and body]
        assert len(links) == 2
        for link in links:
            if storage == "s3":
                assert "X-Amz-Signature=" in link and "/studio/clips/" in link, link
            else:
                assert link.startswith(f"{live_server.url}/provider-media/"), link
    made = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(made.pk)
    made.refresh_from_db()
    assert made.state == RenderState.READY, made.reason
    with local_copy(made.file) as path:
        assert probe(path, max_seconds=60).duration == pytest.approx(9.0, abs=0.05)
    assert made.frames == 225
