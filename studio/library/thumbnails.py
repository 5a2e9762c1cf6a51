"""Grid-sized copies of posters for rows made before thumbnails existed.

New clips and takes get their thumbnail from the worker when the poster is made. Older rows get
theirs here: a few at a time from the one-minute sweep, or all at once with
`manage.py make_thumbnails`. Pages show the full poster until a row has its thumbnail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.db import models
from PIL import UnidentifiedImageError

from studio.media.transcode import make_thumbnail
from studio.models import Clip, MediaState, Take, TakeState
from studio.storage.files import delete_files, local_copy, scratch_dir, store_path

log = logging.getLogger(__name__)
SWEEP_BATCH = 20  # a thumbnail takes milliseconds; this keeps one sweep tick short


@dataclass(frozen=True)
class Spec:
    model: type[models.Model]
    poster: str
    thumb: str
    ready: models.Q

    @property
    def width(self) -> str:
        return f"{self.thumb}_width"

    @property
    def height(self) -> str:
        return f"{self.thumb}_height"


SPECS = (
    Spec(Clip, "poster", "poster_thumb", models.Q(state=MediaState.READY)),
    Spec(Take, "result_poster", "result_thumb", models.Q(state=TakeState.SUCCEEDED)),
)


def missing(spec: Spec) -> models.QuerySet:
    """Rows with a poster and no thumbnail that was not already found impossible to make."""
    return (
        spec.model._default_manager.filter(spec.ready)
        .exclude(**{spec.poster: ""})
        .filter(**{spec.thumb: "", f"{spec.width}__isnull": True})
        .order_by("pk")
    )


def thumbnail_make(*, obj: models.Model, spec: Spec) -> bool:
    """Make and store the thumbnail of one row's poster; True when this call saved it.

    Safe to run twice at once: the row is updated by compare-and-set and the loser removes its
    own copy. A poster that cannot be read is marked (width 0) so it is not tried every minute.
    """
    poster = getattr(obj, spec.poster)
    field = getattr(obj, spec.thumb)
    folder = PurePosixPath(poster.name).parent
    try:
        with local_copy(poster) as path, scratch_dir() as tmp:
            width, height = make_thumbnail(path, tmp / "poster-thumb.jpg")
            store_path(field, f"{folder}/poster-thumb.jpg", tmp / "poster-thumb.jpg")
    except (OSError, UnidentifiedImageError, ValueError) as error:
        log.warning("no thumbnail for %s %s: %s", spec.model.__name__, obj.pk, error)
        spec.model._default_manager.filter(pk=obj.pk, **{spec.thumb: ""}).update(**{spec.width: 0})
        return False
    saved = spec.model._default_manager.filter(pk=obj.pk, **{spec.thumb: ""}).update(
        **{spec.thumb: field.name, spec.width: width, spec.height: height}
    )
    if not saved:  # another worker was quicker
        delete_files(field)
    return bool(saved)


def thumbnails_backfill(*, limit: int | None = SWEEP_BATCH) -> int:
    """Make missing thumbnails, at most `limit` (None: all); returns how many were made."""
    made = 0
    for spec in SPECS:
        rows = missing(spec)
        for obj in rows if limit is None else rows[: max(0, limit - made)]:
            made += thumbnail_make(obj=obj, spec=spec)
    if made:
        log.info("made %d poster thumbnail(s)", made)
    return made
