from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from studio.library.thumbnails import SPECS, missing, thumbnails_backfill


class Command(BaseCommand):
    help = (
        "Make the grid-sized poster thumbnails that clips and takes from before thumbnails "
        "existed lack. The worker's sweep also does this, a few each minute."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")

    def handle(self, *args: Any, limit: int | None = None, **options: Any) -> None:
        waiting = sum(missing(spec).count() for spec in SPECS)
        made = thumbnails_backfill(limit=limit)
        left = sum(missing(spec).count() for spec in SPECS)
        unreadable = waiting - made - left
        self.stdout.write(
            f"Made {made} thumbnail(s); {left} still to make; {unreadable} poster(s) unreadable."
        )
