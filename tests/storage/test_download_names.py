"""What a downloaded file is called: the exact Content-Disposition of takes, exports, clips."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from studio.core.filenames import content_disposition, safe_stem, window_timecode
from studio.review import shares
from tests.conftest import clip_row

WINDOW = {"start_ms": 21_120, "length_ms": 8_880, "seed": 410388421}  # 21 s + 3 frames to 30 s
HOSTILE = '..\\:*?"<evil>|\x07\u202egpj.\x1b. '


def download(client, kind, code, variant):
    return client.get(reverse("media_file", args=[kind, code, variant]) + "?download=1")


def take_of(make_take, project, name, **fields):
    clip = clip_row(project, original_name=name, fps=25.0, duration=40.0, **fields)
    take = make_take(clip=clip, export_state="ready", **WINDOW)
    take.export_file.save(f"exports/{take.code}.mp4", ContentFile(b"side by side"))
    return take


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        (
            "Harbour dawn.mp4",
            'attachment; filename="Harbour dawn_v1_00-21-03_00-30-00_s410388421.mp4"',
        ),
        (
            "Plage à Nice (final).mov",
            'attachment; filename="Plage a Nice (final)_v1_00-21-03_00-30-00_s410388421.mp4"; '
            "filename*=utf-8''Plage%20%C3%A0%20Nice%20%28final%29_v1_00-21-03_00-30-00_s410388421.mp4",
        ),
        (
            "港口 黎明.mp4",
            'attachment; filename="v1_00-21-03_00-30-00_s410388421.mp4"; '
            "filename*=utf-8''%E6%B8%AF%E5%8F%A3%20%E9%BB%8E%E6%98%8E_v1_00-21-03_00-30-00_s410388421.mp4",
        ),
        (
            # A leading "..", Windows' forbidden characters, a bell, a right-to-left override that
            # would show "gpj." backwards, an escape, trailing dots and spaces.
            HOSTILE + ".mp4",
            'attachment; filename="evil-gpj_v1_00-21-03_00-30-00_s410388421.mp4"',
        ),
    ],
)
def test_a_takes_result_is_named_by_clip_version_window_and_seed(
    as_carol, project, make_take, name, disposition
):
    take = take_of(make_take, project, name)
    assert download(as_carol, "take", take.code, "result")["Content-Disposition"] == disposition
    export = download(as_carol, "take", take.code, "export_file")["Content-Disposition"]
    assert export == disposition.replace(".mp4", "-sbs.mp4")


def test_two_takes_of_a_clip_and_the_clips_own_files_never_share_a_name(
    as_carol, project, make_take
):
    first = take_of(make_take, project, "Harbour dawn.mp4")
    again = make_take(clip=first.clip, **WINDOW)
    names = {
        download(as_carol, "take", first.code, "result")["Content-Disposition"],
        download(as_carol, "take", again.code, "result")["Content-Disposition"],
        download(as_carol, "take", first.code, "export_file")["Content-Disposition"],
        download(as_carol, "clip", first.clip.code, "source")["Content-Disposition"],
    }
    assert names == {
        'attachment; filename="Harbour dawn_v1_00-21-03_00-30-00_s410388421.mp4"',
        'attachment; filename="Harbour dawn_v2_00-21-03_00-30-00_s410388421.mp4"',
        'attachment; filename="Harbour dawn_v1_00-21-03_00-30-00_s410388421-sbs.mp4"',
        'attachment; filename="Harbour dawn.mp4"',
    }


def test_an_hour_long_clip_counts_hours_and_reserved_names_are_avoided(
    as_carol, project, make_take
):
    clip = clip_row(project, original_name="con.mp4", fps=23.976, duration=4000.0)
    take = make_take(clip=clip, start_ms=3_599_500, length_ms=10_000, seed=5)
    disposition = download(as_carol, "take", take.code, "result")["Content-Disposition"]
    assert disposition == 'attachment; filename="con_v1_00-59-59-12_01-00-09-12_s5.mp4"'
    # The source alone would be "con.mp4", a device name on Windows.
    source = download(as_carol, "clip", clip.code, "source")["Content-Disposition"]
    assert source == 'attachment; filename="con_.mp4"'


def test_names_are_length_limited_and_never_empty():
    long = safe_stem("é" * 300)
    assert len(long.encode()) <= 120 and long == "é" * 60
    assert safe_stem(" . \u200b ") == "file"
    assert window_timecode(29_999, 25, hours=False) == "00-30-00"  # rounds to the next second
    assert window_timecode(90_000, None, hours=False) == "01-30"  # no rate known: no frames
    assert content_disposition("a.mp4", as_attachment=False) == 'inline; filename="a.mp4"'


def test_a_share_link_downloads_the_take_under_the_same_name(client, project, make_take, bob):
    take = take_of(make_take, project, "Plage à Nice.mov")
    _, token = shares.share_create(
        take=take, author=bob, days=1, allow_download=True, show_prompt=False
    )
    disposition = client.get(f"/s/{token}/media/result?download=1")["Content-Disposition"]
    assert disposition == (
        'attachment; filename="Plage a Nice_v1_00-21-03_00-30-00_s410388421.mp4"; '
        "filename*=utf-8''Plage%20%C3%A0%20Nice_v1_00-21-03_00-30-00_s410388421.mp4"
    )
