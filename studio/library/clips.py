"""Source clips: take an upload in, check and prepare it in the worker, cut provider inputs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from studio.library import processing as media
from studio.media.filmstrip import Filmstrip
from studio.media.inputs import check_window, make_input
from studio.media.probe import (
    MediaRejected,
    VideoInfo,
    browser_can_play,
    describe_non_video,
    probe,
    sniff_container,
)
from studio.media.shots import shot_cuts
from studio.media.transcode import fit, make_poster, make_thumbnail, transcode
from studio.models import Clip, InputClip, MediaState, Project
from studio.projects.history import activity_log
from studio.storage.files import (
    delete_files,
    extension_of,
    local_copy,
    safe_display_name,
    scratch_dir,
    sha256_of,
    store_content,
    store_path,
)

log = logging.getLogger(__name__)
VIDEO_EXTENSIONS = {"mp4", "mov", "m4v", "webm", "mkv"}
PROXY_BOX = {"long_max": 1920, "short_max": 1080}
SHOTS_SHARE = 0.2  # of the progress bar, when a proxy is made too (decoding only is quicker)


def clip_receive(
    *, project: Project, author: User, upload: UploadedFile, upload_key: uuid.UUID
) -> tuple[Clip, bool]:
    """Store an upload as a new clip and queue its checks. Returns (clip, created).

    The same upload_key twice (a form sent twice) gives back the first clip.
    """
    existing = Clip.objects.filter(project=project, upload_key=upload_key).first()
    if existing is not None:
        return existing, False
    _refuse_obvious_non_video(upload)
    clip = Clip(
        project=project,
        uploaded_by=author,
        upload_key=upload_key,
        original_name=safe_display_name(upload.name or "", "clip"),
        size=upload.size or 0,
        sha256=getattr(upload, "sha256", ""),
    )
    ext = extension_of(upload.name or "", VIDEO_EXTENSIONS, "bin")
    # A disk or bucket that fails part-way leaves nothing, and no row (the view answers 503).
    store_content(clip.source, f"clips/{project.code}/{clip.code}/source.{ext}", upload)
    try:
        with transaction.atomic():
            clip.save()
    except IntegrityError:
        delete_files(clip.source)
        return Clip.objects.get(project=project, upload_key=upload_key), False
    project.touch()
    activity_log(
        team=project.team,
        actor=author,
        verb="uploaded",
        summary=f"uploaded {clip.original_name}",
        project=project,
    )
    media.enqueue(clip)
    return clip, True


def _refuse_obvious_non_video(upload: UploadedFile) -> None:
    """Answer at once for files that are plainly not video; the worker checks everything else."""
    if not upload.size:
        raise MediaRejected("The file is empty (0 bytes).")
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    if sniff_container(head) is None:
        what = describe_non_video(head)
        if what:
            raise MediaRejected(f"This file is {what}, not a video Cutroom can use.")
        raise MediaRejected("This file is not a video. Cutroom accepts MP4, MOV, M4V, WebM or MKV.")


def clip_process(*, clip_id: int) -> None:
    media.run(Clip, clip_id, _prepare)


def _prepare(clip: Clip) -> None:
    base = f"clips/{clip.project.code}/{clip.code}"
    with local_copy(clip.source) as path, scratch_dir() as tmp:
        sha = clip.sha256 or sha256_of(path)
        info = probe(path, max_seconds=settings.MAX_SOURCE_SECONDS)
        clip.report_progress(0.02)
        make_poster(path, tmp / "poster.jpg", info)
        thumb_width, thumb_height = make_thumbnail(tmp / "poster.jpg", tmp / "poster-thumb.jpg")
        proxy = not browser_can_play(info)
        share = 0.95 * (SHOTS_SHARE if proxy else 1.0)
        strip = _filmstrip_for(info)
        cuts = _shots_or_none(
            clip,
            path,
            info.duration,
            progress=lambda done: clip.report_progress(0.05 + share * done),
            filmstrip=strip,
        )
        strip_fields = _store_filmstrip(clip, strip if cuts is not None else None, base, tmp)
        if proxy:
            transcode(
                path,
                tmp / "proxy.mp4",
                info=info,
                size=fit(info.width, info.height, **PROXY_BOX),
                progress=lambda done: clip.report_progress(0.05 + share + (0.95 - share) * done),
            )
            store_path(clip.proxy, f"{base}/proxy.mp4", tmp / "proxy.mp4")
        store_path(clip.poster, f"{base}/poster.jpg", tmp / "poster.jpg")
        store_path(clip.poster_thumb, f"{base}/poster-thumb.jpg", tmp / "poster-thumb.jpg")
    fields = {name: getattr(info, name) for name in INFO_FIELDS}
    saved = media.finish(
        clip,
        MediaState.READY,
        poster=clip.poster.name,
        poster_thumb=clip.poster_thumb.name,
        poster_thumb_width=thumb_width,
        poster_thumb_height=thumb_height,
        proxy=clip.proxy.name or "",
        sha256=sha,
        shot_cuts=cuts,
        **strip_fields,
        **fields,
    )
    if not saved:  # deleted, or another worker took over while this one was slow
        delete_files(clip.poster, clip.poster_thumb, clip.proxy, clip.filmstrip)


def _filmstrip_for(info: VideoInfo) -> Filmstrip:
    return Filmstrip(
        duration=info.duration, width=info.width, height=info.height, rotation=info.rotation
    )


def _store_filmstrip(clip: Clip, strip: Filmstrip | None, base: str, tmp: Path) -> dict[str, Any]:
    """Store the filmstrip collected while the shot cuts were found: the Clip fields to save.

    None (the decode failed part-way) or no picture at all stores nothing: the cut page then
    shows a plain track, as for a clip from before filmstrips.
    """
    if strip is None or not strip.pictures:
        return {}
    layout = strip.save(tmp / "filmstrip.jpg")
    store_path(clip.filmstrip, f"{base}/filmstrip.jpg", tmp / "filmstrip.jpg")
    return {
        "filmstrip": clip.filmstrip.name,
        "filmstrip_every": layout.every,
        "filmstrip_tiles": layout.tiles,
        "filmstrip_tile_width": layout.width,
        "filmstrip_tile_height": layout.height,
    }


def _shots_or_none(
    clip: Clip,
    path: Path,
    duration: float,
    *,
    progress: Callable[[float], None] | None = None,
    filmstrip: Filmstrip | None = None,
) -> list[float] | None:
    """The clip's hard shot cuts, or None when they cannot be found.

    Shot cuts only suggest where windows start and end, so a clip whose cuts cannot be found
    (a decoder error part-way, a bug) is still ready: it is logged, and the cut page proposes
    windows without them.
    """
    try:
        return shot_cuts(path, duration=duration, progress=progress, filmstrip=filmstrip)
    except Exception:
        log.exception("shot cuts of clip %s could not be found", clip.pk)
        return None


def clip_shots_detect(*, clip: Clip, again: bool = False) -> bool:
    """Find and store the shot cuts and the filmstrip of a ready clip that lacks either (any
    ready clip with `again`), in one decode. True when this call stored them."""
    base = f"clips/{clip.project.code}/{clip.code}"
    strip = _filmstrip_for(video_info(clip))
    with local_copy(clip.source) as path, scratch_dir() as tmp:
        cuts = _shots_or_none(clip, path, clip.duration or 0.0, filmstrip=strip)
        if cuts is None:
            return False
        old = clip.filmstrip.name
        fields = _store_filmstrip(clip, strip, base, tmp)
    rows = Clip.objects.filter(pk=clip.pk, state=MediaState.READY)
    if not again:
        rows = rows.filter(Q(shot_cuts__isnull=True) | Q(filmstrip=""))
    if not rows.update(shot_cuts=cuts, **fields):  # not ready any more, or done meanwhile
        if fields:
            delete_files(clip.filmstrip)
        return False
    if old and fields and old != fields["filmstrip"]:  # --again: the strip made before goes
        delete_files(Clip(filmstrip=old).filmstrip)
    return True


def clips_without_shots() -> QuerySet[Clip]:
    """Ready clips whose shot cuts or filmstrip are not known (from before they were made when
    a clip is prepared, or finding them failed)."""
    return Clip.objects.filter(
        Q(shot_cuts__isnull=True) | Q(filmstrip=""), state=MediaState.READY
    ).order_by("pk")


INFO_FIELDS = (
    "container",
    "video_codec",
    "audio_codec",
    "has_audio",
    "duration",
    "fps",
    "width",
    "height",
    "rotation",
    "pix_fmt",
)


def video_info(clip: Clip) -> VideoInfo:
    """The probe result, rebuilt from a ready clip's stored fields."""
    turned = clip.rotation in (90, 270)
    return VideoInfo(
        container=clip.container,
        video_codec=clip.video_codec,
        audio_codec=clip.audio_codec,
        duration=clip.duration or 0.0,
        fps=clip.fps or 0.0,
        width=clip.width or 0,
        height=clip.height or 0,
        coded_width=(clip.height if turned else clip.width) or 0,
        coded_height=(clip.width if turned else clip.height) or 0,
        rotation=clip.rotation,
        pix_fmt=clip.pix_fmt,
        has_audio=clip.has_audio,
        bit_rate=0,
    )


def input_clip_prepare(
    *,
    clip: Clip,
    start: float,
    length: float,
    progress: Callable[[float], None] | None = None,
) -> InputClip:
    """The provider-ready cut of [start, start+length) of a ready clip; made once, then reused.

    Raises MediaRejected with a clear reason when the window or the clip cannot conform.
    """
    if clip.state != MediaState.READY:
        raise MediaRejected("The clip is not ready yet.")
    start_ms, length_ms = round(start * 1000), round(length * 1000)
    existing = InputClip.objects.filter(clip=clip, start_ms=start_ms, length_ms=length_ms).first()
    if existing is not None and existing.file.storage.exists(existing.file.name or ""):
        return existing
    info = video_info(clip)
    check_window(info, start_ms / 1000, length_ms / 1000)
    with local_copy(clip.source) as path, scratch_dir() as tmp:
        out = tmp / "input.mp4"
        encoded = make_input(
            path, out, info=info, start=start_ms / 1000, length=length_ms / 1000, progress=progress
        )
        item = existing or InputClip(clip=clip, start_ms=start_ms, length_ms=length_ms)
        item.width, item.height, item.duration = encoded.width, encoded.height, encoded.duration
        item.has_audio, item.size, item.sha256 = encoded.has_audio, encoded.size, sha256_of(out)
        name = f"clips/{clip.project.code}/{clip.code}/input-{start_ms}-{length_ms}.mp4"
        store_path(item.file, name, out)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # another worker made the same cut at the same time
        winner = InputClip.objects.get(clip=clip, start_ms=start_ms, length_ms=length_ms)
        # A bucket writes both under one key: that object is now the winner's, so it stays.
        if item.file.name != winner.file.name:
            delete_files(item.file)
        return winner
    return item
