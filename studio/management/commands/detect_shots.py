from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from studio.library.clips import clip_shots_detect, clips_without_shots
from studio.models import Clip, MediaState


class Command(BaseCommand):
    help = (
        "Find the shot cuts and make the filmstrip of ready clips that lack either: clips from "
        "before both were made when a clip is prepared, and clips where that failed. Each clip is "
        "decoded in full (a few seconds a minute of 1080p)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")
        parser.add_argument(
            "--again", action="store_true", help="Find them again for every ready clip."
        )

    def handle(
        self, *args: Any, limit: int | None = None, again: bool = False, **options: Any
    ) -> None:
        rows = (
            Clip.objects.filter(state=MediaState.READY).order_by("pk")
            if again
            else clips_without_shots()
        )
        if limit is not None:
            rows = rows[: max(0, limit)]
        found = failed = 0
        for clip in rows.select_related("project"):
            if clip_shots_detect(clip=clip, again=again):
                found += 1
            else:
                failed += 1
        left = clips_without_shots().count()
        self.stdout.write(
            f"Found the shot cuts and made the filmstrip of {found} clip(s); {failed} could not "
            f"be read; {left} clip(s) still without them."
        )
