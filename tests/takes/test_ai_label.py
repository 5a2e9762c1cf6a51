"""The labelled download (studio/takes/labelled.py): while a team asks for labels, an AI take's
downloads are a copy of its result with the "AI-generated" label burned in and signed, made in
the worker; the provider's bytes stay for playback. And the provider's own AI mark on the take
form (EditParameters.watermark)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av
import pytest
from django.urls import reverse
from PIL import ImageChops, ImageStat

from studio.media.label import label_box
from studio.models import Take
from studio.provenance.manifests import AI_MEDIA, LABEL_WORDS, manifest_read
from studio.providers.modellix import Modellix
from studio.review import shares
from studio.takes import labelled
from tests.conftest import post_take
from tests.samples import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def result_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("label")
    return make_video(folder / "result.mp4", seconds=0.5, width=320, height=180).read_bytes()


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def download(client: Any, take: Take, **extra: str) -> Any:
    query = {"download": "1", **extra}
    return client.get(reverse("media_file", args=["take", take.code, "result"]), query)


def labelled_part(client: Any, take: Take) -> str:
    response = client.get(reverse("take_label_status", args=[take.code]))
    assert response.status_code == 200
    return response.content.decode()


def corner_change(a: bytes, b: bytes, tmp: Path) -> float:
    (tmp / "a.mp4").write_bytes(a)
    (tmp / "b.mp4").write_bytes(b)
    with av.open(str(tmp / "a.mp4")) as x, av.open(str(tmp / "b.mp4")) as y:
        first_a = next(x.decode(video=0)).to_image().convert("L")
        first_b = next(y.decode(video=0)).to_image().convert("L")
    box = label_box(320, 180)
    return ImageStat.Stat(ImageChops.difference(first_a.crop(box), first_b.crop(box))).mean[0]


@pytest.fixture
def ai_take(make_take: Any, team: Any, result_bytes: bytes) -> Take:
    team.ai_label_downloads = True
    team.save(update_fields=["ai_label_downloads"])
    return make_take(provider="modellix", result=result_bytes)


def test_an_ai_download_is_its_labelled_signed_copy_made_in_the_worker(
    ai_take, as_alice, as_bob, result_bytes, tmp_path
):
    take = ai_take
    # The page asks for the copy (an older take has none) and says in words it is being made.
    part = labelled_part(as_bob, take)
    take.refresh_from_db()
    assert take.labelled_state == "working"
    assert "data-pending" in part and "Making the download with the “AI-generated” label" in part
    # No unlabelled file is handed out meanwhile: a download says why in words.
    waiting = download(as_bob, take)
    assert waiting.status_code == 409 and "being made" in waiting.content.decode()

    labelled.take_label(take_id=take.pk)
    take.refresh_from_db()
    assert take.labelled_state == "ready" and take.labelled_unsigned == ""
    part = labelled_part(as_bob, take)
    assert "data-pending" not in part and "with the “AI-generated” label" in part
    assert "without the label" not in part  # editors get the labelled copy only
    got = body(download(as_bob, take))
    assert got == Path(take.labelled_file.path).read_bytes() != result_bytes
    assert corner_change(result_bytes, got, tmp_path) > 25
    # The provider's bytes stay for playback.
    playing = as_bob.get(reverse("media_file", args=["take", take.code, "result"]))
    assert body(playing) == result_bytes
    # Signed: a label burned into the result, named by its hash; still AI.
    credentials = manifest_read(Path(take.labelled_file.path))
    assert credentials is not None and credentials.valid
    edited = [a for a in credentials.actions if a.action == "c2pa.edited"]
    assert edited and edited[0].description == LABEL_WORDS
    assert edited[0].digital_source_type == AI_MEDIA and credentials.made_with_ai
    parent = credentials.ingredients[0]
    assert parent.relationship == "parentOf"
    assert parent.sha256 == hashlib.sha256(result_bytes).hexdigest()
    # The team's owners may still take the original, said to be without the label.
    assert "Download the original, without the label" in labelled_part(as_alice, take)
    original = download(as_alice, take, original="1")
    assert body(original) == result_bytes
    assert "-original.mp4" in original["Content-Disposition"]
    assert body(download(as_bob, take, original="1")) != result_bytes


def test_a_failed_copy_says_why_and_tries_again_never_handing_out_the_original(
    make_take, team, as_carol
):
    team.ai_label_downloads = True
    team.save(update_fields=["ai_label_downloads"])
    take = make_take(provider="modellix", result=b"not a video at all")
    labelled_part(as_carol, take)
    labelled.take_label(take_id=take.pk)
    take.refresh_from_db()
    assert take.labelled_state == "failed"
    assert "not a video Cutroom can use" in take.labelled_reason
    refused = download(as_carol, take)
    text = refused.content.decode()
    assert refused.status_code == 409 and "The labelled copy could not be made:" in text
    part = labelled_part(as_carol, take)
    assert "The labelled copy could not be made:" in part and "Try again" in part
    # Viewing again does not retry by itself; "Try again" does (any member may).
    take.refresh_from_db()
    assert take.labelled_state == "failed"
    assert as_carol.post(reverse("take_label", args=[take.code])).status_code == 302
    take.refresh_from_db()
    assert (take.labelled_state, take.labelled_reason) == ("working", "")


def test_no_label_for_the_local_engine_nor_with_the_option_off(
    make_take, team, as_bob, result_bytes
):
    team.ai_label_downloads = True
    team.save(update_fields=["ai_label_downloads"])
    local = make_take(provider="local", result=result_bytes)
    assert body(download(as_bob, local)) == result_bytes
    assert 'data-labelled="not-needed"' in labelled_part(as_bob, local)
    local.refresh_from_db()
    assert local.labelled_state == ""
    team.ai_label_downloads = False
    team.save(update_fields=["ai_label_downloads"])
    ai = make_take(provider="modellix", result=result_bytes)
    assert body(download(as_bob, ai)) == result_bytes
    ai.refresh_from_db()
    assert ai.labelled_state == ""


def test_a_share_link_download_is_the_labelled_copy(ai_take, bob, client, result_bytes):
    _, token = shares.share_create(
        take=ai_take, author=bob, days=1, allow_download=True, show_prompt=False
    )
    page = client.get(reverse("share_page", args=[token])).content.decode()
    assert "being made" in page and "Reload this page" in page
    url = reverse("share_media", args=[token, "result"])
    assert client.get(url, {"download": "1"}).status_code == 409
    labelled.take_label(take_id=ai_take.pk)
    page = client.get(reverse("share_page", args=[token])).content.decode()
    assert "Download the video" in page and "with the “AI-generated” label" in page
    got = body(client.get(url, {"download": "1"}))
    assert (
        got != result_bytes
        and got == Path(Take.objects.get(pk=ai_take.pk).labelled_file.path).read_bytes()
    )
    assert body(client.get(url)) == result_bytes  # the player gets the provider's bytes


def test_a_take_that_succeeds_gets_its_labelled_copy_queued(
    ai_take, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr(labelled, "_enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        labelled.label_on_take_ended(take=ai_take)
        labelled.label_on_take_ended(take=ai_take)  # delivered twice: queued once
    assert queued == [ai_take.pk]


# -- the provider's own AI mark -----------------------------------------------------------------


def test_the_take_form_says_in_words_when_the_provider_has_no_mark_and_refuses_one(
    fake, as_bob, clip
):
    page = as_bob.get(reverse("take_new", args=[clip.code])).content.decode()
    assert 'id="watermark-note"' in page and "Modellix does not offer" in page
    assert 'name="watermark"' not in page
    response = post_take(as_bob, clip, watermark="on")
    assert response.status_code == 400  # the form again, with the reason by the box
    assert "cannot add its own AI mark" in response.content.decode()
    assert not Take.objects.exists()
    assert not [r for r in fake.requests if r[0] == "submit"]


def test_a_provider_with_the_mark_is_asked_for_it_and_the_take_keeps_it(
    fake, as_bob, clip, monkeypatch, queue
):
    monkeypatch.setattr(Modellix, "watermark", True)
    page = as_bob.get(reverse("take_new", args=[clip.code])).content.decode()
    assert 'name="watermark"' in page and "to add its own AI mark" in page
    response = post_take(as_bob, clip, watermark="on")
    assert response.status_code == 302
    take = Take.objects.get()
    assert take.watermark and take.parameters.watermark
    facts = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Provider's AI mark</dt><dd>asked for" in facts
    from tests import pipeline

    pipeline.run(take)
    submitted = [body for kind, _, body in fake.requests if kind == "submit"]
    assert submitted and submitted[-1] is not None and submitted[-1]["watermark"] is True


def test_a_zip_of_takes_packs_the_labelled_copy_or_says_why_not(ai_take, make_take, result_bytes):
    import io
    import zipfile

    from studio.takes.bulk import LABELLING, Outcome, takes_zip

    plain = make_take(provider="local", result=result_bytes)  # not AI: packed as it is
    stream, outcome = takes_zip(takes=Outcome(done=[ai_take, plain]))
    assert outcome.refused == [(ai_take.list_name, LABELLING)]
    labelled.take_label(take_id=ai_take.pk)
    ai_take.refresh_from_db()
    stream, outcome = takes_zip(takes=Outcome(done=[ai_take]))
    packed = zipfile.ZipFile(io.BytesIO(b"".join(stream)))
    assert packed.read(packed.namelist()[0]) == Path(ai_take.labelled_file.path).read_bytes()


def test_an_export_or_render_made_before_labels_is_not_handed_out_unlabelled(
    ai_take, as_bob, alice, bob, client, project, samples
):
    from django.core.files.base import ContentFile

    from studio.models import CutRender
    from tests.cuts.rows import render_row

    ai_take.export_file.save("takes/x/side-by-side.mp4", ContentFile(b"old export"), save=False)
    Take.objects.filter(pk=ai_take.pk).update(
        export_state="ready", export_file=ai_take.export_file.name
    )
    export = as_bob.get(
        reverse("media_file", args=["take", ai_take.code, "export_file"]), {"download": "1"}
    )
    assert export.status_code == 409 and "Export it again" in export.content.decode()
    page = as_bob.get(reverse("take_export_status", args=[ai_take.code])).content.decode()
    assert "Export side-by-side again, with the label" in page
    Take.objects.filter(pk=ai_take.pk).update(export_labelled=True)
    assert (
        body(
            as_bob.get(
                reverse("media_file", args=["take", ai_take.code, "export_file"]), {"download": "1"}
            )
        )
        == b"old export"
    )

    render = render_row(project, alice, samples)
    render.cut.project.takes.update(provider="modellix")
    render = CutRender.objects.get(pk=render.pk)
    url = reverse("media_file", args=["render", render.code, "file"])
    refused = as_bob.get(url, {"download": "1"})
    assert refused.status_code == 409 and "Render the cut again" in refused.content.decode()
    assert as_bob.get(url).status_code == 200  # playing it is not a download
    detail = as_bob.get(reverse("render_detail", args=[render.cut.code, render.number]))
    assert "render the cut again to download it with the label" in detail.content.decode()
    _, token = shares.share_create(
        render=render, author=bob, days=1, allow_download=True, show_prompt=False
    )
    shared = client.get(reverse("share_page", args=[token])).content.decode()
    assert "can be downloaded once they have rendered it again" in shared
    media = reverse("share_media", args=[token, "result"])
    assert client.get(media, {"download": "1"}).status_code == 409
    CutRender.objects.filter(pk=render.pk).update(ai_labelled=True)
    assert as_bob.get(url, {"download": "1"}).status_code == 200


def test_a_cut_zip_with_media_packs_labelled_takes_or_says_why_not(
    team, alice, as_bob, project, samples
):
    import io
    import zipfile

    from django.core.files.base import ContentFile

    from tests.cuts.rows import render_row

    team.ai_label_downloads = True
    team.save(update_fields=["ai_label_downloads"])
    render = render_row(project, alice, samples)
    takes = list(render.cut.project.takes.all())
    render.cut.project.takes.update(provider="modellix")
    url = reverse("cut_export", args=[render.cut.code, "zip"])
    refused = as_bob.get(url, follow=True).content.decode()
    assert "being made" in refused and "Download the zip again in a moment" in refused
    # The timelines alone hand out no video: they are not held back.
    assert as_bob.get(reverse("cut_export", args=[render.cut.code, "edl"])).status_code == 200
    for take in takes:
        take.labelled_file.save(f"l/{take.code}.mp4", ContentFile(b"labelled"), save=False)
        Take.objects.filter(pk=take.pk).update(
            labelled_state="ready", labelled_file=take.labelled_file.name
        )
    packed = zipfile.ZipFile(io.BytesIO(b"".join(as_bob.get(url).streaming_content)))
    videos = [n for n in packed.namelist() if "-w" in n and n.endswith(".mp4")]
    assert len(videos) == 2 and all(packed.read(n) == b"labelled" for n in videos)


def test_run_again_of_a_take_that_asked_for_the_mark_is_refused_where_none_is_offered(
    make_take, clip, bob
):
    from studio.core.errors import Refused
    from studio.takes import create

    asked = make_take(clip=clip, watermark=True)  # made where the mark was offered
    assert asked.parameters.watermark
    with pytest.raises(Refused, match="cannot add its own AI mark"):
        create.take_run_again(take=asked, author=bob)
    assert Take.objects.count() == 1


def test_the_labelled_copy_is_made_and_served_from_a_bucket(
    s3, make_take, team, as_bob, result_bytes, tmp_path
):
    import requests

    team.ai_label_downloads = True
    team.save(update_fields=["ai_label_downloads"])
    take = make_take(provider="modellix", result=result_bytes)
    labelled_part(as_bob, take)
    labelled.take_label(take_id=take.pk)
    take.refresh_from_db()
    objects = s3.keys()  # a list of the bucket's keys
    assert take.labelled_state == "ready" and f"studio/{take.labelled_file.name}" in objects
    target = download(as_bob, take)["Location"]  # a presigned address, named as the result
    got = requests.get(target, timeout=10)
    assert got.content == s3.read(f"studio/{take.labelled_file.name}") != result_bytes
    assert "attachment;" in got.headers["Content-Disposition"]
    (tmp_path / "copy.mp4").write_bytes(got.content)
    credentials = manifest_read(tmp_path / "copy.mp4")
    assert credentials is not None and credentials.valid
