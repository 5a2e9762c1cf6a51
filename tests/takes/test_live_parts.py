"""The parts of a page that follow background work until it is done (issue 23, item 6): the
side-by-side export on the take page, and each upload's row on the project page. Each is a
template partial its own view serves; live.js polls it while it says data-pending."""

from __future__ import annotations

import errno
import json
import uuid

import av
import pytest
from django.urls import reverse

from studio.models import Clip, MediaState, Take
from studio.takes import gallery
from tests.conftest import clip_row, upload_clip

pytestmark = pytest.mark.django_db


def export_part(client, take: Take) -> str:
    response = client.get(reverse("take_export_status", args=[take.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_export_part_is_pending_while_made_and_says_why_it_failed(
    as_bob, as_carol, as_dave, make_take
):
    take = make_take()
    assert as_bob.post(reverse("take_export", args=[take.code])).status_code == 302
    take.refresh_from_db()
    working = export_part(as_bob, take)
    assert 'id="take-export"' in working and "data-pending" in working
    assert "Making the side-by-side video" in working and "reload" not in working
    # The take has no input clip: the export cannot be made and must not wait forever.
    gallery.take_export(take_id=take.pk)
    take.refresh_from_db()
    assert take.export_state == "failed"
    failed = export_part(as_bob, take)
    assert "data-pending" not in failed
    assert "The side-by-side export failed: the part of the clip this take" in failed
    assert "Try again" in failed
    as_viewer = export_part(as_carol, take)
    assert "The side-by-side export failed" in as_viewer and "Try again" not in as_viewer
    assert as_dave.get(reverse("take_export_status", args=[take.code])).status_code == 404
    # Try again starts over, without the old reason.
    as_bob.post(reverse("take_export", args=[take.code]))
    take.refresh_from_db()
    assert (take.export_state, take.export_reason) == ("working", "")


def test_the_export_part_offers_the_download_once_ready(as_bob, make_take):
    take = make_take(export_state="ready")
    ready = export_part(as_bob, take)
    assert "data-pending" not in ready and "Download side-by-side" in ready
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert 'class="take-export-live" aria-live="polite"' in page


def test_export_failures_in_words():
    assert "could not be decoded" in gallery.export_failure(av.InvalidDataError(1, "bad"))
    full = OSError(errno.ENOSPC, "No space left on device")
    assert gallery.export_failure(full).startswith("the server's disk is full")
    refused = OSError(errno.EACCES, "Permission denied")
    assert "(Permission denied)" in gallery.export_failure(refused)
    assert "unexpected" in gallery.export_failure(RuntimeError("boom"))


def upload_part(client, clip: Clip) -> str:
    response = client.get(reverse("clip_upload_status", args=[clip.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_upload_row_follows_the_clip_until_ready(as_bob, as_carol, as_dave, project, samples):
    clip = upload_clip(as_bob, project, samples["tiny.mp4"], prepare=False)
    checking = upload_part(as_bob, clip)
    assert f'id="upload-{clip.code}"' in checking and "data-pending" in checking
    assert "checking the video" in checking
    Clip.objects.filter(pk=clip.pk).update(state=MediaState.PROCESSING, progress=0.42)
    preparing = upload_part(as_bob, clip)
    assert "Preparing the preview · 42 %" in preparing and "data-pending" in preparing
    Clip.objects.filter(pk=clip.pk).update(state=MediaState.RECEIVED, progress=0)
    from studio.library import clips

    clips.clip_process(clip_id=clip.pk)
    ready = upload_part(as_carol, clip)  # anyone in the team may look
    assert "data-pending" not in ready and ">Ready<" in ready
    assert reverse("clip_detail", args=[clip.code]) in ready
    assert as_dave.get(reverse("clip_upload_status", args=[clip.code])).status_code == 404


def test_an_upload_answer_says_where_to_follow_it(as_bob, project, samples):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_bob.post(
        reverse("clip_upload", args=[project.code]),
        {
            "file": SimpleUploadedFile("h.mp4", samples["h264.mp4"].read_bytes()),
            "upload_key": str(uuid.uuid4()),
        },
        HTTP_ACCEPT="application/json",
    )
    answer = json.loads(response.content)
    assert answer["status"] == reverse("clip_upload_status", args=[answer["code"]])


def test_a_rejected_upload_row_gives_the_reason(as_bob, project):
    clip = clip_row(project, reason="The file is incomplete.")
    Clip.objects.filter(pk=clip.pk).update(state=MediaState.REJECTED)
    clip.refresh_from_db()
    rejected = upload_part(as_bob, clip)
    assert "data-pending" not in rejected
    assert "Rejected: The file is incomplete." in rejected
