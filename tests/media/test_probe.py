"""Probing: which files are accepted, what is recorded, and the reason given for the rest."""

from __future__ import annotations

import pytest

from studio.media.probe import MediaRejected, browser_can_play, human_duration, probe


def reason(path, max_seconds: float = 600) -> str:
    with pytest.raises(MediaRejected) as caught:
        probe(path, max_seconds=max_seconds)
    return caught.value.message


@pytest.mark.parametrize(
    ("name", "container", "codec", "audio", "size", "playable"),
    [
        ("h264.mp4", "mp4", "h264", "aac", (320, 240), True),
        ("vp9.webm", "webm", "vp9", "opus", (320, 240), True),
        ("mpeg4.mkv", "mkv", "mpeg4", "aac", (320, 240), False),
        ("prores.mov", "mov", "prores", "", (320, 240), False),
        ("hevc-portrait.mov", "mov", "hevc", "aac", (240, 320), False),
    ],
)
def test_accepted_videos(samples, name, container, codec, audio, size, playable):
    info = probe(samples[name], max_seconds=600)
    assert (info.container, info.video_codec, info.audio_codec) == (container, codec, audio)
    assert (info.width, info.height) == size
    assert info.has_audio is bool(audio)
    assert info.fps == 24.0
    assert browser_can_play(info) is playable


def test_rotation_is_applied_to_display_size(samples):
    info = probe(samples["hevc-portrait.mov"], max_seconds=600)
    assert info.rotation == 270  # stored as "turn 90 degrees clockwise", as phones do
    assert (info.coded_width, info.coded_height) == (320, 240)
    assert (info.width, info.height) == (240, 320)
    assert info.duration == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("text.mp4", "This file is a text file, not a video"),
        ("empty.mp4", "The file is empty (0 bytes)."),
        ("image.mp4", "This file is a PNG image, not a video"),
        ("audio-only.mp4", "only sound; it has no video stream"),
        ("truncated.mp4", "The file is incomplete"),
        ("header-only.mp4", "incomplete"),
        ("wide.mp4", "declares 8320×32 pixels; Cutroom accepts at most 8192"),
    ],
)
def test_rejected_files_say_why(samples, name, expected):
    assert expected in reason(samples[name])


def test_too_long_names_both_lengths(samples):
    message = reason(samples["long.mp4"], max_seconds=10)
    assert message == (
        "The clip is 12 seconds long; the limit is 10 seconds. Trim it before uploading."
    )


def test_human_duration():
    assert human_duration(14 * 60 + 20) == "14 minutes 20 seconds"
    assert human_duration(600) == "10 minutes"
    assert human_duration(1) == "1 second"
    assert human_duration(9.5) == "9.5 seconds"


def test_playlist_is_never_given_to_ffmpeg(tmp_path):
    playlist = tmp_path / "sneaky.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    assert "This file is a playlist" in reason(playlist)
